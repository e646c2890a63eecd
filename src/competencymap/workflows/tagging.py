"""Designers: competency tags suggested for learning outcomes.

Each outcome is mapped (``kind="outcomes"``) onto each framework; its profile entries become
suggested tags carrying their evidence (the outcome text, whether the match is confident and the
mapper's evidence), so a person can see why before accepting or rejecting. Every entry ranked in
the top k is suggested: a near duplicate of a better suggestion (see
:mod:`competencymap.mapping.profile`) is suggested too, marked as grouped under it. Storing them is the
catalog's work (`Catalog.add_suggestions`, which keeps every decision already made);
`suggest_and_store` does both for a stored credential, as the API, the designer's page and
`competencymap catalog suggest` do.

Skills for Success is silent rather than noisy: its suggestions are only the confident ones
(evidence above the cross-validated cut-off, see `mapping.settings`), and within one credential
no component stays on more than a third of the outcomes unless its evidence holds for each: the
outcome's own text, or a confident ESCO match of that outcome that the others do not share (a
credential's theme, matched under every outcome, is no evidence for any one of them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from competencymap._common.errors import InputTextError
from competencymap._common.text import check_text
from competencymap.catalog.schemas import Credential, Tag, TagIn
from competencymap.mapping.results import MappingResult, Match
from competencymap.mapping.serialize import evidence_dict
from competencymap.mapping.settings import PipelineConfig

if TYPE_CHECKING:
    from competencymap.catalog import Catalog
    from competencymap.engine import CompetencyMap

DEFAULT_TOP_K = 5
CONFIDENT_ONLY = frozenset({"sfs"})  # frameworks whose suggestions are only their confident matches
SHARE_LIMIT = 1 / 3  # a component on more of a credential's outcomes needs evidence that holds for each


def suggest_tags(
    engine: CompetencyMap,
    outcomes: Sequence[str],
    *,
    frameworks: Sequence[str] = ("esco",),
    top_k: int = DEFAULT_TOP_K,
    min_score: float | None = None,
    confident_only: bool = False,
    context: str | None = None,
) -> list[list[TagIn]]:
    """Suggested tags for each outcome, in outcome order: its best `top_k` competencies per
    framework, kept when they score at least `min_score` and, with `confident_only`, are confident.
    `context` (the credential's title) is every outcome's context."""
    texts = [check_text(text, f"learning_outcomes.{n}") for n, text in enumerate(outcomes)]
    if not texts:
        return []
    contexts = [context] * len(texts) if context and context.strip() else None
    results = engine.map_many(texts, list(frameworks), top_k=top_k, kind="outcomes", contexts=contexts)
    for name in CONFIDENT_ONLY & set(frameworks):
        results = limit_shared(results, name, PipelineConfig().threshold_for(name))
    return [suggestions(text, result, min_score=min_score, confident_only=confident_only)
            for text, result in zip(texts, results)]


def limit_shared(results: list[MappingResult], framework: str, cutoff: float) -> list[MappingResult]:
    """A credential's results where each `framework` concept confident on more than a third of the
    outcomes stays confident only where its evidence holds (see `holds`; `cutoff` is the
    framework's confidence cut-off). With fewer than three outcomes, the results as given."""
    if len(results) < 3:
        return results
    limit = len(results) * SHARE_LIMIT
    mine = [r.profiles.get(framework, []) for r in results]
    through = Counter(iri for ranked in mine for iri in {e.query for m in ranked for e in m.evidence
                                                         if e.method == "crosswalk"})
    common = {iri for iri, n in through.items() if n > limit}
    counts = Counter(m.iri for ranked in mine for m in ranked if m.confident)
    crowded = {iri for iri, n in counts.items() if n > limit}
    if not crowded:
        return results
    out = []
    for result, ranked in zip(results, mine):
        kept = [replace(m, confident=False) if m.iri in crowded and m.confident and not holds(m, cutoff, common) else m
                for m in ranked]
        out.append(replace(result, profiles={**result.profiles, framework: kept}))
    return out


def holds(match: Match, cutoff: float, common: set[str]) -> bool:
    """Whether a confident match's evidence is this outcome's own: its text reaches the cut-off, or
    a confident ESCO match not shared by more than a third of the outcomes supports it."""
    if match.signals.get("confidence", 0.0) >= cutoff:
        return True
    return any(e.method == "crosswalk" and e.query not in common and e.score >= cutoff for e in match.evidence)


def suggestions(
    outcome: str, result: MappingResult, *, min_score: float | None = None, confident_only: bool = False
) -> list[TagIn]:
    """The profile entries of one mapped outcome that pass the filters, as tags with evidence; a
    near duplicate grouped under another suggested entry names it (``grouped_under``, its IRI, and
    ``grouped_label``) so the review can show the two together."""
    kept = [m for m in result.profile
            if (min_score is None or m.score >= min_score)
            and (m.confident or not (confident_only or m.framework in CONFIDENT_ONLY))]
    labels = {m.iri: m.label for m in kept}
    out = []
    for m in kept:
        evidence: dict[str, Any] = {"outcome": outcome, "confident": m.confident,
                                    "evidence": [evidence_dict(e) for e in m.evidence]}
        if m.grouped_under in labels:
            evidence.update(grouped_under=m.grouped_under, grouped_label=labels[m.grouped_under])
        out.append(TagIn(competency_iri=m.iri, framework=m.framework, label=m.label, score=m.score, evidence=evidence))
    return out


def suggest_and_store(
    engine: CompetencyMap,
    catalog: Catalog,
    credential: Credential,
    *,
    frameworks: Sequence[str] = ("esco",),
    top_k: int = DEFAULT_TOP_K,
    min_score: float | None = None,
    confident_only: bool = False,
) -> list[Tag]:
    """Suggest tags for every learning outcome of a stored credential (its title as their context)
    and store them in one transaction, keeping the decisions already made; the tags stored.
    Raises InputTextError for a credential without learning outcomes."""
    outcomes = credential.learning_outcomes
    if not outcomes:
        raise InputTextError(f"credential {credential.id} has no learning outcomes to map", field="learning_outcomes")
    suggested = suggest_tags(engine, [o.text for o in outcomes], frameworks=frameworks, top_k=top_k,
                             min_score=min_score, confident_only=confident_only, context=credential.title)
    return catalog.add_suggestions(credential.id, [(o.id, items) for o, items in zip(outcomes, suggested)])
