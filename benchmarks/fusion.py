"""Learn the fusion of the matcher's signals (logistic regression), k-fold cross-validated, and write it.

Signals of every candidate of every statement are collected once with the chosen model (every
stage on). Sets used to learn (each split in k folds; a learning outcome's credential stays in
one fold): the TECH and HOUSE skill-extraction validation sets, the learning-outcome development
set and SkillSkape's dev split. In fold f the regression is fitted on the other folds of all four
and scores fold f, so every figure below is from statements the fusion never saw; the
confidence cut-off is chosen the same way (on the training folds, for top-1 precision
--precision) and reported on the held-out fold — on the three sets people annotated only
(SkillSkape's labels are distant supervision: loosely related skills count as gold there). Each
set weighs the same in the regression. SkillSkape's *test* split is never used to learn:
it is scored with the fusion fitted on all four sets. The encoder was trained on SkillSkape's
*train* split, which is why it is not used here (its signals would be inflated).

    python benchmarks/fusion.py [--model esco-minilm-l6] [--folds 5] [--precision 0.8] [--write]

Prints the table (hand-set weights vs learned fusion, per set) and the coefficients; writes
benchmarks/results/fusion-<model>.{json,md}; with --write also the model's fusion.json
(data/models/<model>/fusion.json), the fusion the product ships.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from competencymap._common.config import load_settings
from competencymap.engine import CompetencyMap
from competencymap.mapping.fusion import FEATURES, Fusion, cut_for_precision, fit, write_fusion
from competencymap.mapping.pipeline import document_contexts
from competencymap.mapping.scoring import FrameworkMatcher, signal_matrix
from competencymap.mapping.settings import PipelineConfig
from competencymap.statements.segment import Statement
from evaluation import Query, load_learning_outcomes, load_skill_extraction, load_skillskape, score
from sfs_cutoff import folds_by_credential

LEARN = ("TECH", "HOUSE", "OUTCOMES", "SKILLSKAPE dev")
HUMAN = ("TECH", "HOUSE", "OUTCOMES")  # annotated by people: the confidence cut-off is chosen on these only
REPORT_ONLY = ("SKILLSKAPE test",)


@dataclass
class Collected:
    """One statement's candidates: IRIs, signal columns, gold flags, and the hand-set total."""

    iris: list[str]
    columns: np.ndarray
    gold: np.ndarray
    hand: np.ndarray


def load_all(app: CompetencyMap) -> dict[str, list[Query]]:
    framework = app.framework("esco")
    by_label = {c.pref_label: c.iri for c in framework.skills()}
    return {"TECH": load_skill_extraction("tech", by_label), "HOUSE": load_skill_extraction("house", by_label),
            "OUTCOMES": load_learning_outcomes(), "SKILLSKAPE dev": load_skillskape("dev", framework),
            "SKILLSKAPE test": load_skillskape("test", framework)}


def collect(app: CompetencyMap, matcher: FrameworkMatcher, queries: Sequence[Query]) -> list[Collected]:
    statements = [Statement(q.text, 0, len(q.text)) for q in queries]
    titles = [q.context for q in queries]
    contexts = document_contexts(app.encoder, [1] * len(queries), titles) if any(titles) else None
    hand = PipelineConfig()
    out = []
    for query, found in zip(queries, matcher.statement_signals(statements, contexts)):
        iris = matcher.candidate_iris(found)
        out.append(Collected(iris, signal_matrix(found), np.array([i in query.gold for i in iris]),
                             matcher.weigh(found, hand).total))
    return out


def ranked(item: Collected, values: np.ndarray) -> list[str]:
    return [item.iris[j] for j in np.argsort(-values, kind="stable")[:100]]


def folds_of(name: str, queries: Sequence[Query], k: int, seed: int) -> list[int]:
    """The fold of each query: by credential for learning outcomes, else a seeded shuffle."""
    if name == "OUTCOMES":
        fold = [0] * len(queries)
        for f, members in enumerate(folds_by_credential(queries, k)):
            for i in members:
                fold[i] = f
        return fold
    order = list(range(len(queries)))
    random.Random(seed).shuffle(order)
    fold = [0] * len(queries)
    for n, i in enumerate(order):
        fold[i] = n % k
    return fold


OBJECTIVE = "pairwise"
HARD = 30  # a statement's best-scoring wrong candidates (hand-set weights) paired with each right one


