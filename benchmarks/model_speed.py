"""The adapted encoder against the stock one: batch mapping throughput in one process, alternating.

Same statements as benchmarks/speed.py (the validation sentences and the sample postings'
statements, cycled to 1,000), statement caches off, ESCO at top 100, the default backend; the two
engines run in turn three times each and the medians are compared (a ratio measured in one run).

    python benchmarks/model_speed.py [--rounds 3]

Prints the load average before and after and writes benchmarks/results/model_speed.json.
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
os.environ["COMPETENCYMAP_STATEMENT_CACHE"] = "0"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from competencymap._common.config import ADAPTED_MODEL, STOCK_MODEL, load_settings
from competencymap.engine import CompetencyMap
from speed import statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = (statements() * 3)[:1000]
    print(f"load before: {os.getloadavg()}", file=sys.stderr)
    engines = {name: CompetencyMap(load_settings(model=name)) for name in (STOCK_MODEL, ADAPTED_MODEL)}
    for engine in engines.values():
        engine.map_many(texts[:50], ["esco"], top_k=100)  # load the model, index and matcher first
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            started = time.perf_counter()
            engine.map_many(texts, ["esco"], top_k=100)
            seconds[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    rates = {name: round(len(texts) / value, 1) for name, value in medians.items()}
    ratio = round(rates[ADAPTED_MODEL] / rates[STOCK_MODEL], 3)
    for name in engines:
        print(f"{name:20} {rates[name]:7.1f} statements/s (median of {args.rounds}: {[round(s, 2) for s in seconds[name]]})")
    print(f"adapted / stock throughput: {ratio}")
    print(f"load after: {os.getloadavg()}", file=sys.stderr)
    out = {"statements": len(texts), "top_k": 100, "rounds": args.rounds, "seconds": seconds,
           "statements_per_second": rates, "adapted_over_stock": ratio, "command": "python benchmarks/model_speed.py"}
    (HERE / "results" / "model_speed.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
