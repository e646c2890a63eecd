"""One profile per text and framework: the statements' matches aggregated."""

from __future__ import annotations

from collections.abc import Sequence

from competencymap.results import Match, StatementResult

SUPPORT_BONUS = 0.02  # added for every further statement that supports a competency


def aggregate(results: Sequence[StatementResult], *, top_k: int = 20) -> list[Match]:
    """Each competency's best statement score plus a small bonus for every further statement
    that supports it, best first."""
    best: dict[str, Match] = {}
    support: dict[str, int] = {}
    for result in results:
        for match in result.matches:
            support[match.iri] = support.get(match.iri, 0) + 1
            if match.iri not in best or match.score > best[match.iri].score:
                best[match.iri] = match
    scored = sorted(best.values(), key=lambda m: m.score + SUPPORT_BONUS * (support[m.iri] - 1), reverse=True)
    return scored[:top_k]
