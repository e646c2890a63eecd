"""The role of every line of a posting or a credential, read as people write them.

A posting opens with its title, introduces the company, lists duties under "What you'll do",
requirements under "What you bring", assets ("French is an asset"), then benefits, salary and an
equal-opportunity line. Only duties, requirements, assets and learning outcomes say what the job
or the course asks; the rest is the frame around them. Each line (and each statement in it, see
`read`) gets one role:

============ ==================================================================================
title        the document's name: the first line, when it is short (at most 16 words), not
             bulleted, ends without ``. ! ? ; :``, does not open like a duty in sentence case or
             like a requirement, and is set apart (a blank line or a heading follows). Up to two
             more short lines in the same opening block (company name, place) are ``context``.
heading      a line that names a section: the segmentation's heading rule (a short piece ending
             in ``:``, a known heading such as "What you bring", an outcome lead-in), or a short
             line in capitals ("WHAT WE NEED").
company      the employer's introduction: under an "About us" / "Who we are" heading (or after
             "About us:"), or an unbulleted line of the opening (before the first heading) that
             introduces the employer ("... is a ...", "is hiring", "we are", "our stores",
             "founded", "with 200 trucks") or opens with the company named in the title, unless
             it says what the person will do ("you will", "responsible for").
benefits     what the employer offers: under a benefits heading, or naming pay extras (dental,
             RRSP, "we offer", ...: `segment.BOILERPLATE_PATTERNS`).
boilerplate  equal opportunity and accommodation, how to apply, deadlines.
context      facts around the job: "Reporting to ...", salary, job type and schedule lines
             ("Full-time, permanent"), location lines ("Hamilton, ON", "Location: ...").
asset        welcome but not required: an asset cue (`ASSET_CUES`: "is an asset", "nice to
             have", "preferred", "bonus") or under an assets heading ("Nice to have").
duty         what the job does: under a duties heading, else a posting line by default.
requirement  what the person brings: under a requirements heading, or opening like one ("3+
             years", "Experience with", "Knowledge of", "Valid", "Able to", "Bachelor's"), or
             saying so ("is required", "must have").
outcome      a learning outcome: a content line of a credential (kind ``outcomes``).
============ ==================================================================================

Rules apply in this order to a content statement: boilerplate, the heading's own drop role
(company, benefits, context, boilerplate), benefits, context, company (the opening only), asset,
the heading's role (duty, requirement, outcome), then the form. Credentials (kind ``outcomes``)
get title, heading, asset, context (a "Reporting to" line) and outcome only: a course may well
"Explain pension plans", so the offer rules read postings only.

Titles and headings are context for the lines under them (``Line.under``), never mapped.
Statements of title, heading, company, benefits, boilerplate and context lines are dropped, their
role the reason (`DROPPED_ROLES`); a statement the segmentation dropped keeps its own reason. A
heading's section lasts until the next heading, or until an unbulleted line after a blank line
that follows some of its items (as in the segmentation); a heading before a colon on the same line
("About us: ...") frames that line only.

Two statements are cut further: "Reporting to the Manager, Security, you will monitor alerts"
keeps "monitor alerts" (its lead is context), and "English; French is an asset" splits at the
semicolon into a requirement and an asset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from competencymap.statements.outcome import VERBS
from competencymap.statements.segment import (
    BOILERPLATE_PATTERNS,
    Statement,
    detect_kind,
    heading_section,
    line_spans,
    segment_with_dropped,
    split_heading,
    strip_bullet,
)

TITLE = "title"
HEADING = "heading"
COMPANY = "company"
BENEFITS = "benefits"
BOILERPLATE = "boilerplate"
CONTEXT = "context"
DUTY = "duty"
REQUIREMENT = "requirement"
ASSET = "asset"
OUTCOME = "outcome"
ROLES = (TITLE, HEADING, COMPANY, BENEFITS, BOILERPLATE, CONTEXT, DUTY, REQUIREMENT, ASSET, OUTCOME)
#: Roles whose statements are never mapped (they are dropped with the role as the reason).
DROPPED_ROLES = frozenset({TITLE, HEADING, COMPANY, BENEFITS, BOILERPLATE, CONTEXT})

_I = re.IGNORECASE

#: Words that mark what a statement names as welcome but not required.
ASSET_CUES = re.compile(
    r"\b(?:(?:is|are|would\s+be|will\s+be|considered)\s+(?:an?\s+|a\s+strong\s+|a\s+definite\s+)?(?:asset|plus|bonus|advantage)|"
    r"nice[\s-]+to[\s-]+have|(?:is|are|strongly)?\s*preferred|desirable|(?:a\s+)?bonus\b|an?\s+(?:asset|plus)\b|"
    r"not\s+required\s+but|optional)\b",
    _I,
)


def is_asset(text: str) -> bool:
    """True for a statement that marks what it names as welcome but not required."""
    return ASSET_CUES.search(text) is not None


# --- what a heading opens ---------------------------------------------------------------------

_SECTIONS: list[tuple[str, re.Pattern[str]]] = [
    (DUTY, re.compile(r"what you(?:'ll|’ll| will)? (?:do|be doing)|responsibilit|duties|the role|your role|"
                      r"about the (?:role|job|position|opportunity)|(?:role|job|position) (?:description|overview|"
                      r"summary)|day[- ]to[- ]day|in this role|a day in the life|the opportunity|your (?:impact|mission)", _I)),
    (ASSET, re.compile(r"nice[- ]to[- ]haves?|bonus|assets?\b|(?:preferred|desired|desirable|additional) "
                       r"(?:qualifications|skills|experience|requirements)|preferred|pluses|it would be (?:great|nice)", _I)),
    (REQUIREMENT, re.compile(r"requirement|qualification|what you(?:'ll|’ll| will)? (?:bring|need|have)|who you are|"
                             r"about you|what we(?:'re|’re| are) looking for|must[- ]haves?|skills|experience|"
                             r"education|you (?:have|bring)|competenc|what it takes|tools|technologies|tech stack", _I)),
    (OUTCOME, re.compile(r"outcomes?|objectives|what you(?:'ll|’ll| will) (?:learn|gain)|will be able to|"
                         r"by the end|upon (?:successful )?completion|learn", _I)),
    (COMPANY, re.compile(r"(?i:about) (?:(?i:us|the (?:company|employer|organi[sz]ation|team))|[A-Z][\w&.'-]*"
                         r"(?: [A-Z][\w&.'-]*)*)|(?i:who we are|our (?:company|story|mission|values|culture|team)|"
                         r"company (?:overview|description|profile))")),
    (CONTEXT, re.compile(r"location|schedule|hours|job details|position details|terms|reporting", _I)),
]
_SEGMENT_SECTIONS = {"section:benefits": BENEFITS, "section:salary": CONTEXT,
                     "section:how_to_apply": BOILERPLATE, "section:equal_opportunity": BOILERPLATE}
_HEADING_EDGE = re.compile(r"^[#*_\s]+|[*_:\s]+$")


def section_role(heading: str) -> str:
    """The role a heading gives the lines under it ('' when it names no known section)."""
    core = _HEADING_EDGE.sub("", heading)
    offer = _SEGMENT_SECTIONS.get(heading_section(core), "")
    if offer:
        return offer
    for role, pattern in _SECTIONS:
        if pattern.search(core):
            return role
    return ""


# --- what a statement says ----------------------------------------------------------------------

_REASON_ROLES = {"heading": HEADING, "lead_in": HEADING, "salary": CONTEXT, "job_details": CONTEXT,
                 "benefits": BENEFITS, "equal_opportunity": BOILERPLATE, "how_to_apply": BOILERPLATE,
                 "deadline": BOILERPLATE}
_BOILERPLATE_REASONS = frozenset({"equal_opportunity", "how_to_apply", "deadline"})
_REPORTING = re.compile(r"(?:reporting (?:directly )?to|reports (?:directly )?to|you(?:'ll|’ll| will) report to|"
                        r"(?:this|the) (?:role|position|job) reports to|under the (?:general )?(?:direction|"
                        r"supervision) of)\b", _I)
_REPORTING_THEN = re.compile(r",\s*(?:you(?:'ll|’ll| will)|(?:the|our|this|a) [\w -]{1,40}? will)\s+(?=\w)", _I)
_PROVINCES = (r"ON|BC|AB|QC|MB|SK|NS|NB|NL|PE|PEI|YT|NT|NU|Ontario|Quebec|Québec|British Columbia|Alberta|"
              r"Manitoba|Saskatchewan|Nova Scotia|New Brunswick|Newfoundland(?: and Labrador)?|"
              r"Prince Edward Island|Yukon|Northwest Territories|Nunavut|Canada")
_PLACE = re.compile(rf"^[A-Z][\w.'-]*(?:[ -][A-Z][\w.'-]*)*,\s*(?:{_PROVINCES})\b", re.UNICODE)
_SCHEDULE = re.compile(r"^(?:(?:full|part)[- ]time|permanent|temporary|contract|casual|seasonal|hybrid|remote|"
                       r"on[- ]?site|in[- ]person|monday to friday|day shifts?|night shifts?|evening shifts?|"
                       r"weekends?|hours of work|travel|location|based in)\b", _I)
_SHORT = 10  # words: a schedule or place line is short
_COMPANY_CUES = re.compile(
    r"\b(?:(?:is|are) (?:a|an|one of)\b|(?:is|are) (?:hiring|looking for|seeking|recruiting|growing)|"
    r"we(?:'re|’re)?(?: are| have| serve| build| help| provide| operate| believe| make| move)?\b|"
    r"join (?:our|a|the) |our (?:company|team|mission|clients|customers|stores?|platform|people|home|"
    r"residents|store|office|fleet)\b|founded|headquartered|family[- ]owned|"
    r"with (?:over |more than )?\d[\d,]* (?:stores|locations|employees|trucks|offices|beds|members|clients|"
    r"customers|staff|people))"
    # an opening sentence whose subject is the employer's name: "Harbourline Systems builds scheduling software"
    r"|^(?:[A-Z][\w&.'’-]*\s+){1,4}(?:provides|builds|runs|serves|operates|offers|makes|delivers|develops|"
    r"manufactures|sells|helps|moves|designs|owns|manages|supports)\b|^our\b",
    _I,
)
_COMPANY_ANYWHERE = re.compile(r"^(?:we(?:'re|’re| are) an? |(?:founded|headquartered|established) in\b)", _I)
_TASK_CUES = re.compile(r"\b(?:you(?:'ll|’ll| will)|who will|responsible for|in this role)\b", _I)
_REQUIREMENT_FORM = re.compile(
    r"(?:(?:at least|minimum(?: of)?|over)\s+)?(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\+?\s*"
    r"(?:or more\s+)?(?:years?|yrs)|(?:(?:strong|excellent|solid|good|proven|demonstrated|working|sound|thorough|"
    r"deep|in-depth|practical|hands-on|previous|prior|relevant)\s+)*(?:experience|knowledge|familiarity|"
    r"understanding|proficiency|ability|expertise|background|skills?)\b|(?:a\s+)?(?:valid|current|"
    r"bachelor'?s?|master'?s?|diploma|degree|certification|certified|licen[cs]e|registration|bilingual|"
    r"fluent|fluency|able to|comfortable|proficient|familiar|must|eligible)\b",
    _I,
)
_REQUIREMENT_CUE = re.compile(r"\b(?:is|are) (?:required|mandatory|essential)\b|\bmust (?:have|hold|be)\b", _I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_FINAL_MARK = re.compile(r"[.!?;:]\W*$")
_CAPS = re.compile(r"[A-Z][A-Z &'’/-]{4,}")
_TITLE_WORDS = 16
_TITLE_BLOCK = 3  # lines at most in a title block (title, company, place)


def _offer_reasons(text: str) -> set[str]:
    """Every boilerplate reason of a posting statement (a duty-like opener keeps pay words)."""
    reasons = set()
    for reason, pattern in BOILERPLATE_PATTERNS:
        if pattern.search(text):
            reasons.add(reason)
    if reasons & {"salary", "benefits"} and _opens_like_task(text):
        reasons -= {"salary", "benefits"}
    return reasons


def _opens_like_task(text: str) -> bool:
    first = _WORD.match(text.lstrip())
    return bool(first and _is_verb(first.group())) or bool(_REQUIREMENT_FORM.match(text.lstrip()))


def _is_verb(word: str) -> bool:
    word = word.lower()
    return word in VERBS or (word.endswith("s") and word[:-1] in VERBS) or (word.endswith("es") and word[:-2] in VERBS)


def _is_context(text: str) -> bool:
    stripped = text.strip()
    if _REPORTING.match(stripped):
        return True
    short = len(stripped.split()) <= _SHORT
    return short and (bool(_PLACE.match(stripped)) or bool(_SCHEDULE.match(stripped)))


def _is_company(text: str, company: str) -> bool:
    if _TASK_CUES.search(text):
        return False
    named = bool(company) and text.lower().startswith(company.lower())
    return named or _COMPANY_CUES.search(text) is not None


def statement_role(text: str, *, kind: str, section: str = "", opening: bool = False, company: str = "") -> str:
    """The role of one content statement (rules in the module docstring). `section` is the role its
    heading gives, `opening` says it is an unbulleted line before the first heading, `company` the
    employer named in the title."""
    if kind == "posting":
        reasons = _offer_reasons(text)
        if reasons & _BOILERPLATE_REASONS:
            return BOILERPLATE
        if section in DROPPED_ROLES:
            return section
        if "benefits" in reasons:
            return BENEFITS
        if reasons & {"salary", "job_details"} or _is_context(text):
            return CONTEXT
        if (opening and _is_company(text, company)) or _COMPANY_ANYWHERE.match(text.lstrip()):
            return COMPANY
    elif _REPORTING.match(text.strip()):
        return CONTEXT
    if is_asset(text) or section == ASSET:
        return ASSET
    if section in (DUTY, REQUIREMENT, OUTCOME):
        return section
    if kind != "posting":
        return OUTCOME
    required = _REQUIREMENT_FORM.match(text.lstrip()) or _REQUIREMENT_CUE.search(text)
    return REQUIREMENT if required else DUTY


# --- lines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One non-blank line of the text (``text == original[start:end]``) and its role; ``under``
    is the heading it sits under, or the title before the first heading ('' when neither)."""

    text: str
    start: int
    end: int
    role: str
    under: str = ""


