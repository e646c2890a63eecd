"""Postings as a demand run reads and maps them: a posting's id, text, month, group-by values
and occupation, and :class:`MappedPosting`, what the counter keeps of one mapped posting (the
corpus run writes the same records to Parquet). Bad postings become :class:`PostingError` records
instead of failing a batch."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from competencymap._common.errors import CompetencyMapError
from competencymap._common.halves import run_in_halves
from competencymap._common.text import MAX_TEXT_CHARS
from competencymap.mapping.settings import PipelineConfig
from competencymap.workflows.demand.options import NO_GROUP, NO_OCCUPATION, UNKNOWN_MONTH, Cell, DemandOptions
from competencymap.workflows.needs import FALLBACK_NEEDS, STATEMENT_TOP_K, pick_needs

if TYPE_CHECKING:
    from competencymap.engine import CompetencyMap

LANGUAGE_STAGE = "language"  # a posting none of whose text is in a language the model reads
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])(?:\b|-|T|$)")


# -- mapped postings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileEntry:
    """One ranked profile entry of a mapped posting (rank 1 = best, within its framework)."""

    framework: str
    rank: int
    iri: str
    label: str
    score: float
    confident: bool
    optional: bool = False  # named only by lines that call it an asset (never counted as a need)
    grouped_under: str = ""  # IRI of the entry this near duplicate is grouped under (never a need of its own)


@dataclass(frozen=True)
class MappedPosting:
    """What the table needs of one mapped posting; also one posting's rows in the per-posting files."""

    posting_id: str
    entries: tuple[ProfileEntry, ...]
    statements: int = 0
    month: str | None = None
    occupation: str | None = None
    occupation_label: str | None = None
    groups: tuple[str, ...] = ()
    source: str | None = None
    line: int | None = None
    not_read: int = 0  # statements left out: in a language the model does not read
    not_read_reason: str = ""  # the first one's reason ("French text: not mapped with the bundled English model")

    @property
    def unreadable(self) -> bool:
        """True when nothing of the posting was mapped because of its language (it is not counted)."""
        return self.statements == 0 and self.not_read > 0

    @property
    def cell(self) -> Cell:
        return (self.month, self.occupation, self.groups)

    def needs(self, frameworks: Sequence[str], fallback: int = FALLBACK_NEEDS) -> list[ProfileEntry]:
        """The posting's needs under the rule of :mod:`competencymap.workflows.needs`, optional
        (asset-only) entries left out."""
        ranked = sorted(self.entries, key=lambda e: e.rank)
        return pick_needs(ranked, frameworks, fallback=fallback, optional=False)

    def fell_back(self, frameworks: Sequence[str]) -> bool:
        """True when the first framework has no confident entry (its needs are the best few)."""
        return bool(frameworks) and not any(e.confident for e in self.entries if e.framework == frameworks[0])


@dataclass(frozen=True)
class PostingError:
    """A posting that could not be read or mapped, or whose date was not understood."""

    reason: str
    stage: str  # read | text | date | map | language (nothing in a language the model reads)
    number: int | None = None  # 1-based position in its input (or partition)
    posting_id: str | None = None
    source: str | None = None
    line: int | None = None
    counted: bool = False  # True: still counted (a bad date counts under 'unknown')

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "posting_id": self.posting_id, "number": self.number,
                "stage": self.stage, "reason": self.reason, "counted": self.counted}


def mapped_postings(results: Sequence[Any], items: Sequence[dict[str, Any]], ids: Sequence[str],
                    months: Sequence[str | None], jobs: Sequence[tuple[str, str] | None],
                    options: DemandOptions) -> list[MappedPosting]:
    """Mapping results (with the postings' ids, months and occupations) as :class:`MappedPosting`s."""
    out = []
    for result, posting, pid, month, job in zip(results, items, ids, months, jobs):
        ranks: Counter[str] = Counter()
        entries = []
        for match in result.profile:
            ranks[match.framework] += 1
            entries.append(ProfileEntry(match.framework, ranks[match.framework], match.iri, match.label,
                                        float(match.score), bool(match.confident), bool(match.optional),
                                        match.grouped_under))
        out.append(MappedPosting(
            posting_id=pid, entries=tuple(entries), statements=len(result.statements), month=month,
            occupation=job[0] if job else None, occupation_label=job[1] if job else None,
            groups=posting_groups(posting, options.group_by), source=posting.get("source"), line=posting.get("line"),
            not_read=len(result.not_read), not_read_reason=result.not_read[0].reason if result.not_read else "",
        ))
    return out


