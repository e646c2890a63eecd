"""Throughput and peak memory of `competencymap demand` on N generated job postings: the
single-process path and the Dask corpus run with 1 and 2 workers, on the same input, in one run.

The postings are generated from the 32 bundled synthetic postings (data/postings/sample_postings.jsonl):
each has 15-30 statements, about a third of them boilerplate shared across postings (benefits,
equal-opportunity and how-to-apply sentences, from a fixed pool), the rest requirement and duty
lines of the samples with their wording varied (a lead-in such as "Experience with" or "You
will", an occasional qualifier such as "(preferred)"). So statements repeat across postings as
they do in real corpora, and a statement cache has something to find, but most are not exact
copies. `--postings FILE` measures a real file instead.

Each path is timed apart from its start-up (model, indexes, crosswalk, and for Dask the cluster
and each worker's engine, warmed on a few postings first):

- single process: `analytics.demand` over `read_postings`, as `competencymap demand --single-process`;
- Dask, W workers: `corpus.run.run_corpus` on a local cluster of W worker processes with
  cores / W encoder threads each, as `competencymap demand --output DIR --workers W`; its map time
  is read from the run's manifest, peak memory per worker from each worker's VmHWM.

    .venv/bin/python benchmarks/demand.py --n 2000 [--framework esco] [--fast] [--by-month]
        [--workers 1,2] [--partition-size 250] [--postings FILE] [--home DIR] [--skip-single]

Prints a summary and records the run in benchmarks/results/demand.json (or --out), one entry per
case; a new run of the same case replaces the old one. The load average before and after is
printed and recorded: other work on the machine slows every figure down.
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
WARM_UP = 4  # postings mapped before timing starts

BOILERPLATE = [
    "We offer a competitive salary and a comprehensive benefits package.",
    "Our benefits include dental, vision and extended health coverage.",
    "We are an equal opportunity employer and value diversity at our company.",
    "All qualified applicants will receive consideration without regard to race, religion or gender.",
    "Accommodations are available on request for candidates taking part in all aspects of the selection process.",
    "Please submit your resume and a short cover letter through our careers page.",
    "Only candidates selected for an interview will be contacted.",
    "This is a full-time, permanent position.",
    "Hybrid work: three days in the office, two days from home.",
    "Paid vacation, sick days and a flexible schedule.",
    "Employee discount and a retirement savings plan with employer matching.",
    "We invest in your growth with paid training and tuition support.",
    "Join a friendly team that values collaboration and respect.",
    "Free parking on site and easy access to public transit.",
    "Applicants must be legally entitled to work in Canada.",
    "The successful candidate will be required to complete a background check.",
    "We thank all applicants for their interest.",
    "Salary will be commensurate with experience.",
    "Overtime may be required during peak periods.",
    "This role reports to the operations manager.",
    "Start date is flexible for the right candidate.",
    "We are committed to a safe and inclusive workplace.",
    "Our company has been serving the community for over twenty years.",
    "Bring your energy and ideas to a growing organization.",
]
LEAD_INS = ["", "", "", "Experience with ", "Knowledge of ", "Ability to ", "You will ", "Must be able to ",
            "Strong skills in ", "Familiarity with ", "Responsible for: ", "Nice to have: "]
QUALIFIERS = ["", "", "", "", " (preferred)", " (an asset)", " is required", " on a daily basis", " in a fast-paced setting"]


def sample_lines() -> tuple[list[str], list[str], list[str]]:
    """Requirement/duty lines of the samples, their titles and their opening sentences."""
    lines, titles, openings = [], [], []
    for raw in SAMPLE.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        posting = json.loads(raw)
        titles.append(posting.get("title") or "Worker")
        for line in posting["text"].split("\n"):
            text = _BULLET.sub("", line).strip()
            if not text:
                continue
            if _BULLET.match(line):
                lines.append(text.rstrip("."))
            elif len(text) > 40:
                openings.append(text)
    return lines, titles, openings


def vary(line: str, rng: random.Random) -> str:
    """A requirement line with a lead-in and a qualifier, sometimes."""
    lead = rng.choice(LEAD_INS)
    body = line[0].lower() + line[1:] if lead and line[:1].isupper() and not line[:2].isupper() else line
    return f"{lead}{body}{rng.choice(QUALIFIERS)}."


def make_posting(i: int, lines: list[str], titles: list[str], openings: list[str], rng: random.Random) -> dict:
    """15-30 statements: an opening, about a third boilerplate, the rest varied requirement lines."""
    count = rng.randint(15, 30)
    boiler = rng.sample(BOILERPLATE, k=min(len(BOILERPLATE), round(count / 3)))
    focus = rng.randrange(len(lines))  # postings lean on one neighbourhood of the samples' lines
    own = [vary(lines[(focus + rng.randint(-25, 25)) % len(lines)], rng) for _ in range(count - len(boiler) - 1)]
    body = ["• " + s for s in own]
    rng.shuffle(body)
    opening = rng.choice(openings)
    text = "\n".join([opening, "", "What you will do and bring", *body, "", *boiler])
    title = titles[i % len(titles)]
    return {"id": f"p{i}", "title": title, "text": text, "posted_on": f"{MONTHS[i % 12]}-{1 + i % 28:02d}",
            "statements_generated": [opening, *own, *boiler]}


def make_postings(n: int, path: Path, seed: int = 7) -> dict:
    """Write N postings as JSONL; what was generated (statements, unique, boilerplate share)."""
    lines, titles, openings = sample_lines()
    rng = random.Random(seed)
    statements: list[str] = []
    boiler = 0
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            posting = make_posting(i, lines, titles, openings, rng)
            generated = posting.pop("statements_generated")
            statements += generated
            boiler += sum(1 for s in generated if s in BOILERPLATE)
            handle.write(json.dumps(posting) + "\n")
    return {"postings": n, "statements_generated": len(statements), "unique_statements": len(set(statements)),
            "boilerplate_share": round(boiler / max(1, len(statements)), 3),
            "statements_per_posting": round(len(statements) / max(1, n), 2)}


def single_process(settings, postings_path: Path, options: dict, warm: list[dict]) -> dict:
    from competencymap._common.memory import peak_rss_mib
    from competencymap.engine import CompetencyMap
    from competencymap.workflows.demand.single import demand
    from competencymap.workflows.postings_io import read_postings

    start = time.perf_counter()
    app = CompetencyMap(settings)
    demand(app, warm, **options)  # loads model, indexes, crosswalk
    startup = time.perf_counter() - start
    start = time.perf_counter()
    table = demand(app, read_postings(postings_path), progress=sys.stderr.isatty(), **options)
    mapped = time.perf_counter() - start
    return {"startup_seconds": round(startup, 2), "map_seconds": round(mapped, 2), "postings": table.postings,
            "statements": table.statements, "postings_per_second": round(table.postings / mapped, 2),
            "statements_per_second": round(table.statements / mapped, 1), "peak_memory_mib": peak_rss_mib(),
            "backend": getattr(app.encoder, "backend", "torch"), "model": app.encoder.name,
            "table_rows": len(table.rows), "records": table.records()}


def on_dask(settings, postings_path: Path, warm_path: Path, options: dict, workers: int, partition_size: int,
            tmp: Path) -> dict:
    from distributed import Client

    from competencymap.workflows.demand.corpus.run import (
        CorpusOptions,
        available_cores,
        engine_info,
        local_cluster,
        register_engine,
        run_corpus,
    )
    from competencymap.workflows.demand.options import DemandOptions

    threads = max(1, available_cores() // workers)
    demand_options = DemandOptions(frameworks=tuple(options["frameworks"]), by_month=options["by_month"],
                                   by_occupation=options["by_occupation"], rollup=options["rollup"], fast=options["fast"])
    corpus = CorpusOptions(demand_options, partition_size=partition_size)
    start = time.perf_counter()
    cluster = local_cluster(workers, threads)
    try:
        with Client(cluster) as client:
            # warm every worker: its engine loaded, then a small run mapped
            register_engine(client, settings, threads)
            client.gather([client.submit(engine_info, demand_options, workers=[address], pure=False)
                           for address in client.scheduler_info()["workers"]])
            run_corpus(settings, [str(warm_path)], tmp / f"warm-{workers}", CorpusOptions(demand_options, partition_size=1),
                       client=client)
            startup = time.perf_counter() - start
            start = time.perf_counter()
            result = run_corpus(settings, [str(postings_path)], tmp / f"run-{workers}", corpus, client=client,
                                progress=sys.stderr.isatty())
            wall = time.perf_counter() - start
    finally:
        cluster.close()
    manifest = result.manifest
    mapped = manifest["timings"]["map_seconds"]
    table = result.table
    return {"workers": workers, "encoder_threads_per_worker": threads, "partition_size": partition_size,
            "startup_seconds": round(startup, 2), "map_seconds": round(mapped, 2), "run_seconds": round(wall, 2),
            "timings": manifest["timings"], "postings": table.postings, "statements": table.statements,
            "postings_per_second": round(table.postings / mapped, 2),
            "statements_per_second": round(table.statements / mapped, 1),
            "postings_per_second_whole_run": round(table.postings / wall, 2),
            "peak_memory_mib_per_worker": sorted(w["peak_rss_mib"] for w in manifest["workers"].values()),
            "partitions": manifest["counts"]["partitions"], "errors": result.errors,
            "backend": manifest["engine"]["backend"], "table_rows": len(table.rows), "records": table.records()}


def save(result: dict, path: Path) -> None:
    """Keep one run per case in the results file; the latest wins."""
    runs = []
    if path.is_file():
        try:
            runs = [r for r in json.loads(path.read_text(encoding="utf-8")).get("runs", []) if r.get("case") != result["case"]]
        except (ValueError, AttributeError):
            runs = []
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"benchmark": "competencymap demand: postings -> competency demand table", "runs": [*runs, result]}
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
    parser.add_argument("--workers", default="1,2", help="Dask worker counts to measure, comma-separated (default 1,2)")
    parser.add_argument("--partition-size", type=int, default=250)
    parser.add_argument("--skip-single", action="store_true", help="leave out the single-process path")
    parser.add_argument("--home", type=Path, help="COMPETENCYMAP_HOME (default: settings)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from competencymap._common.config import load_settings

    settings = load_settings(home=args.home)
    frameworks = args.framework or ["esco"]
    options = {"frameworks": frameworks, "by_month": args.by_month, "by_occupation": args.by_occupation,
               "rollup": not args.no_rollup, "fast": args.fast}
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if args.postings is None:
            postings_path = tmpdir / "postings.jsonl"
            generated = make_postings(args.n, postings_path)
            source = ("generated from the 32 data/postings/sample_postings.jsonl samples: 15-30 statements each, "
                      "about a third boilerplate from a shared pool, the rest sample lines with varied wording")
        else:
            postings_path, generated, source = args.postings, {}, str(args.postings)
        warm = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:WARM_UP]]
        warm_path = tmpdir / "warm.jsonl"
        warm_path.write_text("".join(json.dumps(p) + "\n" for p in warm), encoding="utf-8")
        single = None if args.skip_single else single_process(settings, postings_path, options, warm)
        dask_runs = [on_dask(settings, postings_path, warm_path, options, int(w), args.partition_size, tmpdir)
                     for w in args.workers.split(",") if w.strip()]
    load_after = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}", flush=True)

    same = [run["records"] == single["records"] for run in dask_runs] if single else []
    for run in [single, *dask_runs]:
        if run is not None:
            run.pop("records")
    ratios = {}
    if single:
        for run in dask_runs:
            ratios[f"dask_{run['workers']}_workers_vs_single_process"] = round(
                run["postings_per_second"] / single["postings_per_second"], 3)
    mapped_statements = (single or dask_runs[0])["statements"]
    result = {
        "case": " ".join(["corpus", "fast" if args.fast else "full", f"n={(single or dask_runs[0])['postings']}",
                          *[k for k in ("by_month", "by_occupation") if options[k]],
                          *([] if options["rollup"] else ["no_rollup"]), "+".join(frameworks)]),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "python benchmarks/demand.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after],
                    "note": "shared machine: the load average shows other work running at the same time"},
        "input": {**generated, "statements_mapped": mapped_statements, "source": source},
        "options": options,
        "single_process": single,
        "dask": dask_runs,
        "ratios": ratios,
        "same_table_as_single_process": same,
        "estimated_minutes_for_100k_postings": {
            f"dask_{r['workers']}_workers": round(100_000 / r["postings_per_second"] / 60, 1) for r in dask_runs},
    }
    if generated.get("unique_statements") and dask_runs:
        best = max(dask_runs, key=lambda r: r["postings_per_second"])
        result["unique_statements_per_second"] = round(generated["unique_statements"] / best["map_seconds"], 1)
    save(result, args.out)
    if single:
        print(f"single process: {single['postings']} postings, {single['statements']} statements in "
              f"{single['map_seconds']}s: {single['postings_per_second']} postings/s, "
              f"{single['statements_per_second']} statements/s, peak {single['peak_memory_mib']} MiB")
    for run in dask_runs:
        print(f"dask {run['workers']} worker(s) x {run['encoder_threads_per_worker']} thread(s): "
              f"{run['postings_per_second']} postings/s, {run['statements_per_second']} statements/s "
              f"(map {run['map_seconds']}s, whole run {run['run_seconds']}s, start-up {run['startup_seconds']}s apart); "
              f"peak memory per worker {run['peak_memory_mib_per_worker']} MiB")
    if generated:
        print(f"input: {generated['postings']} postings, {generated['statements_generated']} statements generated, "
              f"{generated['unique_statements']} unique, boilerplate {generated['boilerplate_share']:.0%}")
    if ratios:
        print("ratios: " + ", ".join(f"{k} {v}" for k, v in ratios.items()) + f"; same table: {same}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