@dataclass(frozen=True)
class Reading:
    """A text read line by line: its lines, the statements to map (each with its ``role`` and
    ``line``) and those dropped (each with its reason)."""

    lines: list[Line]
    statements: list[Statement]
    dropped: list[Statement]


@dataclass
class _State:
    """What the lines read so far say about the next one."""

    section: str = ""
    under: str = ""
    headed: bool = False  # a heading has been seen (the opening is over)
    items: int = 0
    blank_after_items: bool = False


def read(text: str, kind: str = "auto", *, max_chars: int = 600) -> Reading:
    """Segment ``text`` (`segment.segment_with_dropped`) and give every line and statement its role."""
    kept, dropped = segment_with_dropped(text, kind, max_chars=max_chars)
    if not text.strip():
        return Reading([], [], [])
    kind = detect_kind(text) if kind == "auto" else kind
    spans = _content_lines(text)
    titles = _title_block(text, spans, kind)
    company = _company_in_title(text[spans[0][0]:spans[0][1]]) if titles else ""
    by_line = _by_line(spans, sorted(kept + dropped, key=lambda s: s.start))
    state = _State(under=text[spans[0][0]:spans[0][1]] if titles else "")
    lines: list[Line] = []
    out_kept: list[Statement] = []
    out_dropped: list[Statement] = []
    for n, ((start, end, blank_before), statements) in enumerate(zip(spans, by_line)):
        if n < len(titles):
            role = titles[n]
            lines.append(Line(text[start:end], start, end, role))
            out_dropped += [replace(s, role=role, line=start, reason=s.reason or role) for s in statements]
            continue
        line_kept, line_dropped, role = _read_line(text, (start, end, blank_before), statements, kind, state, company)
        lines.append(Line(text[start:end], start, end, role, state.under if role != HEADING else _before(lines)))
        out_kept += line_kept
        out_dropped += line_dropped
        if role == HEADING:
            state.under = text[start:end].strip()
    return Reading(lines, sorted(out_kept, key=lambda s: s.start), sorted(out_dropped, key=lambda s: s.start))


