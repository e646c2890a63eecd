"""Throughput and peak memory of `competencymap demand` on N job postings.

By default the postings are the 32 bundled synthetic postings (data/postings/sample_postings.jsonl)
repeated up to N, each copy varied: its bullet lines shuffled, one bullet sometimes left out, and
its date moved to one of 12 months. Nothing in the pipeline caches whole texts or statements (only
single-word normalisation is memoised), so a repeated posting costs as much as a new one; the
variation keeps the statement mix realistic all the same. `--postings FILE` measures a real file.

The run is the CLI's path without click: the checking pass (`scan_postings`), then
`analytics.demand` over `read_postings` (chunks through `CompetencyMap.map_many`), then the
CSV writer. Start-up (model, index, crosswalk, catalog) is timed apart, on a warm-up of a few
postings. Peak memory is the process's resident high-water mark (VmHWM) after start-up and at
the end; the difference is what the run itself added.

    .venv/bin/python benchmarks/demand.py --n 2000 [--framework esco] [--fast] [--by-month]
        [--catalog-db URL] [--postings FILE] [--agreement]

Prints a summary and records the run in benchmarks/results/demand.json (or --out), one entry per
case (pipeline, options, N); a new run of the same case replaces the old one. The load average before
and after is recorded: other work on the machine slows every figure down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "postings" / "sample_postings.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "demand.json"
MONTHS = [f"{year}-{month:02d}" for year, month in [(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 7)]]
_BULLET = re.compile(r"^\s*(?:[•*\-–·▪●]|\d+[.)])\s+")


def vary(posting: dict, copy: int, rng: random.Random) -> dict:
    """A copy of a sample posting: bullets shuffled within each list, one sometimes dropped, a new month."""
    lines = posting["text"].split("\n")
    blocks: list[list[str]] = []
    for line in lines:
        is_bullet = bool(_BULLET.match(line))
        if blocks and is_bullet and blocks[-1] and _BULLET.match(blocks[-1][0]):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    out: list[str] = []
    for block in blocks:
        if len(block) > 2 and _BULLET.match(block[0]):
            block = block[:]
            rng.shuffle(block)
            if rng.random() < 0.3:
                block.pop()
        out += block
    day = (posting.get("posted_on") or "2026-01-15")[-2:]
    return {**posting, "id": f"p{copy}", "text": "\n".join(out), "posted_on": f"{MONTHS[copy % 12]}-{day}"}


def make_postings(n: int, path: Path, seed: int = 7) -> Path:
    samples = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps(vary(samples[i % len(samples)], i, rng)) + "\n")
    return path


def vm_hwm_mib() -> float | None:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def agreement(app, frameworks: list[str]) -> dict:  # noqa: ANN001
    """How far the fast pipeline's needs agree with the full pipeline's, on the 32 sample postings."""
    from competencymap.analytics import FAST_CONFIG
    from competencymap.matching import NEED_TOP_K, needs_from_result

    texts = [json.loads(line)["text"] for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    full = app.map_many(texts, frameworks, top_k=NEED_TOP_K, kind="posting")
    fast = app.map_many(texts, frameworks, top_k=NEED_TOP_K, kind="posting", config=FAST_CONFIG)
    jaccard, recall, precision = [], [], []
    for a, b in zip(full, fast):
        x = {n.iri for n in needs_from_result(a, frameworks)}
        y = {n.iri for n in needs_from_result(b, frameworks)}
        jaccard.append(len(x & y) / len(x | y) if x | y else 1.0)
        recall.append(len(x & y) / len(x) if x else 1.0)
        precision.append(len(x & y) / len(y) if y else 1.0)
    mean = lambda values: round(sum(values) / len(values), 3)  # noqa: E731
    return {"postings": len(texts), "mean_jaccard": mean(jaccard),
            "full_needs_found_by_fast": mean(recall), "fast_needs_also_in_full": mean(precision)}


def save(result: dict, path: Path) -> None:
    """Keep one run per case (pipeline, options, N) in the results file; the latest wins."""
    result["case"] = " ".join([result["options"]["pipeline"], f"n={result['input']['postings']}",
                               *[k for k in ("by_month", "by_occupation") if result["options"][k]],
                               *([] if result["options"]["rollup"] else ["no_rollup"]),
                               "+".join(result["options"]["frameworks"])])
    runs = []
    if path.is_file():
        try:
            runs = [r for r in json.loads(path.read_text(encoding="utf-8")).get("runs", []) if r.get("case") != result["case"]]
        except (ValueError, AttributeError):
            runs = []
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"benchmark": result["benchmark"], "runs": [*runs, result]}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="postings to generate (ignored with --postings)")
    parser.add_argument("--postings", type=Path, help="a real postings file (.csv, .jsonl, .parquet) instead")
    parser.add_argument("--framework", "-f", action="append", help="framework(s) to map onto (default esco)")
    parser.add_argument("--fast", action="store_true", help="the cheaper pipeline (phrases off)")
    parser.add_argument("--by-month", action="store_true")
    parser.add_argument("--by-occupation", action="store_true")
    parser.add_argument("--no-rollup", action="store_true")
    parser.add_argument("--catalog-db", help="catalog for supply (default: none)")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--home", type=Path, help="COMPETENCYMAP_HOME (default: settings)")
    parser.add_argument("--agreement", action="store_true", help="also compare fast and full needs on the samples")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from competencymap.analytics import CHUNK, demand
    from competencymap.catalog import Catalog
    from competencymap.config import load_settings
    from competencymap.core import CompetencyMap
    from competencymap.postings_io import read_postings, scan_postings, write_table

    frameworks = args.framework or ["esco"]
    chunk = args.chunk_size or CHUNK
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if args.postings is None:
            postings_path = make_postings(args.n, tmpdir / "postings.jsonl")
            source = (f"the {SAMPLE.relative_to(ROOT)} samples (32 synthetic postings) repeated up to {args.n}, "
                      "each copy with its bullets shuffled, a bullet dropped 30% of the time and its month moved")
        else:
            postings_path, source = args.postings, str(args.postings)
        options = {"frameworks": frameworks, "by_month": args.by_month, "by_occupation": args.by_occupation,
                   "rollup": not args.no_rollup, "fast": args.fast, "chunk_size": chunk}

        start = time.perf_counter()
        app = CompetencyMap(load_settings(home=args.home))
        catalog = Catalog(args.catalog_db) if args.catalog_db else None
        warm = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:4]]
        demand(app, warm, catalog=catalog, **options)  # loads model, indexes, crosswalk
        startup = time.perf_counter() - start
        hwm_after_startup, rss_after_startup = vm_hwm_mib(), rss_mib()

        start = time.perf_counter()
        columns: dict[str, str | None] = {}
        total = scan_postings(postings_path, **columns)
        scanned = time.perf_counter() - start
        start = time.perf_counter()
        table = demand(app, read_postings(postings_path), catalog=catalog, progress=sys.stderr.isatty(), total=total,
                       **options)
        mapped = time.perf_counter() - start
        start = time.perf_counter()
        write_table(table.records(), table.columns(), "csv", tmpdir / "demand.csv")
        written = time.perf_counter() - start
        fast_agreement = agreement(app, frameworks) if args.agreement else None
        if catalog is not None:
            catalog.close()

    total_seconds = scanned + mapped + written
    load_after = os.getloadavg()
    import torch

    result = {
        "benchmark": "competencymap demand: postings -> competency demand table",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "python benchmarks/demand.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "note": "shared machine: the load average shows other work running at the same time",
        },
        "input": {"postings": table.postings, "statements": table.statements, "source": source},
        "options": {**{k: v for k, v in options.items() if k != "frameworks"}, "frameworks": frameworks,
                    "pipeline": table.pipeline, "catalog": bool(catalog), "model": app.encoder.name},
        "seconds": {"startup": round(startup, 2), "check_pass": round(scanned, 2), "map_and_count": round(mapped, 2),
                    "write": round(written, 3), "total_without_startup": round(total_seconds, 2)},
        "postings_per_second": round(table.postings / total_seconds, 2),
        "statements_per_second": round(table.statements / mapped, 1),
        "statements_per_posting": round(table.statements / table.postings, 2),
        "estimated_minutes_for_100k_postings": round(100_000 / (table.postings / total_seconds) / 60, 1),
        "memory_mib": {"peak_after_startup": hwm_after_startup, "rss_after_startup": rss_after_startup,
                       "peak_at_end": vm_hwm_mib(),
                       "added_by_the_run": None if hwm_after_startup is None else round(vm_hwm_mib() - hwm_after_startup, 1)},
        "table": {"rows": len(table.rows), "postings_without_confident_need": table.fallback, "notes": table.notes},
    }
    if fast_agreement is not None:
        result["fast_vs_full_needs_on_the_samples"] = fast_agreement
    save(result, args.out)
    print(f"{table.postings} postings, {table.statements} statements in {total_seconds:.1f}s "
          f"(start-up {startup:.1f}s apart): {result['postings_per_second']} postings/s, "
          f"{result['statements_per_second']} statements/s; peak memory {result['memory_mib']['peak_at_end']} MiB "
          f"(+{result['memory_mib']['added_by_the_run']} during the run); load average {load_before[0]:.2f} -> "
          f"{load_after[0]:.2f}; written to {args.out}")


if __name__ == "__main__":
    main()
