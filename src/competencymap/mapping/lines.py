"""What became of every line of a mapped text, so an employer can see each one accounted for.

Each line (`statements.roles.Line`, with its role) ends in one of four ways:

- ``mapped``: a statement of the line has a confident match; ``matches`` are the line's
  confident matches, best first, one per competency and framework;
- ``asset``: an asset line (its statements are optional), with its confident matches, or its
  best candidates when it has none;
- ``dropped``: nothing of it was mapped (a title, heading, company, benefits, boilerplate or
  context line, or a line in a language the model does not read); ``reason`` is the rule that
  dropped it (its first dropped statement's reason: "French text: not mapped with the bundled
  English model");
- ``no_match``: it was mapped but no match is confident; ``candidates`` are its best
  :data:`CANDIDATES` matches per framework, so the line never disappears silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from competencymap.mapping.results import MappingResult, Match, StatementResult
from competencymap.statements.language import main_language
from competencymap.statements.roles import ASSET, Line
from competencymap.statements.segment import Statement

MAPPED = "mapped"
ASSET_LINE = "asset"
DROPPED = "dropped"
NO_MATCH = "no_match"
OUTCOMES = (MAPPED, ASSET_LINE, DROPPED, NO_MATCH)
CANDIDATES = 3  # best matches per framework shown for a line with no confident match


@dataclass(frozen=True)
class LineReport:
    """One line and what became of it (see the module docstring)."""

    line: Line
    outcome: str
    reason: str = ""  # why it was dropped ('' unless dropped)
    statements: tuple[Statement, ...] = ()  # its statements that were mapped
    matches: tuple[Match, ...] = ()  # its confident matches, best first
    candidates: tuple[Match, ...] = ()  # with no confident match: its best few per framework
    language: str = ""  # the line's detected language ('' when not judged: short, or not detected)


def account(result: MappingResult, *, candidates: int = CANDIDATES) -> list[LineReport]:
    """Every line of `result`, in text order, with what became of it."""
    return [_report(line, result, candidates) for line in result.lines]


def _report(line: Line, result: MappingResult, candidates: int) -> LineReport:
    mapped = tuple(s for s in result.statements if _on(s, line))
    language = main_language([s for s in (*mapped, *result.dropped) if _on(s, line)])
    if not mapped:
        reason = next((s.reason for s in result.dropped if _on(s, line)), line.role)
        return LineReport(line, DROPPED, reason, language=language)
    mine = [r for r in result.results if _on(r.statement, line)]
    confident = _best([m for r in mine for m in r.matches if m.confident])
    asset = all(s.role == ASSET for s in mapped)
    outcome = ASSET_LINE if asset else MAPPED if confident else NO_MATCH
    best = () if confident else _candidates(mine, candidates)
    return LineReport(line, outcome, "", mapped, confident, best, language)


def _on(statement: Statement, line: Line) -> bool:
    """The statement belongs to the line (read with it, or starting within it)."""
    if statement.line >= 0:
        return statement.line == line.start
    return line.start <= statement.start < line.end


def _best(matches: list[Match]) -> tuple[Match, ...]:
    """One match per competency and framework (its best), best first."""
    kept: dict[tuple[str, str], Match] = {}
    for match in matches:
        key = (match.framework, match.iri)
        if key not in kept or match.score > kept[key].score:
            kept[key] = match
    return tuple(sorted(kept.values(), key=lambda m: -m.score))


def _candidates(results: list[StatementResult], count: int) -> tuple[Match, ...]:
    """The best `count` matches of each framework among the line's statements."""
    frameworks = list(dict.fromkeys(r.framework for r in results))
    out: list[Match] = []
    for framework in frameworks:
        out += _best([m for r in results if r.framework == framework for m in r.matches])[:count]
    return tuple(out)