def _before(lines: list[Line]) -> str:
    """A heading sits under the title, if any."""
    return lines[0].text if lines and lines[0].role == TITLE else ""


def _read_line(text: str, span: tuple[int, int, bool], statements: list[Statement], kind: str, state: _State,
               company: str) -> tuple[list[Statement], list[Statement], str]:
    """One line's kept and dropped statements and its role; `state` moves past the line."""
    start, end, blank_before = span
    s, e, bulleted = strip_bullet(text, start, end)
    heading, content = split_heading(text, s, e, bulleted)
    if heading is None and not bulleted and _CAPS.fullmatch(text[s:e].strip()) and "," not in text[s:e]:
        heading, content = (s, e), e
    if blank_before and state.items:
        state.blank_after_items = True
    section = state.section
    if heading is not None:
        section = section_role(text[heading[0]:heading[1]])
        if content >= e:  # a whole-line heading opens a section
            state.section, state.headed, state.items, state.blank_after_items = section, True, 0, False
            return [], [replace(st, role=HEADING, line=start, reason=st.reason or HEADING) for st in statements], HEADING
    elif state.blank_after_items and blank_before and not bulleted:
        state.section = section = ""
    opening = not state.headed and not bulleted
    kept: list[Statement] = []
    dropped: list[Statement] = []
    def role_of(piece: str) -> str:
        return statement_role(piece, kind=kind, section=section, opening=opening, company=company)

    for statement in statements:
        if statement.reason:
            dropped.append(replace(statement, role=_dropped_role(statement, role_of), line=start))
            continue
        for piece in _cut(text, replace(statement, line=start), role_of):
            (dropped if piece.reason else kept).append(piece)
    state.items += 1
    state.blank_after_items = False
    return kept, dropped, _line_role(kept, dropped)