def learn(groups: Sequence[Sequence[Collected]]) -> Fusion:
    return learn_pairwise(groups) if OBJECTIVE == "pairwise" else learn_pointwise(groups)


def learn_pairwise(groups: Sequence[Sequence[Collected]]) -> Fusion:
    """A ranking regression: within each statement, each right candidate against its HARD best-scoring
    wrong ones (the difference of their signals, both ways round), each set and each statement
    weighing the same; then the scores are turned into probabilities by a one-variable logistic
    regression of right/wrong on them (Platt scaling) over every candidate."""
    differences, labels, weights = [], [], []
    for items in groups:
        usable = [c for c in items if c.gold.any() and (~c.gold).any()]
        for item in usable:
            wrong = np.flatnonzero(~item.gold)
            wrong = wrong[np.argsort(-item.hand[wrong], kind="stable")[:HARD]]
            right = np.flatnonzero(item.gold)
            diff = (item.columns[right][:, None, :] - item.columns[wrong][None, :, :]).reshape(-1, item.columns.shape[1])
            weight = 1.0 / (len(groups) * len(usable) * len(diff))
            differences += [diff, -diff]
            labels += [np.ones(len(diff)), np.zeros(len(diff))]
            weights += [np.full(len(diff), weight)] * 2
    x, y, w = np.vstack(differences), np.concatenate(labels), np.concatenate(weights)
    ranking = fit(x, y.astype(int), weights=w * len(w))
    direction = np.asarray(ranking.coefficients, np.float32)
    scores = np.concatenate([c.columns @ direction for items in groups for c in items])[:, None]
    gold = np.concatenate([c.gold for items in groups for c in items]).astype(int)
    platt = fit(np.hstack([scores, np.zeros((len(scores), len(FEATURES) - 1), np.float32)]), gold)
    scale = platt.coefficients[0]
    return Fusion(tuple(round(float(c) * scale, 5) for c in direction), platt.intercept, 0.5)


def learn_pointwise(groups: Sequence[Sequence[Collected]]) -> Fusion:
    """The regression over several sets, each set weighing the same in total (SkillSkape's many
    loosely labelled sentences must not decide alone)."""
    columns = np.vstack([c.columns for items in groups for c in items])
    gold = np.concatenate([c.gold for items in groups for c in items]).astype(int)
    rows = [sum(len(c.iris) for c in items) for items in groups]
    weights = np.concatenate([np.full(n, len(columns) / (len(groups) * max(n, 1))) for n in rows])
    return fit(columns, gold, weights=weights)


def top_ones(fusion: Fusion, items: Sequence[Collected]) -> tuple[list[float], list[bool]]:
    scores, right = [], []
    for item in items:
        if len(item.iris):
            p = fusion.probability(item.columns)
            j = int(np.argmax(p))
            scores.append(float(p[j]))
            right.append(bool(item.gold[j]))
    return scores, right


def cross_validate(data: dict[str, list[Collected]], sets: dict[str, list[Query]], k: int, seed: int,
                   precision: float) -> tuple[dict[str, list[list[str]]], list[dict]]:
    """Held-out rankings of every learning set, and per fold the cut-off chosen and its held-out precision."""
    folds = {name: folds_of(name, sets[name], k, seed) for name in LEARN}
    rankings: dict[str, list[list[str]]] = {name: [[] for _ in sets[name]] for name in LEARN}
    rows = []
    for f in range(k):
        train = {name: [c for c, g in zip(data[name], folds[name]) if g != f] for name in LEARN}
        held = {name: [i for i, g in enumerate(folds[name]) if g == f] for name in LEARN}
        fusion = learn(list(train.values()))
        cutoff = cut_for_precision(*top_ones(fusion, [c for name in HUMAN for c in train[name]]), precision)
        scores, right = top_ones(fusion, [data[name][i] for name in HUMAN for i in held[name]])
        tagged = [ok for s, ok in zip(scores, right) if s >= cutoff]
        rows.append({"fold": f + 1, "cutoff": round(cutoff, 3), "held_out_statements": len(scores),
                     "confident": len(tagged), "precision": round(sum(tagged) / len(tagged), 3) if tagged else None,
                     "share_confident": round(len(tagged) / max(len(scores), 1), 3),
                     "coefficients": dict(zip(FEATURES, fusion.coefficients))})
        for name in LEARN:
            for i in held[name]:
                item = data[name][i]
                rankings[name][i] = ranked(item, fusion.probability(item.columns)) if len(item.iris) else []
    return rankings, rows


