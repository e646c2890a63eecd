"""Choose the pipeline's signal weights on the validation sets (how PipelineConfig was set).

Collects each sentence's candidates and raw signals once (every stage on), then scores a grid
of weights offline. The objective is the mean over the three sets (TECH, HOUSE, learning
outcomes) of (MRR + R-Precision@5) / 2; the grid is coarse on purpose, so the weights stay
round numbers rather than fitting these few sentences. Also prints the score distribution
of correct and wrong top matches, which is how the confidence threshold is chosen.

    python benchmarks/tune_weights.py

The occupation-context weight was tuned here too, with the best of the rest; it gave no gain and
was removed in the re-layout (its figures are in git history).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from competencymap._common.config import load_settings
from competencymap.engine import CompetencyMap
from competencymap.mapping.scoring import FrameworkMatcher, Signals
from competencymap.mapping.settings import PipelineConfig
from competencymap.statements.segment import Statement
from evaluation import score
from skill_extraction import load_sets

GRID = {
    "description_weight": [0.0, 0.2, 0.35, 0.5, 0.75],
    "phrase_weight": [0.0, 0.8, 0.9, 1.0],
    "bm25_weight": [0.0, 0.05, 0.1, 0.2],
    "exact_weight": [0.0, 0.1, 0.15, 0.25],
}


def collect(matcher: FrameworkMatcher, texts: list[str]) -> list[tuple[list[str], Signals]]:
    """Per text: candidate IRIs and their raw signals (every stage on)."""
    statements = [Statement(t, 0, len(t)) for t in texts]
    return [(matcher.candidate_iris(found), found) for found in matcher.statement_signals(statements)]


def ranking(matcher: FrameworkMatcher, item: tuple[list[str], Signals], weights: dict[str, float]) -> list[str]:
    iris, found = item
    total = matcher.weigh(found, matcher.config.only(**weights)).total
    order = np.argsort(-total, kind="stable")[:100]
    return [iris[j] for j in order]


def main() -> None:
    app = CompetencyMap(load_settings())
    sets = load_sets(app, ["tech", "house", "outcomes"])
    sets.pop("OUTCOMES hard", None)
    matcher = app.matcher("esco", PipelineConfig(candidates=200))
    data = {name: collect(matcher, [q.text for q in queries]) for name, queries in sets.items()}
    grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    results = evaluate(matcher, grid, sets, data)
    default = PipelineConfig()
    current = {k: getattr(default, k) for k in GRID}
    if not any(r[1] == current for r in results):
        results += evaluate(matcher, [current], sets, data)
    results.sort(key=lambda r: -r[0])
    for objective, weights, per_set in results[:15]:
        cells = "  ".join(f"{n} {f['mrr']:.3f}/{f['rp@5']:.3f}" for n, f in per_set.items())
        print(f"{objective:.4f}  {json.dumps(weights)}  {cells}")
    mine = next(r for r in results if r[1] == current)
    print("shipped default:", f"{mine[0]:.4f}", json.dumps(current),
          "  ".join(f"{n} {f['mrr']:.3f}/{f['rp@5']:.3f}" for n, f in mine[2].items()))
    threshold_report(app, sets)


def evaluate(matcher: FrameworkMatcher, grid: list[dict], sets: dict, data: dict) -> list:
    results = []
    for weights in grid:
        per_set = {}
        for name, queries in sets.items():
            figures = score([ranking(matcher, item, weights) for item in data[name]], queries)
            per_set[name] = figures
        objective = float(np.mean([(f["mrr"] + f["rp@5"]) / 2 for f in per_set.values()]))
        results.append((objective, weights, per_set))
    results.sort(key=lambda r: -r[0])
    return results


def threshold_report(app: CompetencyMap, sets: dict) -> None:
    """Precision of the top-1 match above each score cut-off, with the shipped weights."""
    matcher = app.matcher("esco")
    tops = []
    for queries in sets.values():
        for query, ranked in zip(queries, matcher.rank([q.text for q in queries], top_k=1)):
            if ranked:
                tops.append((ranked[0].score, ranked[0].iri in query.gold))
    print("cut-off  top-1 above  precision above")
    for cut in np.arange(0.4, 1.01, 0.05):
        above = [ok for value, ok in tops if value >= cut]
        if above:
            print(f"{cut:7.2f}  {len(above):11d}  {sum(above) / len(above):15.3f}")


if __name__ == "__main__":
    main()
