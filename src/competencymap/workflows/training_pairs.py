"""Training pairs for adapting the encoder, from what the field itself teaches.

- ESCO: each skill's description, alternative and hidden labels against its preferred label
  (the group the skill sits in travels with the pair, so batches can put siblings together);
  each occupation's description against one of its essential skills (the others are marked
  as named too, never negatives).
- SkillSkape's training split (bundled under data/training/skillskape, MIT): LLM-written job-ad
  sentences against the ESCO skills they were generated for.
- A catalog's decisions: each accepted tag's outcome against the tag, with a rejected tag of the
  same outcome as its wrong answer.

Never the TECH/HOUSE/TECHWOLF test splits, nor any set a benchmark reports as held out.
"""

from __future__ import annotations

import ast
import csv
import random
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from competencymap.catalog.repository import Catalog
from competencymap.encoding.training import Pair
from competencymap.model.framework import KIND_GROUP, REL_ESSENTIAL, Competency, Framework

SKILLSKAPE = Path("training") / "skillskape" / "train.csv"  # under the data folder


def esco_pairs(framework: Framework, *, seed: int = 13, alternatives: int = 2, hidden: int = 1,
               occupations: bool = True) -> list[Pair]:
    """Pairs from one ESCO framework: per skill its description, up to `alternatives` alternative
    labels and `hidden` hidden labels (chosen by the seed) against its preferred label."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for skill in sorted(framework.skills(), key=lambda c: c.iri):
        group = _group(framework, skill)
        anchors = [skill.description] if skill.description else []
        anchors += _sample(rng, skill.alt_labels, alternatives) + _sample(rng, skill.hidden_labels, hidden)
        pairs += [Pair(text, skill.pref_label, skill.iri, group=group) for text in anchors if _usable(text, skill)]
    if occupations:
        pairs += occupation_pairs(framework, rng)
    return pairs


def _group(framework: Framework, skill: Competency) -> str:
    """The skill's nearest skill group (through broader skills where it has no group of its own)."""
    for concept in framework.broader_chain(skill.iri):
        if isinstance(concept, Competency) and concept.kind == KIND_GROUP:
            return concept.iri
    return ""


def _sample(rng: random.Random, texts: Sequence[str], count: int) -> list[str]:
    choices = sorted(set(texts))
    rng.shuffle(choices)
    return choices[:count]


def _usable(text: str, skill: Competency) -> bool:
    return bool(text.strip()) and text.strip().lower() != skill.pref_label.lower()


def occupation_pairs(framework: Framework, rng: random.Random) -> list[Pair]:
    """Each released occupation's description against one essential skill; the rest of its
    essential skills are named too (masked, never negatives)."""
    essential: dict[str, list[str]] = {}
    for relation in framework.relations:
        if relation.type == REL_ESSENTIAL and relation.target in framework.competencies:
            essential.setdefault(relation.source, []).append(relation.target)
    pairs = []
    for iri, occupation in sorted(framework.occupations.items()):
        skills = sorted(essential.get(iri, []))
        if not occupation.description or not skills:
            continue
        chosen = framework.competencies[rng.choice(skills)]
        pairs.append(Pair(occupation.description, chosen.pref_label, chosen.iri, also=frozenset(skills),
                          group=_group(framework, chosen)))
    return pairs


def skillskape_rows(path: Path, framework: Framework) -> tuple[list[tuple[str, list[Competency]]], int]:
    """Each SkillSkape row as (sentence, its skills), the labels matched to ESCO by preferred label,
    exactly after trimming, then ignoring case; and how many labels matched no skill."""
    by_label = {c.pref_label.strip(): c for c in framework.skills()}
    by_lower = {label.lower(): c for label, c in by_label.items()}
    rows: list[tuple[str, list[Competency]]] = []
    unmatched = 0
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            labels = _labels(row.get("skills") or "")
            skills = [by_label.get(label.strip()) or by_lower.get(label.strip().lower()) for label in labels]
            unmatched += sum(s is None for s in skills)
            rows.append(((row.get("sentence") or "").strip(), [s for s in skills if s is not None]))
    return rows, unmatched


def skillskape_pairs(path: Path, framework: Framework) -> tuple[list[Pair], int]:
    """SkillSkape sentences against each of their skills (`skillskape_rows`). Returns the pairs and
    how many labels matched no skill."""
    rows, unmatched = skillskape_rows(path, framework)
    pairs: list[Pair] = []
    for sentence, found in rows:
        named = frozenset(s.iri for s in found)
        pairs += [Pair(sentence, s.pref_label, s.iri, also=named, group=_group(framework, s))
                  for s in found if sentence]
    return pairs, unmatched


def _labels(value: str) -> list[str]:
    """A Python list literal of labels, read without evaluating code."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return []
    return [x for x in parsed if isinstance(x, str)] if isinstance(parsed, list) else []


def decision_pairs(decisions: Iterable[tuple[str, str, str, bool]]) -> Iterator[Pair]:
    """Pairs from designers' decisions: (outcome text, concept IRI, concept label, accepted).

    Each accepted tag becomes a pair; a rejected tag of the same outcome becomes its wrong answer
    (one per accepted tag, in turn)."""
    accepted: dict[str, list[tuple[str, str]]] = {}
    rejected: dict[str, list[str]] = {}
    for text, iri, label, ok in decisions:
        (accepted.setdefault(text, []).append((iri, label)) if ok else rejected.setdefault(text, []).append(label))
    for text, tags in accepted.items():
        named = frozenset(iri for iri, _ in tags)
        wrong = rejected.get(text, [])
        for n, (iri, label) in enumerate(tags):
            yield Pair(text, label, iri, also=named, negative=wrong[n % len(wrong)] if wrong else "")


def catalog_decisions(catalog: Catalog, *, page: int = 200) -> Iterator[tuple[str, str, str, bool]]:
    """Every decided outcome tag of a catalog: (outcome text, concept IRI, label, accepted), credential
    by credential (paged, so a large catalog is never read at once)."""
    offset = 0
    while True:
        credentials = catalog.list_credentials(limit=page, offset=offset)
        for credential in credentials:
            texts = {o.id: o.text for o in credential.learning_outcomes}
            for tag in catalog.list_tags(credential.id):
                if tag.outcome_id in texts and tag.state in ("accepted", "rejected"):
                    yield texts[tag.outcome_id], tag.competency_iri, tag.label, tag.state == "accepted"
        if len(credentials) < page:
            return
        offset += page