def _dropped_role(statement: Statement, role_of: Callable[[str], str]) -> str:
    """The role of a statement the segmentation dropped: a heading's, else the offer or boilerplate
    its own words or its section make it (benefits over salary), else the one its reason names."""
    reason = statement.reason.removeprefix("section:")
    if reason in ("heading", "lead_in"):
        return HEADING
    role = role_of(statement.text)
    return role if role in DROPPED_ROLES else _REASON_ROLES.get(reason, role)


def _line_role(kept: list[Statement], dropped: list[Statement]) -> str:
    """The role of what a line says: its first kept statement's, else its first dropped one's."""
    for statement in kept or dropped:
        return statement.role
    return CONTEXT


def _cut(text: str, statement: Statement, role_of: Callable[[str], str]) -> list[Statement]:
    """A kept statement's pieces, each with its role (one in `DROPPED_ROLES` makes it dropped, its role
    the reason): a "Reporting to ..., you will" lead is cut off as context, and clauses after a
    semicolon are split when some are assets and some not."""
    out: list[Statement] = []
    start, end = statement.start, statement.end
    if _REPORTING.match(statement.text):
        then = _REPORTING_THEN.search(text, start, end)
        if then is None:
            return [replace(statement, role=CONTEXT, reason=CONTEXT)]
        out.append(replace(statement, text=text[start:then.start()], end=then.start(), role=CONTEXT, reason=CONTEXT))
        start = then.end()
        statement = replace(statement, text=text[start:end], start=start)
    for piece in _split_assets(text, statement):
        role = role_of(piece.text)
        out.append(replace(piece, role=role, reason=role if role in DROPPED_ROLES else ""))
    return out


