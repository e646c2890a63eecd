"""Validation sets and ranking metrics shared by the benchmark scripts."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from competencymap.model.framework import Framework
from competencymap.workflows.training_pairs import skillskape_rows

HERE = Path(__file__).resolve().parent
SKILL_EXTRACTION = HERE / "data" / "skill-extraction"
# The learning-outcomes set must not ship with the product, so it is read where the project's
# shared material lives (beside the repository) rather than copied into it.
LEARNING_OUTCOMES = HERE.parent.parent / "shared" / "benchmarks" / "learning-outcomes" / "outcomes_dev.jsonl"
NO_SKILL = {"LABEL NOT PRESENT", "UNDERSPECIFIED"}


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    gold: frozenset[str]  # ESCO skill IRIs
    hard: bool = False
    context: str = ""  # the credential a learning outcome belongs to (its title), as a designer gives it
    sfs: frozenset[str] = frozenset()  # Skills for Success skill names (learning outcomes)


def load_skill_extraction(name: str, label_to_iri: Mapping[str, str]) -> list[Query]:
    """Group the annotation rows by sentence; gold labels become IRIs by preferred label."""
    path = SKILL_EXTRACTION / f"{name}_validation_annotations.csv"
    gold: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = row["label"]
            if label in NO_SKILL:
                continue
            if label not in label_to_iri:
                raise KeyError(f"{path.name}: label {label!r} is not an ESCO preferred label")
            gold.setdefault(row["sentence"], set()).add(label_to_iri[label])
    return [Query(f"{name}-{i}", text, frozenset(g)) for i, (text, g) in enumerate(gold.items())]


def load_learning_outcomes(path: Path = LEARNING_OUTCOMES) -> list[Query]:
    queries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            hard = "hard case" in item.get("note", "") and "hard-ish" not in item.get("note", "")
            queries.append(Query(item["id"], item["text"], frozenset(item["esco"]), hard,
                                 item.get("credential", ""), frozenset(item.get("sfs", []))))
    return queries


def score(rankings: Sequence[Sequence[str]], queries: Sequence[Query]) -> dict[str, float]:
    """MRR (first gold within the top 100), R-Precision@5, Recall@10 and hit@5."""
    mrr = rp5 = r10 = h5 = 0.0
    for ranked, query in zip(rankings, queries, strict=True):
        gold = query.gold
        first = next((i for i, iri in enumerate(ranked[:100]) if iri in gold), None)
        mrr += 0.0 if first is None else 1.0 / (first + 1)
        hits5 = sum(1 for iri in ranked[:5] if iri in gold)
        rp5 += hits5 / min(5, len(gold))
        r10 += len(gold & set(ranked[:10])) / len(gold)
        h5 += hits5 > 0
    n = len(queries)
    return {"mrr": mrr / n, "rp@5": rp5 / n, "recall@10": r10 / n, "hit@5": h5 / n, "n": n}


SKILLSKAPE = HERE.parent.parent / "shared" / "benchmarks" / "skillskape"


def load_skillskape(split: str, framework: Framework) -> list[Query]:
    """SkillSkape's `split` (dev or test; train is training data) as queries, read as the training
    pairs read it (`workflows.training_pairs.skillskape_rows`); sentences with no matched label are
    left out."""
    rows, _ = skillskape_rows(SKILLSKAPE / f"{split}.csv", framework)
    return [Query(f"skillskape-{split}-{n}", sentence, frozenset(s.iri for s in skills))
            for n, (sentence, skills) in enumerate(rows) if sentence and skills]
