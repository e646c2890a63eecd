"""Speed benchmark: index build, single-statement latency, batch throughput, peak memory.

Measured on this machine with the bundled model on the CPU, with the plain-cosine baseline
(encode the statement, one matrix product against the preferred-label vectors) measured in
the same run for a ratio. Statements are the sentences of the validation sets.

    python benchmarks/speed.py [--build] [--repeat 200] [--batch 1000]

--build times a full ESCO index build from scratch into a temporary home (every label and
description; about a million tokens through the model, so minutes on 2 cores).
Prints the figures and writes benchmarks/results/speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from skill_extraction import load_sets  # noqa: E402

from competencymap.config import load_settings  # noqa: E402
from competencymap.core import CompetencyMap  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latencies(call: Callable[[str], object], texts: Sequence[str]) -> dict[str, float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "n": len(times),
    }


def throughput(call: Callable[[list[str]], object], texts: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    call(texts)
    seconds = time.perf_counter() - started
    return {"statements_per_s": round(len(texts) / seconds, 1), "seconds": round(seconds, 2), "n": len(texts)}


def time_build(settings) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        fresh = CompetencyMap(load_settings(home=Path(home), data=settings.data, model=settings.model))
        fresh.framework("esco")  # framework loading is timed by benchmarks/load_frameworks.py
        started = time.perf_counter()
        index = fresh.build_index("esco", progress=True, force=True)
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 1), "texts": index.manifest["vector_count"]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="also time a full ESCO index build")
    parser.add_argument("--repeat", type=int, default=200, help="statements for the latency figures")
    parser.add_argument("--batch", type=int, default=1000, help="statements for the throughput figure")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)

    app = CompetencyMap(load_settings())
    results: dict[str, object] = {"load_average_before": os.getloadavg()}
    if args.build:
        results["index_build"] = time_build(app.settings)
    sets = load_sets(app, ["tech", "house", "outcomes"])
    pool = [q.text for name, queries in sets.items() if name != "OUTCOMES hard" for q in queries]
    single = (pool * (args.repeat // len(pool) + 1))[: args.repeat]
    batch = (pool * (args.batch // len(pool) + 1))[: args.batch]

    matcher = app.matcher("esco")
    iris, matrix = app.index("esco").pref_label_matrix()
    encoder = app.encoder

    def ours_one(text: str) -> object:
        return matcher.rank([text], top_k=10)

    def cosine_one(text: str) -> object:
        return (encoder.encode([text]) @ matrix.T).argsort()[0, -10:]

    for warm in single[:10]:  # first calls load the model and warm caches
        ours_one(warm)
        cosine_one(warm)
    results["latency_ours"] = latencies(ours_one, single)
    results["latency_cosine"] = latencies(cosine_one, single)
    results["latency_encode_only"] = latencies(lambda text: encoder.encode([text]), single)
    results["throughput_ours"] = throughput(lambda texts: matcher.rank(texts, top_k=10), batch)
    results["throughput_cosine"] = throughput(lambda texts: (encoder.encode(texts) @ matrix.T).argsort(axis=1)[:, -10:], batch)
    results["latency_ratio"] = round(results["latency_ours"]["median_ms"] / results["latency_cosine"]["median_ms"], 2)
    results["peak_memory_mib"] = round(peak_mib(), 1)
    results["load_average_after"] = os.getloadavg()
    meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(), "python": platform.python_version(),
            "model": encoder.name, "torch_threads": _torch_threads(), "command": "python benchmarks/speed.py" + (" --build" if args.build else "")}
    report = {**meta, **results}
    print(json.dumps(report, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(json.dumps(report, indent=2) + "\n")


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
