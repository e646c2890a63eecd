"""Choose the Skills for Success confidence cut-off for a stated precision, by k-fold cross-validation
on the learning-outcome development set.

Each outcome is mapped as the designer's page maps it (ESCO and Skills for Success together, the
credential title as context). A suggested skill's evidence is the best, over the suggestions that
belong to it (the skill or its components), of its own confidence (what the threshold reads: no
context, no generic word) and the support it takes from confident ESCO matches through the authored
crosswalk. The folds group outcomes by credential (a credential's outcomes never sit on both
sides). In each fold the cut-off is the lowest evidence value at which the training outcomes'
tags reach the wanted precision; the held-out fold reports precision and recall at it. The
cut-off to ship is the median of the folds'.

    python benchmarks/sfs_cutoff.py [--precision 0.8] [--folds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from competencymap.engine import CompetencyMap
from evaluation import Query, load_learning_outcomes

Scored = list[tuple[dict[str, float], frozenset[str]]]  # per outcome: skill name -> evidence, gold skill names


def evidence_by_skill(app: CompetencyMap, outcomes: Sequence[Query]) -> Scored:
    """For each outcome: the best evidence of each suggested Skills for Success skill, and its gold skills."""
    sfs = app.framework("sfs")
    name_of = {c.iri: c.pref_label for c in sfs.competencies.values()}
    results = app.map_many([q.text for q in outcomes], ["esco", "sfs"], top_k=5, kind="outcomes",
                           contexts=[q.context or None for q in outcomes])
    out: Scored = []
    for query, result in zip(outcomes, results):
        best: dict[str, float] = {}
        for match in result.profiles.get(sfs.id, []):
            skill = name_of.get(sfs.skill_of(match.iri) or "", "")
            value = max(match.signals.get("confidence", 0.0), match.signals.get("crosswalk", 0.0))
            best[skill] = max(best.get(skill, 0.0), value)
        out.append((best, query.sfs))
    return out


def counts(items: Scored, cutoff: float) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of the skills tagged at `cutoff`."""
    tp = fp = fn = 0
    for best, gold in items:
        tagged = {skill for skill, value in best.items() if value >= cutoff}
        tp += len(tagged & gold)
        fp += len(tagged - gold)
        fn += len(gold - tagged)
    return tp, fp, fn


def choose(items: Scored, precision: float) -> float:
    """The lowest cut-off at which the tags reach `precision` (the highest evidence value plus a
    little when none does: then nothing is tagged)."""
    values = sorted({v for best, _ in items for v in best.values()})
    for cutoff in values:
        tp, fp, _ = counts(items, cutoff)
        if tp + fp and tp / (tp + fp) >= precision:
            return round(cutoff, 4)
    return round((values[-1] if values else 0.0) + 0.01, 4)


def folds_by_credential(outcomes: Sequence[Query], k: int) -> list[list[int]]:
    """Outcome positions in `k` folds; a credential's outcomes stay together (assigned in turn)."""
    credentials = list(dict.fromkeys(q.context or q.id for q in outcomes))
    fold_of = {c: n % k for n, c in enumerate(credentials)}
    return [[i for i, q in enumerate(outcomes) if fold_of[q.context or q.id] == f] for f in range(k)]


def cross_validate(items: Scored, folds: list[list[int]], precision: float) -> list[dict]:
    rows = []
    for number, held_out in enumerate(folds, 1):
        held = set(held_out)
        train = [x for i, x in enumerate(items) if i not in held]
        test = [items[i] for i in held_out]
        cutoff = choose(train, precision)
        tp, fp, fn = counts(test, cutoff)
        rows.append({"fold": number, "outcomes": len(test), "cutoff": cutoff, "tagged": tp + fp,
                     "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                     "recall": round(tp / (tp + fn), 3) if tp + fn else None})
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", type=float, default=0.8)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    app = CompetencyMap()
    outcomes = load_learning_outcomes()
    items = evidence_by_skill(app, outcomes)
    rows = cross_validate(items, folds_by_credential(outcomes, args.folds), args.precision)
    cutoff = statistics.median(r["cutoff"] for r in rows)
    tp, fp, fn = counts(items, cutoff)
    print("| fold | outcomes | cut-off | tagged | precision | recall |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['fold']} | {r['outcomes']} | {r['cutoff']} | {r['tagged']} | {r['precision']} | {r['recall']} |")
    print(f"\nmedian cut-off {cutoff} for precision {args.precision}: on the whole set "
          f"precision {tp / (tp + fp) if tp + fp else 0:.3f}, recall {tp / (tp + fn) if tp + fn else 0:.3f} "
          f"({tp} right, {fp} wrong, {fn} missed)")
    print(json.dumps({"precision_wanted": args.precision, "cutoff": cutoff, "folds": rows}), file=sys.stderr)


if __name__ == "__main__":
    main()
