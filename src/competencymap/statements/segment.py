"""Split learning outcomes and job postings into statements, keeping offsets.

Every :class:`Statement` points into the text it came from:
``statement.text == original[statement.start:statement.end]``. Bullets, numbering,
headings and outcome lead-ins ("Students will be able to:") are cut off by moving the
span, never by rewriting the text.

The steps, for each line (CR, LF and CRLF all end a line):

1. cut the line into pieces at tabs, inline bullets (``•``, ``▪``, ``|``...) and inline
   numbering when a line holds two or more markers (``(1) ... (2) ...``);
2. strip a leading bullet or number (``•``, ``-``, ``*``, ``1.``, ``1)``, ``a)``, ``(i)``,
   ``LO2:``, ``1.6`` before a capitalised word);
3. drop headings (a short piece ending in ``:``, or a known heading such as
   "Requirements" / "What you will learn"); a known heading before a colon on the same
   line ("Requirements: Java") is cut and the rest kept;
4. split sentences at ``.``, ``!``, ``?`` (not after abbreviations such as "e.g.", "i.e.",
   "Dr.", "U.S.", nor inside "Node.js", "Python 3.11", ".NET" or decimals);
5. strip an outcome lead-in ("By the end of this course, learners will be able to");
6. split statements longer than ``max_chars`` at clause boundaries (``;``, then
   ``, and`` / `` and `` between long clauses, then commas, then spaces);
7. drop pieces with fewer than two letters or digits, and, for postings, boilerplate.

Boilerplate rule (postings only): a statement is dropped when it matches one of
:data:`BOILERPLATE_PATTERNS` (pay, benefits, equal opportunity / accommodation /
diversity, how to apply, deadlines, job-detail lines such as "Job type: Full-time"), or
when it sits under a heading that names such a section ("Benefits", "What we offer",
"How to apply"...) until the next heading. Company introductions and marketing lines are
kept: they often name the tools and domains of the job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from competencymap._common.errors import InputTextError

KINDS = ("outcomes", "posting", "auto")


@dataclass(frozen=True)
class Statement:
    """A piece of the original text: ``text == original[start:end]``.

    ``reason`` is empty for kept statements and names the rule for dropped ones. ``role`` is
    the role of the line it comes from (`statements.roles`: duty, requirement, asset...) and
    ``line`` that line's start offset, once the lines have been read (-1 before). ``language`` is
    its detected language (`statements.language`), '' until detected or when too short to judge.
    """

    text: str
    start: int
    end: int
    reason: str = field(default="", compare=False)
    role: str = field(default="", compare=False)
    line: int = field(default=-1, compare=False)
    language: str = field(default="", compare=False)


Span = tuple[int, int]

# --- boilerplate ----------------------------------------------------------------------

_I = re.IGNORECASE
_MONEY = r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?\s*[kKmM]?|\d[\d,]*(?:\.\d+)?\s*[kK]?\s*(?:\$|€|£|CAD|USD|EUR|GBP|dollars))"
_PERIOD = r"(?:/\s*|per\s+|an?\s+|each\s+)(?:hour|hr|year|yr|annum|month|week|day)\b"

#: (reason, pattern) pairs; a posting statement matching any pattern is boilerplate.
BOILERPLATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("salary", re.compile(_MONEY + r"\s*(?:-|–|—|to)\s*(?:[$€£]\s?)?\d", _I)),
    ("salary", re.compile(_MONEY + r"\s*(?:CAD|USD|EUR|GBP)?\s*" + _PERIOD, _I)),
    ("salary", re.compile(
        r"\b(?:salary|pay|wage|compensation)\s+(?:range|rate|scale|band|grade|package|of|is|will be|"
        r"commensurate|starting|offered|:)|\b(?:competitive|attractive|base|annual|starting|hourly)\s+"
        r"(?:salary|salaries|pay|wages?|compensation|rate)\b|\bsalary\s*:|\bpay\s*:", _I)),
    ("benefits", re.compile(
        # "dental" only as a benefit ("dental coverage", "health and dental"), never a dental assistant's duty
        r"\b(?:dental (?:care|coverage|plans?|insurance|benefits?)|(?:health|medical)(?:,| and| &) dental|"
        r"dental(?:,| and| &) (?:vision|health|extended|drug|medical)|vision care|eye care|health (?:insurance|benefits|coverage|spending account)|"
        r"extended health|medical (?:insurance|benefits|coverage)|life insurance|disability insurance|"
        r"pension|rrsp|dpsp|401\s?\(?k\)?|retirement (?:plan|savings)|paid (?:time off|vacation|holidays?|"
        r"leave|sick)|\bpto\b|vacation|parental leave|maternity|employee assistance|stock options?|"
        r"equity (?:grant|package|options?)|wellness (?:program|allowance|benefit|account)|gym membership|"
        r"tuition reimbursement|benefits? (?:package|plan|program)|group benefits|employee discount|"
        r"flexible (?:hours|schedule|working|work arrangements?)|work[- ]life balance|"
        r"(?:remote|hybrid) work(?:ing)? (?:options?|arrangements?|policy)|work from home|"
        r"free (?:lunch|snacks|parking|coffee)|bonus (?:program|plan|structure)|performance bonus|"
        r"(?:we offer|what we offer|perks)\b)", _I)),
    ("equal_opportunity", re.compile(
        r"\bequal (?:employment )?opportunit|\beeo\b|affirmative action|without regard to|"
        r"regardless of (?:race|age|gender|sex|religion|disability|background)|"
        r"diversity(?:,| and| &) (?:equity|inclusion)|\bdiverse and inclusive|inclusive (?:workplace|"
        r"environment|employer|culture)|employment equity|accommodations? (?:is|are|will be) available|"
        r"request (?:an? )?accommodation|accommodations? (?:during|for|throughout) (?:the |our )?"
        r"(?:recruitment|hiring|selection|interview|application|assessment)|accessibility for ontarians|"
        r"\baoda\b|encourage(?:s)? (?:applications|applicants) from|(?:visible|racialized) minorit|"
        r"persons with disabilities|indigenous peoples|"  # ("people with disabilities" alone may be a care posting's clients)
        r"(?:race|colou?r|religion|creed|gender identity|sexual orientation|national origin|veteran status)"
        r"(?:,| or| and)", _I)),
    ("how_to_apply", re.compile(
        r"\bhow to apply\b|\bto apply\b|\bapply (?:now|today|here)\b|\bapply online\s*(?:[.!]|$|at\b|via\b|"
        r"through\b)|\bapply (?:via|through|at) (?:our|the|this|www|http)|submit (?:your|a|an) (?:resume|"
        r"cv|cover letter|application)|send (?:your|a|an) (?:resume|cv|cover letter|application)|"
        r"(?:resume|cv) (?:and|&) (?:a )?cover letter|only (?:those )?(?:selected|shortlisted|successful) "
        r"(?:candidates|applicants)|thank all (?:applicants|candidates)|will be contacted|"
        r"click (?:on )?(?:the )?[\"']?apply|interested (?:candidates|applicants)", _I)),
    ("deadline", re.compile(
        r"\b(?:application|closing|submission) (?:deadline|date)|deadline (?:to|for) (?:apply|"
        r"applications|submission)|applications? (?:will be )?(?:accepted|received|reviewed) "
        r"(?:until|by|up to|on a rolling)|(?:posting|competition|job|position) (?:closes|closing|expires)|"
        r"\bapply (?:by|before) \w+", _I)),
    ("job_details", re.compile(
        r"^(?:job type|employment type|position type|work location|location|schedule|shift|start date|"
        r"contract length|reference (?:id|number|no)|job (?:id|number|reference)|req(?:uisition)? "
        r"(?:id|number)|posted on|date posted|work setting|work term|hours|salary|pay)\s*:", _I)),
]

# Headings that open a boilerplate section of a posting, with the reason they give.
_BOILERPLATE_SECTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("benefits", re.compile(r"benefits|perks|what we offer|what's in it for you|what’s in it for you|"
                            r"why (?:join|work (?:with|for)) us|our offer|we offer", _I)),
    ("salary", re.compile(r"salary|compensation|pay|wages?", _I)),
    ("how_to_apply", re.compile(r"how to apply|to apply|application process|next steps", _I)),
    ("equal_opportunity", re.compile(r"equal (?:employment )?opportunit|diversity|inclusion|accessibility|"
                                     r"accommodations?|our commitment", _I)),
]


# Statements that open like a duty or a requirement are about the job, not the offer:
# "Administer group benefits and pension remittances" is kept in a payroll posting.
_DUTY_VERBS = (
    "administer|administrate|process|prepare|calculate|reconcile|manage|coordinate|handle|negotiate|"
    "advise|oversee|maintain|track|audit|verify|review|enrol|enroll|update|respond|answer|assist|"
    "liaise|support|design|develop|build|analy[sz]e|evaluate|implement|ensure|monitor|report|"
    "communicate|explain|apply|plan|lead|train|deliver|create|write|conduct|perform|provide|use"
)
_REQUIREMENT_OPENER = re.compile(
    rf"(?:(?:{_DUTY_VERBS})\b|(?:(?:strong|excellent|solid|good|proven|demonstrated|working|sound|"
    r"thorough|deep|in-depth|practical|hands-on)\s+)*(?:experience|knowledge|familiarity|understanding|"
    r"proficiency|ability|expertise|background|degree|diploma|certification)\b|\d+\+?\s*(?:years?|yrs))",
    _I,
)
_OFFER_REASONS = frozenset({"salary", "benefits"})


def boilerplate_reason(text: str) -> str:
    """The reason a posting statement counts as boilerplate, or '' when it does not."""
    duty = bool(_REQUIREMENT_OPENER.match(text.lstrip()))
    for reason, pattern in BOILERPLATE_PATTERNS:
        if duty and reason in _OFFER_REASONS:
            continue
        if pattern.search(text):
            return reason
    return ""


# --- headings and lead-ins --------------------------------------------------------------

_HEADING_WORDS = (
    r"requirements?|qualifications?|responsibilit(?:y|ies)|duties|skills?(?: and (?:experience|"
    r"qualifications|competencies))?|key (?:responsibilities|skills|duties|requirements)|benefits|perks|"
    r"about (?:us|you|the (?:role|company|team|job|position|opportunity|course|program(?:me)?))|"
    r"what (?:you(?:'ll|’ll| will) (?:do|learn|bring|need|gain|get)|we(?:'re|’re| are) looking for|"
    r"we offer|you bring|you need)|who you are|who we are|nice[- ]to[- ]haves?|bonus points|assets?|"
    r"(?:preferred|minimum|required|basic|desired|additional|essential|assets?) (?:qualifications|skills|"
    r"requirements|experience)|must[- ]haves?|(?:job|role|position|course|program(?:me)?) "
    r"(?:description|summary|overview|details|objectives|outcomes)|overview|summary|description|"
    r"(?:(?:course|program(?:me)?|module|unit|intended|expected) )?(?:learning )?(?:outcomes|objectives)|"
    r"learning outcomes|competencies|prerequisites?|assessments?|education|experience|"
    r"(?:the|your) (?:role|opportunity|profile|team)|how to apply|compensation|salary|what we offer|"
    r"why join us|tools(?: and technologies)?|technologies|tech stack|equal opportunity(?: employer)?|"
    r"diversity(?: and inclusion)?|accommodations?|topics(?: covered)?|course content|syllabus|"
    r"key skills"
)
_HEADING = re.compile(rf"(?:{_HEADING_WORDS})", _I)
_HEADING_PREFIX = re.compile(rf"({_HEADING_WORDS})\s*:\s*(?=\S)", _I)
_MARKDOWN_EDGE = re.compile(r"^[#*_\s]+|[*_\s]+$")

_WHEN = (
    r"(?:(?:by|at) the (?:end|conclusion) of (?:this|the|each) |(?:upon|on|after) (?:the )?(?:successful(?:ly)? )?"
    r"(?:completion of|completing) (?:this|the) |after (?:taking|finishing) (?:this|the) |in this )"
    r"(?:course|program(?:me)?|module|unit|lesson|workshop|session|class|training|semester|term|"
    r"certificate|diploma|degree|subject)(?: [\w-]+)?\s*[,:]?\s*"
)
_WHO = (
    r"(?:(?:the )?(?:successful )?(?:students?|learners?|participants?|graduates?|trainees?|candidates?)|"
    r"you)\s+(?:will|should|shall|can|must|are expected to|is expected to|are able to|will have)"
)
_ABLE = (
    r"(?:\s+(?:be|become)\s+(?:able|expected|prepared|equipped|ready)\s+to|\s+have\s+the\s+(?:ability|"
    r"skills?|knowledge)\s+to|\s+be\s+capable\s+of|\s+learn\s+(?:how\s+)?to|\s+be\s+familiar\s+with)?"
)
_LEAD_IN = re.compile(
    rf"(?:{_WHEN})?(?:{_WHO}{_ABLE}|(?:students|learners|participants|you)\s+(?:learn|learn how) to)"
    rf"\s*(?:the following|:|-|–|,)?\s*(?::\s*)?|(?:{_WHEN})",
    _I,
)

# --- bullets and numbering -------------------------------------------------------------

_BULLET = re.compile(
    r"\s*(?:[•●▪■□◦○‣⁃∙·◆◇►▶➢➤✓✔☐❖→>]+|[-*–—+](?=\s)|"
    r"\(?\d{1,3}[.)](?=\s)|\(?\d{1,3}\)|\(?[a-zA-Z][.)](?=\s)|\((?:[ivxlc]{1,5}|[a-zA-Z])\)|"
    r"(?i:[ivxlc]{1,5})[.)](?=\s)|(?:LO|CLO|PLO|SLO|ILO)[ -]?\d+(?:\.\d+)*\s*[:.)-]?(?=\s)|"
    r"\d+(?:\.\d+)+\.?(?=\s+[A-Z(])|\[[ xX]?\])\s*"
)
_INLINE_BULLET = re.compile(r"\s+[•●▪■◦‣⁃∙◆►▶➢➤✓✔]+\s+|\s+[·|]\s+")
_INLINE_NUMBER = re.compile(r"(?<![\w)])\(?(?:\d{1,2}|[a-h]|i{1,3}|iv|vi{0,3})\)\s+")
_TABS = re.compile(r"\t+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x0b|\x0c|\x85")

# --- sentences -----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?:[.!?]+|…)[\"'”’)\]]*(?=\s+\S)")
_ABBREVIATIONS = frozenset(
    "e.g eg i.e ie etc vs cf al approx incl excl esp dept est min max avg misc resp no nos fig figs "
    "inc ltd co corp llc dr mr mrs ms mx prof st jr sr sq ft hr hrs yr yrs mo mos wk wks jan feb mar apr "
    "jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun ca approx. nr pp vol ed eds op ref "
    "refs govt intl assoc univ dipl cert".split()
)
_DOTTED_ABBREVIATION = re.compile(r"^(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}$")
_LAST_WORD = re.compile(r"([\w.]+)\W*$")
_SOFT_ABBREVIATIONS = frozenset({"etc"})  # end a sentence when a capital follows

# --- clauses -----------------------------------------------------------------------------

_MIN_CLAUSE = 40
_CLAUSE_BREAKS = (
    re.compile(r";\s*(?:and\s+|or\s+)?"),
    re.compile(r",?\s+(?:and|but|while|whereas|as well as)\s+"),
    re.compile(r",\s+"),
    re.compile(r"\s+"),
)
_TRAILING = re.compile(r"(?:\s*[,;]\s*(?:and|or)|[\s,;]+)$", _I)
_LEADING = re.compile(r"[\s,;:)\]]+")
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)

# --- kind detection ------------------------------------------------------------------------

_POSTING_HINTS = re.compile(
    r"\b(?:responsibilities|requirements|qualifications|job description|we are looking for|"
    r"we're looking for|we’re looking for|apply|applicants?|candidates?|salary|benefits|"
    r"the role|this role|years of experience|full[- ]time|part[- ]time|employer|hiring|"
    r"join our team|reporting to|you will be responsible)\b",
    _I,
)
_OUTCOME_HINTS = re.compile(
    r"\b(?:students?|learners?|by the end of|learning outcomes?|upon (?:successful )?completion|"
    r"course|module|will be able to|participants|graduates|curriculum|syllabus)\b",
    _I,
)


def detect_kind(text: str) -> str:
    """'posting' when the text reads like a job posting, else 'outcomes'."""
    posting = len(_POSTING_HINTS.findall(text))
    outcomes = len(_OUTCOME_HINTS.findall(text))
    return "posting" if posting > outcomes else "outcomes"


# --- public API --------------------------------------------------------------------------


def segment(text: str, *, kind: str = "auto", max_chars: int = 600) -> list[Statement]:
    """Split ``text`` into statements whose spans point into ``text``."""
    return segment_with_dropped(text, kind=kind, max_chars=max_chars)[0]


def segment_with_dropped(
    text: str, kind: str = "auto", *, max_chars: int = 600
) -> tuple[list[Statement], list[Statement]]:
    """Kept statements and dropped ones (headings, lead-ins, short pieces, boilerplate).

    Each dropped statement carries its ``reason``: 'heading', 'lead_in', 'too_short', or a
    boilerplate reason ('salary', 'benefits', 'equal_opportunity', 'how_to_apply',
    'deadline', 'job_details'), prefixed with 'section:' when dropped because of the
    heading it sits under.
    """
    _check_arguments(text, kind, max_chars)
    if not text.strip():
        return [], []
    if kind == "auto":
        kind = detect_kind(text)
    kept: list[Statement] = []
    dropped: list[Statement] = []
    section = _Section()
    for line in _lines(text):
        pieces = _pieces(text, *line)
        if not pieces:
            section.blank_line()
        for start, end, bulleted in pieces:
            heading, start = _heading(text, start, end, bulleted)
            if heading is not None:
                section.open(_heading_section(text[heading[0]:heading[1]]) if kind == "posting" else "")
                if start >= end:
                    dropped.append(_statement(text, *heading, reason="heading"))
                    continue
            else:
                section.item(bulleted)
            for sentence in _sentences(text, start, end):
                _emit(text, sentence, kind, section.reason, max_chars, kept, dropped)
    return kept, dropped


class _Section:
    """The boilerplate reason of the section being read, if any.

    A section opens at a heading and ends at the next heading, or at a blank line after
    some of its items when an unbulleted paragraph follows.
    """

    def __init__(self) -> None:
        self.reason = ""
        self.items = 0
        self.blank_after_items = False

    def open(self, reason: str) -> None:
        self.reason, self.items, self.blank_after_items = reason, 0, False

    def item(self, bulleted: bool) -> None:
        if self.blank_after_items and not bulleted:
            self.reason = ""
        self.items += 1
        self.blank_after_items = False

    def blank_line(self) -> None:
        if self.items:
            self.blank_after_items = True


# --- lines and headings, as `statements.roles` reads them ------------------------------------


def line_spans(text: str) -> list[Span]:
    """(start, end) of every line of ``text`` (CR, LF and CRLF all end a line), blank ones too."""
    return _lines(text)


def strip_bullet(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """A span past its leading bullet or number and surrounding spaces: (start, end, had_bullet)."""
    return _strip_bullet(text, start, end)


def split_heading(text: str, start: int, end: int, bulleted: bool) -> tuple[Span | None, int]:
    """The heading at the start of a piece, by the rules in the module docstring: (heading span,
    where the content starts), or (None, start) when there is none; a whole-piece heading leaves
    no content (content start == end)."""
    return _heading(text, start, end, bulleted)


def heading_section(heading_text: str) -> str:
    """The boilerplate a posting's heading opens ('section:benefits', ...), or '' for another."""
    return _heading_section(heading_text)


