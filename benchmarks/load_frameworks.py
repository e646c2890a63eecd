"""Time and peak memory of loading the bundled English ESCO release: CSV, RDF N-Triples, RDF Turtle.

The release is first exported to a temporary folder (N-Triples and Turtle), in a child
process. Each load then runs in a fresh Python process, which reports its wall time for
the load and its peak resident memory: resource.getrusage ru_maxrss (the whole process,
interpreter and imports included) and, as a cross-check, VmHWM from /proc/self/status.
The parent stays small, because Linux carries the parent's peak into a child's ru_maxrss
through fork and exec. A process that only imports the loaders gives the baseline.

    .venv/bin/python benchmarks/load_frameworks.py [--repeat 3] [--data data/esco]

Prints a table and writes benchmarks/results/load_frameworks.json. The load average is
recorded too: other work on the machine slows every figure down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "load_frameworks.json"


def _child(kind: str, path: str) -> None:
    """Runs in the fresh process: one load, then a JSON line on stdout."""
    from competencymap._common.memory import peak_rss_mib
    from competencymap.frameworks.esco_csv import load_esco_csv
    from competencymap.frameworks.esco_rdf import load_esco_rdf

    start = time.perf_counter()
    if kind == "import":
        stats = {}
    else:
        framework = (load_esco_csv if kind == "csv" else load_esco_rdf)(Path(path))
        stats = framework.stats()
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "hwm_mib": peak_rss_mib(),
                      "skills": stats.get("competencies"),
                      "occupations": stats.get("occupations"), "relations": stats.get("relations")}))


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export(data: str, folder: str) -> None:
    """Runs in a child: export the release, then a JSON line of file names and seconds."""
    from competencymap.frameworks.esco_csv import load_esco_csv
    from competencymap.frameworks.rdf_export import export_framework

    framework = load_esco_csv(Path(data))
    report = {}
    for name, fmt in (("esco-v1.1.1.nt", "ntriples"), ("esco-v1.1.1.ttl", "turtle")):
        start = time.perf_counter()
        path = export_framework(framework, Path(folder) / name, format=fmt)
        report[fmt] = {"path": str(path), "seconds": round(time.perf_counter() - start, 2),
                       "bytes": path.stat().st_size}
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "esco")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--export", nargs=2, metavar=("DATA", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.export:
        _export(*args.export)
        return
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as tmp:
        exported = _run("--export", str(args.data), tmp)
        files = {fmt: Path(info["path"]) for fmt, info in exported.items()}
        for fmt, info in exported.items():
            print(f"exported {fmt}: {info['bytes'] / 1e6:.0f} MB in {info['seconds']} s", file=sys.stderr)
        cases = [("import only", "import", args.data), ("ESCO CSV (2 zips)", "csv", args.data),
                 ("ESCO RDF N-Triples", "rdf", files["ntriples"]), ("ESCO RDF Turtle", "rdf", files["turtle"])]
        sizes = {"csv": sum(p.stat().st_size for p in args.data.glob("*.zip")),
                 "ntriples": files["ntriples"].stat().st_size, "turtle": files["turtle"].stat().st_size}
        rows = []
        for label, kind, path in cases:
            runs = [_run("--child", kind, str(path)) for _ in range(1 if kind == "import" else args.repeat)]
            seconds = [r["seconds"] for r in runs]
            rows.append({"case": label, "path": Path(path).name, "runs": len(runs),
                         "seconds_median": round(statistics.median(seconds), 2), "seconds_min": round(min(seconds), 2),
                         "seconds_max": round(max(seconds), 2),
                         "peak_mib_max": round(max(r["peak_mib"] for r in runs), 1),
                         "vm_hwm_mib_max": round(max(r["hwm_mib"] or 0 for r in runs), 1),
                         "skills": runs[0]["skills"], "occupations": runs[0]["occupations"],
                         "relations": runs[0]["relations"]})
            print(f"{label}: {rows[-1]['seconds_median']} s, {rows[-1]['peak_mib_max']} MiB", file=sys.stderr)
    result = {
        "benchmark": "load the bundled English ESCO v1.1.1 release",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "file_bytes": sizes,
        "export_seconds": {fmt: info["seconds"] for fmt, info in exported.items()},
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{'case':<22}{'median s':>10}{'min s':>8}{'peak MiB':>10}{'skills':>8}{'occup.':>8}{'relations':>11}")
    for row in rows:
        print(f"{row['case']:<22}{row['seconds_median']:>10}{row['seconds_min']:>8}{row['peak_mib_max']:>10}"
              f"{row['skills'] or '':>8}{row['occupations'] or '':>8}{row['relations'] or '':>11}")
    print(f"load average before/after: {result['machine']['load_average_before']} / "
          f"{result['machine']['load_average_after']}; written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
