"""One profile per text and framework: the statements' matches aggregated.

The rules (docs/design.md, section 14):

- **Every competency stays.** The profile ranks every match of every statement: a one-statement
  text's profile is that statement's ranking (same competencies, same order).
- **Near duplicates are grouped, not removed.** Within one statement's 30 best matches, a match
  whose preferred label is as close as :data:`DUPLICATE` (cosine) to a better match of the same
  statement — or as close as :data:`SAME_SPAN_DUPLICATE` when the same words found both — keeps
  its own entry at its own rank, marked ``grouped_under`` that better match and listed as one of
  its ``related`` concepts ("load cargo onto ships" groups "unload cargo" and "supervise loading
  of cargo"), so a display can show one line as one group and a need is made once per group,
  while an enumeration ("MySQL and PostgreSQL") keeps each item ungrouped, found by its own words.
  An entry that stands on its own in any statement is not grouped; one grouped under an entry
  that is not in the profile's top k stands on its own.
- **Support.** A competency found by several lines ranks by its best score plus
  :data:`SUPPORT_BONUS` for every further line where it is confident (half that where it is
  not); ``support`` counts the lines (`Statement.line`; a statement read without its lines counts
  as one), so a line contributes a competency once however many of its statements found it, and
  a near duplicate lends no support to the entry it is grouped under (it is an entry of its own).
- **Optional.** A statement of an asset line (role ``asset`` in `statements.roles`: "French is an
  asset", under "Nice to have", "preferred", "bonus") makes its matches ``optional``; an entry is
  required when a required line names it confidently, or when its best match comes from a
  required line; otherwise (its best reading is an asset line's, and required lines find it only
  as a weak candidate — "write French" among the readings of "communication in English") it is
  optional.
- **Required first.** The ``top_k`` entries of best score make the profile (so an asset line's
  skills stay in it, as they would by score); they are sorted with every required entry before
  every optional one, then by that score, best first: an asset line's skills never lead a profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from competencymap.mapping.results import Match, StatementResult, evidence_span
from competencymap.statements.roles import ASSET, is_asset
from competencymap.statements.segment import Statement

SUPPORT_BONUS = 0.03
DUPLICATE = 0.7  # cosine of two preferred labels at which one statement's matches are one entry
SAME_SPAN_DUPLICATE = 0.6  # the same, when both were found by the same words of the statement
COLLAPSE_TOP = 30  # a statement's best matches among which near duplicates are folded

Similarity = Callable[[Sequence[str]], np.ndarray]  # IRIs -> their pairwise preferred-label cosines



def is_optional(text: str) -> bool:
    """True for a statement that marks what it names as welcome but not required."""
    return is_asset(text)


def _optional(statement: Statement) -> bool:
    """An asset line's statement, or one whose own words mark it (a statement read without roles)."""
    return statement.role == ASSET or is_asset(statement.text)


def group(matches: Sequence[Match], similarity: Similarity | None, *, at: float = DUPLICATE) -> list[Match]:
    """One statement's matches, best first, every one kept: each near duplicate is marked
    ``grouped_under`` the better match it is close to and listed in that match's ``related``."""
    if similarity is None or len(matches) < 2:
        return list(matches)
    everything = sorted(matches, key=lambda m: -m.score)
    ordered, rest = everything[:COLLAPSE_TOP], everything[COLLAPSE_TOP:]
    cosines = similarity([m.iri for m in ordered])
    spans = [evidence_span(m) for m in ordered]
    numbered = {span: n for n, span in enumerate(dict.fromkeys(s for s in spans if s is not None))}
    ids = np.array([numbered[span] if span is not None else -1 - n for n, span in enumerate(spans)])  # no span: equal to none
    limits = np.where(ids[:, None] == ids[None, :], min(at, SAME_SPAN_DUPLICATE), at)
    close = (cosines >= limits).T.tolist()  # close[i][k]: i would be grouped under a head k
    heads: list[int] = []
    home: dict[int, int] = {}
    related: dict[int, list[str]] = {}
    for i in range(len(ordered)):
        row = close[i]
        found = next((k for k in heads if row[k]), None)
        if found is None:
            heads.append(i)
        else:
            home[i] = found
            related.setdefault(found, []).append(ordered[i].iri)
    out = []
    for i, match in enumerate(ordered):
        if i in home:
            match = replace(match, grouped_under=ordered[home[i]].iri)
        elif i in related:
            match = replace(match, related=match.related + tuple(related[i]))
        out.append(match)
    return out + rest


def _settled(match: Match, support: int, optional: bool, related: tuple[str, ...], grouped_under: str) -> Match:
    """The profile entry of a match (a new object only when one of these changed)."""
    if (support, optional, related, grouped_under) == (match.support, match.optional, match.related, match.grouped_under):
        return match
    return replace(match, support=support, optional=optional, related=related, grouped_under=grouped_under)


def aggregate(results: Sequence[StatementResult], *, top_k: int = 20, similarity: Similarity | None = None) -> list[Match]:
    """A text's profile for one framework under the rules in the module docstring."""
    best: dict[str, Match] = {}
    bonus: dict[str, float] = {}
    lines: dict[str, dict[object, bool]] = {}  # IRI -> the lines that found it -> confident in any of its statements
    required: set[str] = set()  # found by a required line confidently, or best found by a required line
    weakly: set[str] = set()  # found by a required line, not confidently
    best_optional: dict[str, bool] = {}
    heads: set[str] = set()  # entries standing on their own in at least one statement
    related: dict[str, list[str]] = {}
    for n, result in enumerate(results):
        optional = _optional(result.statement)
        line = result.statement.line if result.statement.line >= 0 else ("statement", n)
        for match in group(result.matches, similarity):
            iri = match.iri
            found = lines.setdefault(iri, {})
            found[line] = found.get(line, False) or match.confident
            if not optional:
                (required if match.confident else weakly).add(iri)
            if not match.grouped_under:
                heads.add(iri)
            related.setdefault(iri, [])
            related[iri] += [r for r in match.related if r not in related[iri]]
            if iri not in best or match.score > best[iri].score:
                best[iri] = match
                best_optional[iri] = optional
    required |= {iri for iri in weakly if not best_optional[iri]}
    for iri, found in lines.items():
        further = list(found.values())[1:]  # every line after the first to find it
        bonus[iri] = sum(SUPPORT_BONUS if confident else SUPPORT_BONUS / 2 for confident in further)
    chosen = sorted(best.values(), key=lambda m: m.score + bonus[m.iri], reverse=True)[:top_k]
    ranked = sorted(chosen, key=lambda m: m.iri not in required)  # stable: by score within each part
    shown = {m.iri for m in ranked}
    return [_settled(m, len(lines[m.iri]), m.iri not in required, tuple(r for r in related[m.iri] if r not in heads),
                     "" if m.iri in heads or m.grouped_under not in shown else m.grouped_under)
            for m in ranked]