def strip_lead_in(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """A span past an outcome lead-in ("Students will be able to"): (start, end, had_lead_in)."""
    return _strip_lead_in(text, start, end)


# --- helpers: checks, lines, pieces --------------------------------------------------------


def _check_arguments(text: object, kind: str, max_chars: int) -> None:
    if not isinstance(text, str):
        raise InputTextError(f"text must be a string, not {type(text).__name__}")
    if kind not in KINDS:
        raise InputTextError(f"unknown text kind {kind!r}: use one of {', '.join(KINDS)}")
    if not isinstance(max_chars, int) or max_chars < 40:
        raise InputTextError(f"max_chars must be a whole number of at least 40, not {max_chars!r}")


def _statement(text: str, start: int, end: int, reason: str = "") -> Statement:
    return Statement(text[start:end], start, end, reason)


def _lines(text: str) -> list[Span]:
    spans: list[Span] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _trim(text: str, start: int, end: int) -> Span:
    """Shrink a span past surrounding spaces and dangling separators ("; and")."""
    for _ in range(3):
        before = (start, end)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        lead = _LEADING.match(text, start, end)
        if lead:
            start = lead.end()
        trail = _TRAILING.search(text, start, end)
        if trail:
            end = trail.start()
        if (start, end) == before:
            break
    return (start, end) if start < end else (start, start)


def _pieces(text: str, line_start: int, line_end: int) -> list[tuple[int, int, bool]]:
    """Parts of one line, each stripped of a leading bullet: (start, end, had_bullet)."""
    line_start, line_end, line_bulleted = _strip_bullet(text, line_start, line_end)
    out: list[tuple[int, int, bool]] = []
    for cell_start, cell_end in _split_by(text, line_start, line_end, _TABS):
        for start, end in _split_by(text, cell_start, cell_end, _INLINE_BULLET):
            start, end, bulleted = _strip_bullet(text, start, end)
            bulleted = bulleted or line_bulleted or bool(out)
            numbered = _inline_numbered(text, start, end)
            if numbered:
                out.extend((s, e, True) for s, e in numbered)
            elif start < end:
                out.append((start, end, bulleted))
    return out


def _split_by(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[Span]:
    spans: list[Span] = []
    position = start
    for match in pattern.finditer(text, start, end):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, end))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip_bullet(text: str, start: int, end: int) -> tuple[int, int, bool]:
    bulleted = False
    for _ in range(3):
        match = _BULLET.match(text, start, end)
        if not match or match.end() == start:
            break
        rest = text[match.end():end]
        if not rest.strip() and not _ALNUM.search(text[start:match.end()]):
            start = end  # a lone bullet
            break
        if not rest.strip():
            break  # "1." or "a)" alone: keep as text, dropped later as too short
        start = match.end()
        bulleted = True
    start, end = _trim(text, start, end)
    return start, end, bulleted