def posting_groups(posting: dict[str, Any], names: Sequence[str]) -> tuple[str, ...]:
    """The posting's values of the group-by columns (from its ``groups`` dict or its own keys)."""
    if not names:
        return ()
    groups = posting.get("groups")
    values: Mapping[str, Any] = groups if isinstance(groups, Mapping) else posting
    out = []
    for name in names:
        value = values.get(name)
        out.append(NO_GROUP if value is None or str(value).strip() == "" else str(value).strip())
    return tuple(out)


def posting_id(posting: dict[str, Any], number: int) -> str:
    """The posting's own id, else '<file>:<line>' for a posting read from a file, else its number."""
    own = posting.get("id")
    if own not in (None, ""):
        return str(own)
    if posting.get("source"):
        return f"{posting['source']}:{posting.get('line') or number}"
    return str(number)


# -- postings -------------------------------------------------------------------------------------


def as_posting(posting: Any, number: int) -> dict[str, Any]:
    """A posting as a dict: a mapping as it is, or an object's ``text``, ``title``, ``posted_on``
    (a catalog :class:`~competencymap.catalog.Posting`, an API model)."""
    if isinstance(posting, Mapping):
        return posting  # type: ignore[return-value]
    if hasattr(posting, "text"):
        return {key: getattr(posting, key, None) for key in ("text", "title", "posted_on", "id")}
    raise CompetencyMapError(f"posting {number} is not a mapping with a 'text' field")


