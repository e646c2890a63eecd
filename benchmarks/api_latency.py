"""Latency and throughput of `POST /map` on the real server with concurrent clients.

Starts `competencymap serve` on the bundled defaults (ESCO + Skills for Success, the indexes
under the settings home, a throw-away catalog database) on a free loopback port, then runs
`--clients` threads, each with its own HTTP connection, posting realistic texts to /map:
the learning outcomes of the sample micro-credentials (data/catalog) and the sample job
postings (data/postings), alternately. Every request is timed from send to full response.

    .venv/bin/python benchmarks/api_latency.py [--clients 8] [--requests 160] [--wait 3600]
    .venv/bin/python benchmarks/api_latency.py --url http://127.0.0.1:8000   # a running server

Prints median / 95th / 99th percentile latency and throughput, and writes
benchmarks/results/api_latency.json with the machine's load average before and after
(other work on the machine slows every figure down). The service maps one request at a time
(the engine is shared), so with 8 clients a request's latency is mostly queueing: throughput
is the figure that says what the service does.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import start_server, wait_for_indexes

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "api_latency.json"
CREDENTIALS = ROOT / "data" / "catalog" / "sample_credentials.json"
POSTINGS = ROOT / "data" / "postings" / "sample_postings.jsonl"


def texts() -> list[tuple[str, str]]:
    """(kind, text): each sample credential's outcomes (one per line) and each sample posting."""
    outcomes = [("outcomes", "\n".join(c["learning_outcomes"])) for c in json.loads(CREDENTIALS.read_text("utf-8"))]
    postings = [("posting", json.loads(line)["text"]) for line in POSTINGS.read_text("utf-8").splitlines() if line.strip()]
    mixed = [item for pair in itertools.zip_longest(outcomes, postings) for item in pair if item is not None]
    return mixed


def run_clients(url: str, work: list[tuple[str, str]], clients: int, top_k: int) -> tuple[list[dict[str, Any]], float]:
    """Each client takes the next text until all are done; returns one record per request."""
    records: list[dict[str, Any]] = []
    lock = threading.Lock()
    queue = iter(enumerate(work))

    def client() -> None:
        with httpx.Client(base_url=url, timeout=600) as http:
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                number, (kind, text) = item
                start = time.perf_counter()
                response = http.post("/map", json={"text": text, "top_k": top_k})
                seconds = time.perf_counter() - start
                ok = response.status_code == 200
                statements = len(response.json()["statements"]) if ok else 0
                with lock:
                    records.append({"n": number, "kind": kind, "chars": len(text), "status": response.status_code,
                                    "seconds": seconds, "statements": statements})

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records, time.perf_counter() - start