def _inline_numbered(text: str, start: int, end: int) -> list[Span]:
    """Split "(1) do this (2) do that" when a piece holds two or more inline markers."""
    markers = list(_INLINE_NUMBER.finditer(text, start, end))
    if len(markers) < 2:
        return []
    spans: list[Span] = []
    if text[start:markers[0].start()].strip():
        spans.append((start, markers[0].start()))
    for current, following in zip(markers, markers[1:] + [None]):
        stop = following.start() if following else end
        spans.append((current.end(), stop))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[0] < s[1]]


# --- helpers: headings, sentences, lead-ins ------------------------------------------------


def _heading(text: str, start: int, end: int, bulleted: bool) -> tuple[Span | None, int]:
    """(heading span, where the content starts): (None, start) when there is no heading."""
    piece = text[start:end]
    core = _MARKDOWN_EDGE.sub("", piece)
    if core.endswith(":") and len(core.split()) <= 12:
        return (start, end), end
    bare = core.rstrip(":").strip()
    if not bulleted and _HEADING.fullmatch(bare):
        return (start, end), end
    if _LEAD_IN.fullmatch(core.rstrip(":").strip() + " ") and core.rstrip().endswith(":"):
        return (start, end), end
    lead = len(piece) - len(piece.lstrip("#*_ "))
    prefix = _HEADING_PREFIX.match(text, start + lead, end)
    if prefix:
        content, _ = _trim(text, prefix.end(), end)
        return (start, prefix.end()), content
    return None, start