_CLAUSE = re.compile(r"\s*;\s*")


def _split_assets(text: str, statement: Statement) -> list[Statement]:
    """A statement's clauses when, split at semicolons, some are assets and some not; else itself."""
    cuts = list(_CLAUSE.finditer(text, statement.start, statement.end))
    if not cuts:
        return [statement]
    bounds = [statement.start, *[p for c in cuts for p in (c.start(), c.end())], statement.end]
    pieces = [(a, b) for a, b in zip(bounds[::2], bounds[1::2]) if text[a:b].strip()]
    assets = [is_asset(text[a:b]) for a, b in pieces]
    if all(assets) or not any(assets):
        return [statement]
    return [replace(statement, text=text[a:b], start=a, end=b) for a, b in pieces]


def _content_lines(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, blank line before) of each line holding a letter or digit, spaces trimmed."""
    out: list[tuple[int, int, bool]] = []
    blank = False
    for start, end in line_spans(text):
        piece = text[start:end]
        if not any(c.isalnum() for c in piece):
            blank = True
            continue
        lead = len(piece) - len(piece.lstrip())
        out.append((start + lead, start + len(piece.rstrip()), blank))
        blank = False
    return out


def _by_line(spans: list[tuple[int, int, bool]], statements: list[Statement]) -> list[list[Statement]]:
    """The statements of each line (a statement belongs to the line where it starts)."""
    out: list[list[Statement]] = [[] for _ in spans]
    n = 0
    for statement in statements:
        while n + 1 < len(spans) and spans[n + 1][0] <= statement.start:
            n += 1
        out[n].append(statement)
    return out


def _title_block(text: str, spans: list[tuple[int, int, bool]], kind: str) -> list[str]:
    """Roles of the opening block's lines when it is a title (title, then context lines), else []."""
    if len(spans) < 2:
        return []
    block = 1
    while block < len(spans) and not spans[block][2]:
        block += 1
    if block == len(spans):  # no blank line: a title needs a heading after it
        block = 1
    lines = [text[s:e] for s, e, _ in spans[:block]]
    if block > _TITLE_BLOCK or not all(_title_like(line) for line in lines):
        return []
    after = spans[block]
    if not after[2] and not _whole_heading(text, after[0], after[1]):
        return []
    return [TITLE] + [CONTEXT] * (block - 1)