def pooled_cv_precision(rows: list[dict]) -> float | None:
    confident = sum(r["confident"] for r in rows)
    right = sum(round((r["precision"] or 0) * r["confident"]) for r in rows)
    return round(right / confident, 3) if confident else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="embedding model (default: the shipped default)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--precision", type=float, default=0.8, help="wanted precision of a confident top match")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--objective", choices=("pairwise", "pointwise"), default="pairwise")
    parser.add_argument("--write", action="store_true", help="write the model's fusion.json (the shipped fusion)")
    args = parser.parse_args(argv)
    global OBJECTIVE
    OBJECTIVE = args.objective
    print(f"load before: {os.getloadavg()}", file=sys.stderr)
    app = CompetencyMap(load_settings(model=args.model))
    app.index("esco", build=True, progress=True)
    sets = load_all(app)
    matcher = app.matcher("esco", PipelineConfig())
    started = time.perf_counter()
    data = {name: collect(app, matcher, queries) for name, queries in sets.items()}
    print(f"signals collected in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    learned, fold_rows = cross_validate(data, sets, args.folds, args.seed, args.precision)
    final = learn([data[name] for name in LEARN])
    final = Fusion(final.coefficients, final.intercept, cut_for_precision(
        *top_ones(final, [c for name in HUMAN for c in data[name]]), args.precision))
    rows = []
    for name, queries in sets.items():
        hand = score([ranked(c, c.hand) for c in data[name]], queries)
        mine = score(learned[name], queries) if name in LEARN else score(
            [ranked(c, final.probability(c.columns)) if len(c.iris) else [] for c in data[name]], queries)
        how = f"{args.folds}-fold cross-validated" if name in LEARN else "fitted on the four learning sets (never on this one)"
        rows.append({"set": name, "n": len(queries), "learned_how": how,
                     "hand_set": {k: round(v, 3) for k, v in hand.items() if k != "n"},
                     "learned": {k: round(v, 3) for k, v in mine.items() if k != "n"}})
    table = markdown(app.encoder.name, rows, fold_rows, final)
    print(table)
    print(f"load after: {os.getloadavg()}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"fusion-{app.encoder.name}"
    report = {"model": app.encoder.name, "command": "python benchmarks/fusion.py" + " ".join(
        [f" --model {args.model}" if args.model else "", " --write" if args.write else ""]),
              "rows": rows, "folds": fold_rows, "fusion": final.as_dict(), "precision_wanted": args.precision}
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(table)
    if args.write:
        folder = app.encoder.adapter_folder
        if folder is None:
            raise SystemExit("--write needs an adapted model (its fusion ships beside its adapter)")
        path = write_fusion(final, folder, {"learned_on": list(LEARN), "folds": args.folds,
                                            "precision_wanted": args.precision, "command": report["command"],
                                            "cross_validated": rows})
        print(f"wrote {path}", file=sys.stderr)


def markdown(model: str, rows: list[dict], folds: list[dict], final: Fusion) -> str:
    lines = [f"Model {model}; MRR / RP@5 / R@10 / hit@5 over every ESCO skill.", "",
             "| set | n | hand-set weights | learned fusion | how the learned figure was made |", "|---|---|---|---|---|"]
    for r in rows:
        h, m = r["hand_set"], r["learned"]
        lines.append(f"| {r['set']} | {r['n']} | {h['mrr']:.3f} / {h['rp@5']:.3f} / {h['recall@10']:.3f} / {h['hit@5']:.3f} | "
                     f"{m['mrr']:.3f} / {m['rp@5']:.3f} / {m['recall@10']:.3f} / {m['hit@5']:.3f} | {r['learned_how']} |")
    lines += ["", "Confidence cut-off per fold (chosen on the training folds of TECH, HOUSE and OUTCOMES, scored on the held-out fold of those):", "",
              "| fold | cut-off | held-out statements | confident | precision |", "|---|---|---|---|---|"]
    lines += [f"| {r['fold']} | {r['cutoff']} | {r['held_out_statements']} | {r['confident']} | {r['precision']} |"
              for r in folds]
    lines += ["", "Fusion fitted on all four learning sets (what --write would ship; the adapted model ships none, design note 16): " + ", ".join(
        f"{name} {c:+.2f}" for name, c in zip(FEATURES, final.coefficients)) + f", intercept {final.intercept:+.2f}; "
              f"cut-off {final.threshold:.3f}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