def during_demand(url: str, postings: int) -> dict[str, Any]:
    """GET /health and GET /search, asked every quarter second while one demand request over
    `postings` postings runs (each posting made unique, so none is free): their latencies."""
    samples = [json.loads(line) for line in POSTINGS.read_text("utf-8").splitlines() if line.strip()]
    body = {"postings": [{"title": p["title"], "text": p["text"] + f"\nReference {i}."}
                         for i, p in ((i, samples[i % len(samples)]) for i in range(postings))],
            "frameworks": ["esco"]}
    done: dict[str, Any] = {}

    def demand() -> None:
        start = time.perf_counter()
        response = httpx.post(f"{url}/analytics/demand", json=body, timeout=3600)
        done.update(status=response.status_code, seconds=time.perf_counter() - start)

    worker = threading.Thread(target=demand)
    worker.start()
    health: list[float] = []
    search: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as http:
        time.sleep(1.0)  # let the demand request start
        while worker.is_alive():
            for path, params, into in (("/health", None, health), ("/search", {"q": "bookkeeping", "top_k": 5}, search)):
                start = time.perf_counter()
                http.get(path, params=params)
                into.append(time.perf_counter() - start)
            time.sleep(0.25)
    worker.join()

    def figures(values: list[float]) -> dict[str, Any]:
        return {"n": len(values), "median": round(statistics.median(values), 4), "p95": round(percentile(values, 95), 4),
                "max": round(max(values), 4)} if values else {"n": 0}

    return {"postings": postings, "demand_status": done.get("status"), "demand_seconds": round(done.get("seconds", 0), 1),
            "health_seconds": figures(health), "search_seconds": figures(search)}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(records: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    ok = [r["seconds"] for r in records if r["status"] == 200]
    out: dict[str, Any] = {
        "requests": len(records),
        "errors": sum(r["status"] != 200 for r in records),
        "wall_seconds": round(wall, 2),
        "throughput_rps": round(len(ok) / wall, 3),
        "latency_seconds": {
            "median": round(statistics.median(ok), 3),
            "p95": round(percentile(ok, 95), 3),
            "p99": round(percentile(ok, 99), 3),
            "mean": round(statistics.fmean(ok), 3),
            "min": round(min(ok), 3),
            "max": round(max(ok), 3),
        },
    }
    for kind in ("outcomes", "posting"):
        mine = [r for r in records if r["kind"] == kind and r["status"] == 200]
        if mine:
            out[f"{kind}_median_seconds"] = round(statistics.median(r["seconds"] for r in mine), 3)
            out[f"{kind}_median_chars"] = int(statistics.median(r["chars"] for r in mine))
            out[f"{kind}_median_statements"] = int(statistics.median(r["statements"] for r in mine))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=160, help="timed requests in all")
    parser.add_argument("--warmup", type=int, default=8, help="untimed requests first (one client)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--framework", default="esco,sfs", help="served frameworks (comma-separated)")
    parser.add_argument("--url", help="benchmark a server that is already running")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for missing indexes")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--demand", type=int, default=500, help="postings of the demand request run during /health polls (0: skip)")
    parser.add_argument("--cache", action="store_true", help="keep the statement caches on (off by default)")
    args = parser.parse_args()
    frameworks = [n.strip() for n in args.framework.split(",") if n.strip()]
    corpus = texts()
    work = [corpus[i % len(corpus)] for i in range(args.requests)]
    process = None
    with tempfile.TemporaryDirectory(prefix="api-latency-") as folder:
        if args.url:
            url = args.url.rstrip("/")
        else:
            wait_for_indexes(frameworks, args.wait)
            started = time.perf_counter()
            # the texts cycle, so cached results would make repeats free: measure the work itself
            no_cache = {} if args.cache else {"COMPETENCYMAP_STATEMENT_CACHE": "0"}
            process, url = start_server(frameworks, Path(folder), env=no_cache)
            print(f"server ready in {time.perf_counter() - started:.1f}s at {url}", file=sys.stderr)
        try:
            health = httpx.get(f"{url}/health", timeout=30).json()
            run_clients(url, corpus[: args.warmup], 1, args.top_k)
            load_before = os.getloadavg()
            records, wall = run_clients(url, work, args.clients, args.top_k)
            blocking = during_demand(url, args.demand) if args.demand > 0 else None
            load_after = os.getloadavg()
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    result = {
        "benchmark": "POST /map latency with concurrent clients on a live server",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "python benchmarks/api_latency.py " + " ".join(sys.argv[1:]),
        "server": {"frameworks": health["frameworks"], "model": health["model"], "version": health["version"],
                   "engine": "concurrent /map requests micro-batched; other routes call the engine directly",
                   "statement_cache": "on" if args.cache else "off"},
        "clients": args.clients,
        "top_k": args.top_k,
        "texts": {"outcomes": "learning outcomes of the 12 sample credentials (one text each)",
                  "posting": "the 32 sample job postings", "order": "alternating, cycled"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        **summary(records, wall),
        "while_a_demand_request_runs": blocking,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lat = result["latency_seconds"]
    print(f"{result['requests']} requests, {args.clients} clients, {result['errors']} errors, {wall:.1f}s")
    print(f"latency  median {lat['median']:.3f}s  p95 {lat['p95']:.3f}s  p99 {lat['p99']:.3f}s")
    print(f"throughput {result['throughput_rps']:.2f} requests/s; load average {result['machine']['load_average_before']}")
    if blocking:
        print(f"during a {blocking['postings']}-posting demand request ({blocking['demand_seconds']}s): /health median "
              f"{blocking['health_seconds'].get('median')}s p95 {blocking['health_seconds'].get('p95')}s; /search median "
              f"{blocking['search_seconds'].get('median')}s p95 {blocking['search_seconds'].get('p95')}s")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
