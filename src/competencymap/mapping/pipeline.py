"""Map whole texts onto frameworks: segment, score each statement, add crosswalk evidence,
aggregate a profile per framework.

The per-statement scoring is `competencymap.mapping.scoring` (signals, weights, the matcher), its
settings `competencymap.mapping.settings`; the types a mapping returns are in
`competencymap.mapping.results`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from competencymap._common.text import check_text
from competencymap.encoding.encoder import Encoder
from competencymap.mapping.profile import aggregate
from competencymap.mapping.results import Evidence, MappingResult, Match, StatementResult
from competencymap.mapping.scoring import FrameworkMatcher
from competencymap.model.framework import Framework, Relation
from competencymap.statements.language import Readable, main_language, set_aside
from competencymap.statements.roles import Reading, read
from competencymap.statements.segment import Statement


def split_text(text: str, kind: str = "auto", readable: Readable | None = None) -> Reading:
    """The text read line by line (`statements.roles.read`): its lines with their roles, the
    statements to map and those dropped (title, headings, company, benefits, boilerplate, context);
    a text with no statement left maps whole. With `readable`, each statement's language is
    detected and one in a language the model does not read is dropped too, with its reason
    (`statements.language.set_aside`)."""
    check_text(text)
    reading = read(text, kind=kind)
    if not reading.statements:
        stripped = text.strip()
        start = text.index(stripped)
        line = next((n.start for n in reading.lines if n.start <= start), -1)
        reading = replace(reading, statements=[Statement(stripped, start, start + len(stripped), line=line)])
    if readable is None:
        return reading
    kept, unread = set_aside(reading.statements, readable)
    return replace(reading, statements=kept, dropped=sorted(reading.dropped + unread, key=lambda s: s.start))


def not_read(reading: Reading) -> list[Statement]:
    """The statements of `reading` dropped for their language (detected, and not one the model reads)."""
    return [s for s in reading.dropped if s.language and s.reason]


MAPPING_WEIGHTS = {"exactMatch": 1.0, "closeMatch": 1.0, "broadMatch": 0.9, "narrowMatch": 0.8, "relatedMatch": 0.6}


@dataclass(frozen=True)
class GroupCrosswalk:
    """An authored crosswalk read through the source framework's hierarchy: `links` map source
    groups (or single concepts, such as ESCO's transversal skills) to target concepts; `groups`
    gives the groups above a source concept (nearest first) and `label` a source concept's name."""

    source: str
    links: dict[str, list[Relation]]
    groups: Callable[[str], tuple[str, ...]]
    label: Callable[[str], str]


Crosswalks = dict[str, GroupCrosswalk]  # target framework id -> how its matches take evidence from the source's


def map_texts(
    texts: Sequence[str],
    matchers: Sequence[FrameworkMatcher],
    *,
    encoder: Encoder,
    top_k: int = 10,
    kind: str = "auto",
    crosswalks: Crosswalks | None = None,
    contexts: Sequence[str | None] | None = None,
    statement_top_k: int | None = None,
    readable: Readable | None = None,
) -> list[MappingResult]:
    """Map several texts at once (their statements are encoded once, in shared batches).

    With `crosswalks`, a target framework's matches also take evidence from the source
    framework's matches of the same statement (see :func:`through_crosswalk`). A text's
    context (a credential's title, a posting's title), embedded by `encoder` (the one the
    matchers' statement vectors come from), lets its theme support fitting competencies in every
    statement (see `document_contexts`). `statement_top_k` (default `top_k`) caps each
    statement's matches; the profile keeps `top_k` per framework. With `readable` (the languages
    the model reads), statements in another language are not mapped: they are in each result's
    ``dropped`` and ``not_read``, and ``language`` is the text's main language."""
    split = [split_text(text, kind, readable) for text in texts]
    flat = [s for reading in split for s in reading.statements]
    counts = [len(reading.statements) for reading in split]
    around = document_contexts(encoder, counts, contexts) if matchers else None
    per_statement = statement_top_k or top_k
    per_framework = [matcher.rank_statements(flat, top_k=per_statement, contexts=around) for matcher in matchers]
    per_framework = _apply_crosswalks(matchers, per_framework, crosswalks or {}, per_statement)
    out, pos = [], 0
    for reading in split:
        statements = reading.statements
        results: list[StatementResult] = []
        profiles: dict[str, list[Match]] = {}
        for matcher, ranked in zip(matchers, per_framework):
            mine = [StatementResult(s, matcher.framework.id, m) for s, m in zip(statements, ranked[pos : pos + len(statements)])]
            results += mine
            profiles[matcher.framework.id] = aggregate(mine, top_k=top_k, similarity=matcher.similarity)
        unread = not_read(reading)
        language = main_language([*statements, *unread]) if readable is not None else ""
        out.append(MappingResult(statements, results, profiles, reading.dropped, reading.lines, language, unread))
        pos += len(statements)
    return out


def document_contexts(encoder: Encoder, counts: Sequence[int],
                      contexts: Sequence[str | None] | None) -> list[np.ndarray | None] | None:
    """One context vector per statement: the embedding by `encoder` (the one the statements are
    embedded with) of its text's context (None without one); `counts` are the texts' statements.

    Only what the caller gives counts as context: on the learning-outcome development set, a
    credential's title helped (MRR 0.58 -> 0.62) where the mean of its other outcomes did not."""
    if not contexts or not any(c and c.strip() for c in contexts):
        return None
    if len(contexts) != len(counts):
        raise ValueError(f"{len(contexts)} contexts for {len(counts)} texts")
    given = [c.strip() if c and c.strip() else "" for c in contexts]
    wanted = list(dict.fromkeys(c for c in given if c))
    vectors = dict(zip(wanted, encoder.encode(wanted)))
    out: list[np.ndarray | None] = []
    for context, count in zip(given, counts):
        out += [vectors[context] if context else None] * count
    return out


def _apply_crosswalks(
    matchers: Sequence[FrameworkMatcher], ranked: list[list[list[Match]]], crosswalks: Crosswalks, top_k: int
) -> list[list[list[Match]]]:
    ids = [m.framework.id for m in matchers]
    out = list(ranked)
    for target, crosswalk in crosswalks.items():
        if target in ids and crosswalk.source in ids:
            t, s = ids.index(target), ids.index(crosswalk.source)
            matcher = matchers[t]
            out[t] = [
                through_crosswalk(mine, theirs, crosswalk, matcher.framework, matcher.config.threshold_for(target), top_k)
                for mine, theirs in zip(ranked[t], ranked[s])
            ]
    return out


def through_crosswalk(
    matches: list[Match], source: list[Match], crosswalk: GroupCrosswalk, framework: Framework,
    threshold: float, top_k: int,
) -> list[Match]:
    """Add crosswalk evidence to a statement's matches in the target framework.

    Only a *confident* source match supports anything (a wrong sense of a word, "warehousing" for a
    data warehouse, is rarely confident): through itself or any group above it that the crosswalk
    maps, it supports the target concepts mapped there with score = its confidence score x the
    mapping's weight (`MAPPING_WEIGHTS`: a close match counts whole, a related one 0.6); the best
    path per target counts, and its evidence names the source skill and the group it came through.
    The target's score becomes the larger of its own and that support (a concept found only
    through the crosswalk is added with the support as its score), and it is confident when
    either is."""
    by_iri = {m.iri: m for m in matches}
    for theirs in source:
        if not theirs.confident:
            continue
        for target, (support, evidence) in _supports(theirs, crosswalk).items():
            concept = framework.competencies.get(target)
            if concept is None:
                continue
            current = by_iri.get(target) or Match(concept.iri, concept.pref_label, framework.id, 0.0, concept.kind)
            signals = {**current.signals, "crosswalk": max(current.signals.get("crosswalk", 0.0), support)}
            by_iri[target] = replace(current, score=max(current.score, support),
                                     confident=current.confident or support >= threshold,
                                     evidence=current.evidence + (evidence,), signals=signals)
    return sorted(by_iri.values(), key=lambda m: -m.score)[:top_k]


def _supports(theirs: Match, crosswalk: GroupCrosswalk) -> dict[str, tuple[float, Evidence]]:
    """Target IRI -> the best support one confident source match gives it, with its evidence."""
    confidence = theirs.signals.get("confidence", theirs.score)
    best: dict[str, tuple[float, Evidence]] = {}
    for via in (theirs.iri, *crosswalk.groups(theirs.iri)):
        for link in crosswalk.links.get(via, ()):
            support = round(confidence * MAPPING_WEIGHTS.get(link.type, 0.0), 4)
            if support <= best.get(link.target, (0.0, None))[0]:
                continue
            path = theirs.label if via == theirs.iri else f"{theirs.label} (in {crosswalk.label(via)})"
            best[link.target] = (support, Evidence("crosswalk", link.type, path, support, query=theirs.iri))
    return best
