"""Soak: does the service stay up and within its memory under a steady concurrent load?

Starts `competencymap serve` on a free loopback port (the indexes under the settings home, a
throw-away catalog database seeded with the sample credentials), then runs `--clients` threads
for `--duration` seconds (or until `--max-requests` requests): each loops over a mix of the
routes people use, /map (sample outcomes and postings), /search, /match (text), /health,
/credentials reads, and a create/delete of a credential, every 20th request a small demand
table. Meanwhile it samples the server's resident memory (VmRSS of its process) every
`--sample` seconds.

    .venv/bin/python benchmarks/soak.py                          # 8 clients, 10 minutes, esco+sfs
    .venv/bin/python benchmarks/soak.py --duration 20 --frameworks sfs   # a quick check

Loopback only: it never talks to another host. Prints requests/s, p50/p95 latency, errors and
RSS over time, and writes benchmarks/results/soak.json with the load average before and after.
The figure issue 8 asks about: RSS after the run within 20% of RSS after the first minute
(`rss_growth_after_first_minute`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import start_server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
CREDENTIALS = ROOT / "data" / "catalog" / "sample_credentials.json"
POSTINGS = ROOT / "data" / "postings" / "sample_postings.jsonl"
QUERIES = ("relational database queries", "customer service", "project planning", "python programming",
           "teamwork", "written communication")


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def workload(frameworks: list[str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, json) requests, in the order a client cycles through them."""
    outcomes = ["\n".join(c["learning_outcomes"]) for c in json.loads(CREDENTIALS.read_text("utf-8"))]
    postings = [json.loads(line)["text"] for line in POSTINGS.read_text("utf-8").splitlines() if line.strip()]
    first = frameworks[0]
    items: list[tuple[str, str, dict[str, Any] | None]] = []
    for n, (outcome, posting) in enumerate(zip(itertools.cycle(outcomes), postings)):
        items.append(("POST", "/map", {"text": outcome, "top_k": 5}))
        items.append(("GET", f"/search?q={QUERIES[n % len(QUERIES)].replace(' ', '+')}&framework={first}&top_k=5", None))
        items.append(("POST", "/match", {"text": posting, "top_k": 5}))
        items.append(("GET", "/health", None))
        items.append(("GET", "/credentials?limit=20", None))
        items.append(("CREATE_DELETE", "/credentials", None))
        if n % 3 == 0:
            items.append(("POST", "/analytics/demand", {"postings": [{"text": posting}], "frameworks": [first],
                                                         "rollup": False}))
    return items


CREDENTIAL = {"title": "Soak credential", "issuer": "Soak", "description": "d", "learning_outcomes": ["Write SQL"],
              "duration_hours": 1, "delivery_mode": "online", "credit": "credit", "assessment_type": "quiz"}


def client_loop(url: str, items: list[tuple[str, str, dict[str, Any] | None]], start: int, stop_at: float,
                budget: list[int], lock: threading.Lock, out: list[tuple[float, str, int, float]]) -> None:
    with httpx.Client(base_url=url, timeout=300) as client:
        for method, path, body in itertools.islice(itertools.cycle(items), start, None):
            with lock:
                if time.monotonic() >= stop_at or budget[0] <= 0:
                    return
                budget[0] -= 1
            begun = time.perf_counter()
            try:
                if method == "CREATE_DELETE":
                    created = client.post(path, json=CREDENTIAL)
                    status = created.status_code
                    if status == 201:
                        status = client.delete(f"{path}/{created.json()['id']}").status_code
                        status = 201 if status == 204 else status
                else:
                    status = client.request(method, path, json=body).status_code
            except httpx.HTTPError:
                status = 0
            out.append((time.monotonic(), path.split("?")[0], status, time.perf_counter() - begun))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 10 minutes)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop after this many requests")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--frameworks", default="esco,sfs")
    parser.add_argument("--start-timeout", type=float, default=900.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    frameworks = [n.strip() for n in args.frameworks.split(",") if n.strip()]

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="competencymap-soak-") as temp:
        folder = Path(temp)
        process, url = start_server(frameworks, folder, seed=True, database="soak.sqlite", timeout=args.start_timeout)
        try:
            rss_start = rss_mib(process.pid)
            results: list[tuple[float, str, int, float]] = []
            samples: list[tuple[float, float | None]] = []
            items = workload(frameworks)
            began = time.monotonic()
            stop_at = began + args.duration
            budget, lock = [args.max_requests], threading.Lock()
            threads = [threading.Thread(target=client_loop, args=(url, items, n * 7, stop_at, budget, lock, results))
                       for n in range(args.clients)]
            for thread in threads:
                thread.start()
            while any(t.is_alive() for t in threads):
                samples.append((round(time.monotonic() - began, 1), rss_mib(process.pid)))
                print(f"  {samples[-1][0]:7.1f} s  {len(results):6d} requests  RSS {samples[-1][1] or 0:8.1f} MiB",
                      flush=True)
                for thread in threads:
                    thread.join(timeout=args.sample / max(1, len(threads)))
            elapsed = time.monotonic() - began
            samples.append((round(elapsed, 1), rss_mib(process.pid)))
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    load_after = os.getloadavg()

    latencies = [r[3] for r in results]
    errors = [r for r in results if r[2] == 0 or r[2] >= 500]
    by_route: dict[str, list[float]] = {}
    for _, route, _, seconds in results:
        by_route.setdefault(route, []).append(seconds)
    after_minute = next((rss for t, rss in samples if t >= 60 and rss is not None), None)
    final = samples[-1][1]
    report = {
        "clients": args.clients,
        "duration_seconds": round(elapsed, 1),
        "frameworks": frameworks,
        "requests": len(results),
        "requests_per_second": round(len(results) / elapsed, 2) if elapsed else 0.0,
        "latency_p50_seconds": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_seconds": round(percentile(latencies, 0.95), 3),
        "errors": len(errors),
        "statuses": {str(s): sum(1 for r in results if r[2] == s) for s in sorted({r[2] for r in results})},
        "p95_by_route_seconds": {k: round(percentile(v, 0.95), 3) for k, v in sorted(by_route.items())},
        "rss_mib_at_start": rss_start,
        "rss_mib_after_first_minute": after_minute,
        "rss_mib_at_end": final,
        "rss_growth_after_first_minute": round(final / after_minute - 1, 3) if after_minute and final else None,
        "rss_samples": samples,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{report['requests']} requests in {report['duration_seconds']} s: {report['requests_per_second']} requests/s, "
          f"p95 {report['latency_p95_seconds']} s, {report['errors']} errors; RSS {rss_start} -> {after_minute} "
          f"(1 min) -> {final} MiB; wrote {args.output}")


if __name__ == "__main__":
    main()