def _whole_heading(text: str, start: int, end: int) -> bool:
    s, e, bulleted = strip_bullet(text, start, end)
    heading, content = split_heading(text, s, e, bulleted)
    return heading is not None and content >= e


def _title_like(line: str) -> bool:
    """Short, unbulleted, no final mark, and not opening like a duty or a requirement."""
    stripped = line.strip()
    if strip_bullet(stripped, 0, len(stripped))[2] or _FINAL_MARK.search(stripped):
        return False
    words = _WORD.findall(stripped)
    if not words or len(stripped.split()) > _TITLE_WORDS:
        return False
    if _REQUIREMENT_FORM.match(stripped) or is_asset(stripped) or _offer_reasons(stripped) & _BOILERPLATE_REASONS:
        return False
    return not _is_verb(words[0]) or _title_case(words)


def _title_case(words: list[str]) -> bool:
    """Every word of four letters or more starts with a capital ("Lead Software Developer")."""
    return all(w[0].isupper() for w in words if len(w) >= 4)


_TITLE_PARTS = re.compile(r"\s+(?:[—–|-]|at|@)\s+")


def _company_in_title(title: str) -> str:
    """The employer a title names after its role ("Junior Data Analyst — Riverside Logistics (Hamilton, ON)")."""
    parts = _TITLE_PARTS.split(title)
    if len(parts) < 2:
        return ""
    candidate = re.split(r"[(,]", parts[1])[0].strip()
    return candidate if candidate and candidate[0].isupper() and len(candidate.split()) <= 5 else ""
