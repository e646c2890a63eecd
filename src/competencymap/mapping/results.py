"""What mapping returns: matches with their evidence, per statement and per text."""

from __future__ import annotations

from dataclasses import dataclass, field

from competencymap.statements.roles import Line
from competencymap.statements.segment import Statement


@dataclass(frozen=True)
class Evidence:
    """Why a competency matched: the framework text that matched and where in the input."""

    method: str  # label | description | bm25 | exact | verb | crosswalk
    field: str  # pref_label, alt_label, description, ...
    text: str  # the framework text that matched
    score: float
    span: tuple[int, int] | None = None  # offsets of the matching input text
    query: str = ""  # the input text (statement or phrase) that matched


@dataclass(frozen=True)
class Match:
    iri: str
    label: str
    framework: str
    score: float
    kind: str = ""
    confident: bool = False
    evidence: tuple[Evidence, ...] = ()
    signals: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    related: tuple[str, ...] = ()  # near duplicates grouped under this entry (profiles: profile.py)
    support: int = 1  # statements behind this entry (profiles)
    optional: bool = False  # every statement behind it marks it as an asset, not a requirement
    grouped_under: str = ""  # IRI of the better entry this near duplicate is grouped under ("" when none)


def evidence_span(match: Match) -> tuple[int, int] | None:
    """The words of the statement that found the match: its exact hit's span, else its label's."""
    for method in ("exact", "label"):
        for evidence in match.evidence:
            if evidence.method == method and evidence.span is not None:
                return evidence.span
    return None


@dataclass(frozen=True)
class StatementResult:
    statement: Statement
    framework: str
    matches: list[Match]


@dataclass(frozen=True)
class MappingResult:
    """A whole text mapped: per-statement matches and one aggregated profile per framework; its
    lines with their roles (`statements.roles`), and what became of each is `mapping.lines`."""

    statements: list[Statement]
    results: list[StatementResult]
    profiles: dict[str, list[Match]]  # framework id -> its aggregated profile, best first
    dropped: list[Statement] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    language: str = ""  # the language most of the text is in (`statements.language`); '' when not judged
    not_read: list[Statement] = field(default_factory=list)  # in a language the model does not read (also in dropped)

    @property
    def profile(self) -> list[Match]:
        """Every framework's profile, one after the other (in the order the frameworks were asked)."""
        return [m for matches in self.profiles.values() for m in matches]