def _heading_section(heading_text: str) -> str:
    core = _MARKDOWN_EDGE.sub("", heading_text).rstrip(":").strip()
    for reason, pattern in _BOILERPLATE_SECTIONS:
        if pattern.fullmatch(core) or pattern.match(core) and len(core.split()) <= 5:
            return "section:" + reason
    return ""


def _sentences(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    position = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if _is_boundary(text, position, match):
            spans.append((position, match.end()))
            position = match.end()
    spans.append((position, end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[0] < s[1]]


def _is_boundary(text: str, sentence_start: int, match: re.Match[str]) -> bool:
    following = text[match.end():].lstrip()[:1]
    if not following:
        return False
    mark = match.group()
    if mark.startswith(("!", "?", "…")) or mark.startswith(".."):
        return True
    word_match = _LAST_WORD.search(text, sentence_start, match.start())
    word = word_match.group(1) if word_match else ""
    lower = word.lower().rstrip(".")
    if _DOTTED_ABBREVIATION.match(word) or (len(word) == 1 and word.isalpha()):
        return False
    if lower in _SOFT_ABBREVIATIONS:
        return following.isupper()
    if lower in _ABBREVIATIONS:
        return False
    if following.isupper() or following.isdigit() or following in "\"'“‘([•-":
        return True
    return len(word) >= 3 and word.isalpha() and following.islower()


def _strip_lead_in(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """Cut an outcome lead-in: (start, end, had_lead_in)."""
    match = _LEAD_IN.match(text, start, end)
    if not match or match.end() == start:
        return start, end, False
    new_start, new_end = _trim(text, match.end(), end)
    return new_start, new_end, True


# --- helpers: emitting --------------------------------------------------------------------


def _emit(
    text: str,
    span: Span,
    kind: str,
    section: str,
    max_chars: int,
    kept: list[Statement],
    dropped: list[Statement],
) -> None:
    start, end, had_lead_in = _strip_lead_in(text, *span)
    if start >= end or (had_lead_in and not _ALNUM.search(text[start:end])):
        dropped.append(_statement(text, *span, reason="lead_in"))
        return
    end = start + len(text[start:end].rstrip(": "))
    for s, e in _split_long(text, start, end, max_chars):
        piece = text[s:e]
        reason = ""
        if len(_ALNUM.findall(piece)) < 2:
            reason = "too_short"
        elif kind == "posting":
            reason = boilerplate_reason(piece) or section
        (dropped if reason else kept).append(_statement(text, s, e, reason))


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[Span]:
    if end - start <= max_chars:
        return [(start, end)]
    for level, pattern in enumerate(_CLAUSE_BREAKS):
        minimum = _MIN_CLAUSE if level in (1, 2) else 1
        cut = _best_cut(text, start, end, pattern, max_chars, minimum)
        if cut:
            left_end, right_start = cut
            left = _trim(text, start, left_end)
            right = _trim(text, right_start, end)
            out: list[Span] = []
            for a, b in (left, right):
                if a < b:
                    out.extend(_split_long(text, a, b, max_chars))
            return out
    return [(start + i, min(end, start + i + max_chars)) for i in range(0, end - start, max_chars)]


def _best_cut(
    text: str, start: int, end: int, pattern: re.Pattern[str], max_chars: int, minimum: int
) -> Span | None:
    """The break nearest the middle that leaves at least ``minimum`` chars on each side."""
    middle = (start + end) / 2
    best: Span | None = None
    for match in pattern.finditer(text, start, end):
        if match.start() - start < minimum or end - match.end() < minimum:
            continue
        if best is None or abs(match.start() - middle) < abs(best[0] - middle):
            best = (match.start(), match.end())
    return best


# --- phrases ----------------------------------------------------------------------------------

_PHRASE_SPLIT = re.compile(
    r"\s*(?:[,;:/|()\[\]]|\s(?:and|or|as well as|&|including|such as|e\.g\.|i\.e\.)\s)\s*", re.I
)
_LEADING_CONJUNCTION = re.compile(r"^(?:and|or|as well as|including|such as)\s+", re.I)


def phrases(text: str, offset: int = 0) -> list[tuple[str, int, int]]:
    """Sub-phrases of a statement split at punctuation and conjunctions, with offsets.

    A sentence naming several skills ("HTML and CSS, React or Angular") is matched phrase by
    phrase as well as whole, so each skill can find its own label.
    """
    out: list[tuple[str, int, int]] = []
    pos = 0
    for sep in [*_PHRASE_SPLIT.finditer(text), None]:
        end = sep.start() if sep else len(text)
        piece = text[pos:end]
        stripped = _LEADING_CONJUNCTION.sub("", piece.strip(" .!?-–")).strip(" .!?-–")
        if len(re.findall(r"\w", stripped)) >= 2 and stripped != text.strip():
            start = pos + piece.index(stripped)
            out.append((stripped, offset + start, offset + start + len(stripped)))
        pos = sep.end() if sep else len(text)
    return out