def posting_text(posting: dict[str, Any], number: int) -> str:
    """The posting's text; a missing, empty or too long text is an error naming file and line."""
    text = posting.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _error(posting, number, "has no text")
    if len(text) > MAX_TEXT_CHARS:
        raise _error(posting, number, f"text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return text


def posting_month(posting: dict[str, Any], number: int) -> str:
    """'YYYY-MM' from the posting's date (posted_on, date or month); 'unknown' when it has none."""
    value = next((posting.get(k) for k in ("posted_on", "date", "month") if posting.get(k) not in (None, "")), None)
    if value is None:
        return UNKNOWN_MONTH
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    match = _MONTH.match(str(value).strip())
    if not match:
        raise _error(posting, number, f"date {value!r} is not an ISO date (YYYY-MM-DD or YYYY-MM)")
    return f"{match.group(1)}-{match.group(2)}"


def _error(posting: dict[str, Any], number: int, problem: str) -> CompetencyMapError:
    """'<file>:<line>: posting has no text', or 'posting 3 has no text' for postings given in memory."""
    if posting.get("source"):
        return CompetencyMapError(f"posting {problem}", path=str(posting["source"]), line=posting.get("line") or number)
    return CompetencyMapError(f"posting {number} {problem}")


def _title(posting: dict[str, Any]) -> str:
    title = posting.get("title")
    return title.strip()[:MAX_TEXT_CHARS] if isinstance(title, str) else ""


def posting_occupations(
    engine: CompetencyMap, postings: Sequence[dict[str, Any]], texts: Sequence[str], occupations: str,
    config: PipelineConfig | None = None,
) -> list[tuple[str, str]]:
    """(IRI, label) of each posting's occupation: the best match of its title, or of its text
    (mapped as a posting) when it has no title; ('', '(none)') when nothing matches."""
    titles = [_title(p) for p in postings]
    best: list[tuple[str, str] | None] = [None] * len(postings)
    with_title = [i for i, t in enumerate(titles) if t]
    if with_title:
        ranked = engine.matcher(occupations, config).rank([titles[i] for i in with_title], top_k=1)
        for i, matches in zip(with_title, ranked):
            best[i] = (matches[0].iri, matches[0].label) if matches else None
    untitled = [i for i, t in enumerate(titles) if not t]
    if untitled:
        mapped = engine.map_many([texts[i] for i in untitled], [occupations], top_k=1, kind="posting", config=config)
        for i, result in zip(untitled, mapped):
            best[i] = (result.profile[0].iri, result.profile[0].label) if result.profile else None
    return [b if b is not None else ("", NO_OCCUPATION) for b in best]


# -- mapping a batch ------------------------------------------------------------------------------


def _map(engine: CompetencyMap, items: Sequence[dict[str, Any]], texts: Sequence[str], ids: Sequence[str],
         months: Sequence[str | None], options: DemandOptions) -> list[MappedPosting]:
    config = options.pipeline_config
    results = engine.map_many(texts, list(options.frameworks), top_k=options.top_k, kind="posting", config=config,
                           statement_top_k=min(options.top_k, STATEMENT_TOP_K))
    jobs: list[tuple[str, str] | None] = [None] * len(items)
    if options.by_occupation:
        jobs = list(posting_occupations(engine, items, texts, options.occupations, config))
    return mapped_postings(results, items, ids, months, jobs, options)


def map_batch_safely(
    engine: CompetencyMap, batch: Sequence[tuple[int, Any]], options: DemandOptions
) -> tuple[list[MappedPosting], list[PostingError]]:
    """Map numbered postings (dicts or objects, see :func:`as_posting`), recording each one that
    cannot be mapped instead of failing.

    A posting that is not a mapping or object with text, or has no usable text, is an error at
    once; a date that is not ISO (with by_month) is recorded and the posting counted under
    'unknown'. When a mapping call fails, the batch is split in halves until the failing
    postings stand alone, so a bad posting never takes good ones with it."""
    errors: list[PostingError] = []
    ready: list[tuple[int, dict[str, Any], str, str, str | None]] = []
    for number, item in batch:
        try:
            posting = as_posting(item, number)
        except CompetencyMapError as exc:
            errors.append(PostingError(exc.message, "text", number=number, posting_id=str(number)))
            continue
        pid = posting_id(posting, number)
        where: dict[str, Any] = {"number": number, "posting_id": pid, "source": posting.get("source"), "line": posting.get("line")}
        try:
            text = posting_text(posting, number)
        except CompetencyMapError as exc:
            errors.append(PostingError(exc.message, "text", **where))
            continue
        month = None
        if options.by_month:
            try:
                month = posting_month(posting, number)
            except CompetencyMapError as exc:
                month = UNKNOWN_MONTH
                errors.append(PostingError(exc.message + "; counted under 'unknown'", "date", counted=True, **where))
        ready.append((number, posting, pid, text, month))
    mapped: list[MappedPosting] = []
    _bisect(engine, ready, options, mapped, errors)  # keeps the postings' order
    return mapped, errors


def _bisect(engine: CompetencyMap, ready: list[tuple[int, dict[str, Any], str, str, str | None]], options: DemandOptions,
            mapped: list[MappedPosting], errors: list[PostingError]) -> None:
    def run(part: Sequence[tuple[int, dict[str, Any], str, str, str | None]]) -> list[MappedPosting]:
        return _map(engine, [r[1] for r in part], [r[3] for r in part], [r[2] for r in part], [r[4] for r in part], options)

    for (number, posting, pid, _, _), outcome in zip(ready, run_in_halves(ready, run)):
        if isinstance(outcome, Exception):  # one posting's failure is recorded, whatever it was
            reason = outcome.line_text() if isinstance(outcome, CompetencyMapError) else f"{type(outcome).__name__}: {outcome}"
            errors.append(PostingError(reason, "map", number=number, posting_id=pid, source=posting.get("source"),
                                       line=posting.get("line")))
        elif outcome.unreadable:  # nothing left to count: left out, its language the reason
            errors.append(PostingError(outcome.not_read_reason, LANGUAGE_STAGE, number=number, posting_id=pid,
                                       source=posting.get("source"), line=posting.get("line")))
        else:
            mapped.append(outcome)
