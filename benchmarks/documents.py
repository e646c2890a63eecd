"""Whole postings as people write them: do a posting's core duties lead its profile?

Each posting of `benchmarks/data/postings/` (three written for the matching benchmark, twelve for
this one; see its README) is mapped whole with the shipped defaults
(``CompetencyMap().map(text, ["esco"], top_k=50, kind="posting")``). `core_duties.json` names,
for each posting, 4-5 core duties a hiring manager would name (exact ESCO v1.1.1 preferred labels,
chosen by hand before any run) and the posting's asset line. Per posting and on average:

- **core in top 10**: the share of the core duties among the profile's first 10 entries
  (target >= 0.8);
- **asset in top 5**: the profile's first 5 entries that are asset-line skills: the entry is
  ``optional``, or one of its evidence's input texts lies on the asset line (by offsets; target 0);
- **dropped lines**: the lines nothing was mapped from (`mapping.lines`, outcome ``dropped``),
  with their role and reason, so a reader can judge whether a person would keep them.

    python benchmarks/documents.py [--model all-MiniLM-L6-v2]

Prints the load average before and after and writes benchmarks/results/documents[-MODEL].json
and .md (the suffix for a model other than the default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from competencymap._common.config import DEFAULT_MODEL, load_settings
from competencymap.engine import CompetencyMap
from competencymap.mapping.lines import DROPPED, account
from competencymap.mapping.results import MappingResult, Match

HERE = Path(__file__).resolve().parent
POSTINGS = HERE / "data" / "postings"
ANNOTATIONS = POSTINGS / "core_duties.json"
TOP_CORE = 10
TOP_ASSET = 5
TARGET_CORE = 0.8
TARGET_ASSET = 0


def from_asset_line(entry: Match, asset: tuple[int, int]) -> bool:
    """The entry is an asset-line skill: optional, or one of its evidence's input text lies on the
    asset line (by its offsets: a verb's evidence has none, and its one word could be anywhere)."""
    return entry.optional or any(e.span is not None and asset[0] <= e.span[0] < asset[1] for e in entry.evidence)


def judge(name: str, text: str, result: MappingResult, annotation: dict) -> dict:
    """One posting's figures: core duties in the top 10, asset skills in the top 5, dropped lines."""
    profile = result.profiles["esco"]
    top = [entry.label for entry in profile[:TOP_CORE]]
    core = annotation["core_duties"]
    found = [label for label in core if label in top]
    ranks = {label: next((n for n, e in enumerate(profile, 1) if e.label == label), None) for label in core}
    start = text.index(annotation["asset_line"])
    asset = (start, start + len(annotation["asset_line"]))
    assets = [e.label for e in profile[:TOP_ASSET] if from_asset_line(e, asset)]
    dropped = [{"line": r.line.text, "role": r.line.role, "reason": r.reason} for r in account(result) if r.outcome == DROPPED]
    return {"posting": name, "core": len(core), "core_in_top10": len(found), "core_share": round(len(found) / len(core), 3),
            "missed": [label for label in core if label not in found], "core_ranks": ranks,
            "asset_in_top5": len(assets), "asset_entries": assets, "top10": top, "dropped": dropped}


def summary(rows: list[dict]) -> dict:
    share = round(statistics.mean(r["core_share"] for r in rows), 3)
    asset = round(statistics.mean(r["asset_in_top5"] for r in rows), 3)
    return {"postings": len(rows), "core_share": share, "asset_in_top5": asset,
            "short_of_core_target": [r["posting"] for r in rows if r["core_share"] < TARGET_CORE],
            "over_asset_target": [r["posting"] for r in rows if r["asset_in_top5"] > TARGET_ASSET],
            "dropped_lines": sum(len(r["dropped"]) for r in rows)}


def markdown(meta: dict, rows: list[dict], average: dict) -> str:
    out = [f"# Whole postings — `{meta['command']}`", "",
           f"Model {meta['model']}, {meta['when']}, {meta['seconds']} s; load {meta['load_before']} -> {meta['load_after']}.", "",
           f"**Average:** core duties in the top {TOP_CORE}: {average['core_share']} (target >= {TARGET_CORE}); "
           f"asset-line skills in the top {TOP_ASSET}: {average['asset_in_top5']} (target {TARGET_ASSET}).", "",
           f"| posting | core in top {TOP_CORE} | share | asset in top {TOP_ASSET} | asset entries | missed (rank in the top 50; - beyond) | dropped lines |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        missed = ", ".join(f"{label} ({r['core_ranks'][label] or '-'})" for label in r["missed"]) or "-"
        out.append(f"| {r['posting']} | {r['core_in_top10']}/{r['core']} | {r['core_share']} | {r['asset_in_top5']} "
                   f"| {', '.join(r['asset_entries']) or '-'} | {missed} | {len(r['dropped'])} |")
    out += ["", "## Dropped lines (role: line — reason)", ""]
    for r in rows:
        out.append(f"**{r['posting']}**")
        out += [f"- {d['role']}: {d['line']} — {d['reason']}" for d in r["dropped"]]
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="embedding model (default: the shipped default)")
    args = parser.parse_args()
    annotations = json.loads(ANNOTATIONS.read_text())
    load_before = os.getloadavg()
    print(f"load before: {load_before}", file=sys.stderr)
    app = CompetencyMap(load_settings(model=args.model) if args.model else None)
    started = time.perf_counter()
    texts = {name: (POSTINGS / name).read_text() for name in annotations}
    rows = [judge(name, texts[name], app.map(texts[name], ["esco"], top_k=50, kind="posting"), annotation)
            for name, annotation in annotations.items()]
    seconds = round(time.perf_counter() - started, 1)
    load_after = os.getloadavg()
    print(f"load after: {load_after}", file=sys.stderr)
    average = summary(rows)
    for r in rows:
        print(f"{r['posting']:30} core {r['core_in_top10']}/{r['core']}  asset in top 5: {r['asset_in_top5']}  "
              f"dropped lines: {len(r['dropped'])}  missed: {r['missed']}")
    print(f"average: core share {average['core_share']}, asset in top 5 {average['asset_in_top5']}; "
          f"short of {TARGET_CORE}: {average['short_of_core_target']}")
    command = "python benchmarks/documents.py" + (f" --model {args.model}" if args.model else "")
    meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "model": app.encoder.name, "command": command,
            "seconds": seconds, "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after]}
    suffix = "" if args.model in (None, DEFAULT_MODEL) else f"-{args.model}"
    results = HERE / "results"
    (results / f"documents{suffix}.json").write_text(json.dumps({**meta, "average": average, "postings": rows}, indent=2) + "\n")
    (results / f"documents{suffix}.md").write_text(markdown(meta, rows, average) + "\n")


if __name__ == "__main__":
    main()
