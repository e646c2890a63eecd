"""Speed benchmark: encoder backends, single-statement latency, batch throughput, cold start,
index build, approximate-search recall, and the peer (esco-skill-extractor) side by side.

Statements: the unique sentences of the TECH and HOUSE validation sets and the statements of
the sample job postings (data/postings), 489 unique statements, cycled to 1,000 for the batch and
peer figures with the statement caches switched off, so a repeated statement costs as much as a
new one (COMPETENCYMAP_STATEMENT_CACHE=0; the caches' own effect is reported apart).

    python benchmarks/speed.py [--build] [--peer] [--backends onnx-int8,onnx,torch] [--repeat 200]

--build times a full ESCO index build from scratch into a temporary home with the default
backend. --peer runs, as whole processes and alternately (three each, medians), our
`competencymap map --framework esco --top-k 100` and esco-skill-extractor 0.1.18
(`pip install '.[bench]'`) with the same bundled MiniLM folder on the CPU, on the same
statements; the peer's own embedding cache is deleted once first and its build timed apart.
Prints the load average before and after and writes benchmarks/results/speed.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from competencymap._common.config import load_settings
from competencymap.encoding.encoder import locate_default_model
from competencymap.engine import CompetencyMap
from competencymap.statements.segment import segment

PEER_SCRIPT = """
import sys, json, warnings
warnings.simplefilter("ignore")
from esco_skill_extractor import SkillExtractor
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
extractor = SkillExtractor(model=sys.argv[2], device="cpu")
skills = extractor.get_skills(texts)
print(sum(len(s) for s in skills), file=sys.stderr)
"""


def statements() -> list[str]:
    """The unique validation sentences, then the sample postings' statements (525)."""
    out: list[str] = []
    for name in ("tech", "house"):
        path = HERE / "data" / "skill-extraction" / f"{name}_validation_annotations.csv"
        for row in csv.DictReader(path.open(encoding="utf-8")):
            out.append(row["sentence"])
    for line in (ROOT / "data" / "postings" / "sample_postings.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            out += [s.text for s in segment(json.loads(line)["text"], kind="posting")]
    return list(dict.fromkeys(t.strip() for t in out if t.strip()))


STATEMENTS = 1000  # statements of the batch and peer figures: the pool cycled
TIME = "/usr/bin/time"  # GNU time (Debian package "time"), for each whole process's own peak memory


def cycled(pool: list[str], count: int) -> list[str]:
    return (pool * (count // len(pool) + 1))[:count]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latencies(call: Callable[[str], object], texts: Sequence[str]) -> dict[str, float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "n": len(times)}


def throughput(call: Callable[[list[str]], object], texts: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    call(texts)
    seconds = time.perf_counter() - started
    return {"statements_per_s": round(len(texts) / seconds, 1), "seconds": round(seconds, 2), "n": len(texts)}


def backend_figures(backend: str, pool: list[str], repeat: int) -> dict:
    """In-process figures for one backend, on a fresh engine with the statement cache off."""
    app = CompetencyMap(load_settings(backend=backend, statement_cache=0))
    matcher = app.matcher("esco")
    _, matrix = app.index("esco").pref_label_matrix()
    encoder = app.encoder
    single = (pool * (repeat // len(pool) + 1))[:repeat]
    batch = cycled(pool, STATEMENTS)
    for warm in pool[:10]:
        matcher.rank([warm], top_k=10)
    return {
        "backend": encoder.backend,
        "encode_one": latencies(lambda t: encoder.encode([t]), single),
        "ours_one": latencies(lambda t: matcher.rank([t], top_k=10), single),
        "cosine_one": latencies(lambda t: (encoder.encode([t]) @ matrix.T).argsort()[0, -10:], single),
        "encode_batch": throughput(lambda ts: encoder.encode(ts), batch),
        "ours_batch": throughput(lambda ts: [matcher.rank(ts[i:i + 64], top_k=10) for i in range(0, len(ts), 64)], batch),
        "cosine_batch": throughput(lambda ts: (encoder.encode(ts) @ matrix.T).argsort(axis=1)[:, -10:], batch),
    }


def cache_effect(pool: list[str]) -> dict:
    """The same 1,000 statements with the statement caches on (511 of them repeats)."""
    app = CompetencyMap(load_settings())
    matcher = app.matcher("esco")
    matcher.rank(pool[:5], top_k=10)
    figure = throughput(lambda ts: [matcher.rank(ts[i:i + 64], top_k=10) for i in range(0, len(ts), 64)],
                        cycled(pool, STATEMENTS))
    figure["ranking_cache_hits"] = matcher.rankings.hits
    figure["vector_cache_hits"] = app.statement_vectors.hits
    return figure


def ann_recall(pool: list[str], k: int = 150) -> dict:
    """How many of the exhaustive (flat) search's nearest competencies the IVF search finds."""
    app = CompetencyMap(load_settings())
    view = app.matcher("esco")._dense
    vectors = app.encoder.encode(pool)
    approximate = view.candidates_each(vectors, k)
    order = np.argsort(view.owner, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(view.owner[order]) != 0])
    grouped = np.asarray(view.vectors)[order]
    recall_k, recall_10 = [], []
    for vector, found in zip(vectors, approximate):
        best = np.maximum.reduceat(grouped @ vector, starts)  # every competency's best text, exhaustively
        exact = np.argsort(-best)[:k]
        recall_k.append(len(set(exact.tolist()) & set(found.tolist())) / k)
        recall_10.append(len(set(exact[:10].tolist()) & set(found.tolist())) / 10)
    return {"k": k, f"recall_at_{k}": round(float(np.mean(recall_k)), 4), "recall_of_top_10": round(float(np.mean(recall_10)), 4),
            "queries": len(pool), "search": app.index("esco").manifest["search"]}


def cli(*args: str, stdin: str = "", env: dict | None = None) -> dict[str, float]:
    """Wall, CPU seconds and peak memory of one whole `competencymap` process."""
    command = [str(ROOT / ".venv" / "bin" / "competencymap"), *args]
    return whole_process(command, stdin, env)  # exit 3 (some records failed) never happens on these inputs


def whole_process(command: list[str], stdin: str = "", env: dict | None = None) -> dict[str, float]:
    """Wall time, CPU seconds and peak resident memory of one child process (its own rusage)."""
    with tempfile.TemporaryDirectory() as tmp:
        given, output = Path(tmp) / "stdin", Path(tmp) / "output"
        given.write_text(stdin, encoding="utf-8")
        with given.open("rb") as source, output.open("wb") as sink:
            started = time.perf_counter()
            # GNU time runs the command from a small process: a child forked from this one would
            # count this process's memory in its own peak (Linux keeps it through fork and exec).
            process = subprocess.Popen([TIME, "-f", "%M %U %S", *command], stdin=source, stdout=subprocess.DEVNULL,
                                       stderr=sink, env={**os.environ, **(env or {})})
            process.wait()
            wall = time.perf_counter() - started
        report = output.read_text(errors="replace")
        if process.returncode != 0:
            raise SystemExit(f"{command[0]} failed: {report[-2000:]}")
    peak_kib, user, system = report.strip().splitlines()[-1].split()
    return {"wall_s": round(wall, 2), "cpu_s": round(float(user) + float(system), 2),
            "peak_mib": round(int(peak_kib) / 1024, 1)}


def cold_start() -> dict:
    """`search` and a one-line `map` from a cold process (warm disk), median of three each."""
    line = json.dumps({"id": "one", "text": "Write SQL queries to report weekly sales"}) + "\n"
    search = [cli("search", "postgres database administration", "--top-k", "5")["wall_s"] for _ in range(3)]
    one = [cli("map", "--framework", "esco", "--top-k", "10", stdin=line)["wall_s"] for _ in range(3)]
    return {"search_wall_s": statistics.median(search), "map_one_line_wall_s": statistics.median(one),
            "runs": {"search": search, "map": one}}


def peer_comparison(pool: list[str]) -> dict:
    """Whole-process runs of ours and esco-skill-extractor on the same statements, alternating."""
    try:
        import esco_skill_extractor
    except ImportError:
        return {"skipped": "esco-skill-extractor is not installed (pip install '.[bench]')"}
    texts = cycled(pool, STATEMENTS)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "statements.jsonl"
        path.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)), "utf-8")
        peer_dir = Path(esco_skill_extractor.__file__).parent / "data"
        for cached in ("skill_embeddings.bin", "occupation_embeddings.bin"):
            (peer_dir / cached).unlink(missing_ok=True)
        model = str(locate_default_model())
        peer = [sys.executable, "-c", PEER_SCRIPT, str(path), model]
        peer_build = whole_process(peer, env={"CUDA_VISIBLE_DEVICES": ""})
        ours_cmd = ["map", "--framework", "esco", "--top-k", "100", "--no-statements"]
        stdin = path.read_text("utf-8")
        runs: dict[str, list[dict]] = {"ours": [], "peer": []}
        for _ in range(3):
            runs["ours"].append(cli(*ours_cmd, stdin=stdin, env={"COMPETENCYMAP_STATEMENT_CACHE": "0"}))
            runs["peer"].append(whole_process(peer, env={"CUDA_VISIBLE_DEVICES": ""}))
    median = {name: {key: statistics.median(r[key] for r in items) for key in items[0]} for name, items in runs.items()}
    return {"statements": len(texts), "peer_first_run_with_embedding_build": peer_build, "runs": runs, "median": median,
            "ours_statements_per_s": round(len(texts) / median["ours"]["wall_s"], 1),
            "peer_statements_per_s": round(len(texts) / median["peer"]["wall_s"], 1),
            "throughput_ratio": round(median["peer"]["wall_s"] / median["ours"]["wall_s"], 2)}


def time_build() -> dict:
    settings = load_settings()
    with tempfile.TemporaryDirectory() as home:
        fresh = CompetencyMap(load_settings(home=Path(home), data=settings.data, model=settings.model,
                                            models=settings.model_cache))
        fresh.framework("esco")  # framework loading is timed by benchmarks/load_frameworks.py
        fresh.encoder.encode(["warm up"])
        started = time.perf_counter()
        index = fresh.build_index("esco", progress=True, force=True)
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 1), "texts": index.manifest["vector_count"], "backend": fresh.encoder.backend}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="also time a full ESCO index build")
    parser.add_argument("--peer", action="store_true", help="also run esco-skill-extractor side by side")
    parser.add_argument("--backends", default="onnx-int8,onnx,torch")
    parser.add_argument("--repeat", type=int, default=200, help="statements for the latency figures")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    pool = statements()
    report: dict[str, object] = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
                                 "python": platform.python_version(), "load_average_before": os.getloadavg(),
                                 "statements": len(pool), "command": "python benchmarks/speed.py " + " ".join(argv or sys.argv[1:])}
    report["backends"] = [backend_figures(b, pool, args.repeat) for b in args.backends.split(",") if b]
    report["with_statement_cache"] = cache_effect(pool)
    report["ann_recall"] = ann_recall(pool)
    report["cold_start"] = cold_start()
    if args.build:
        report["index_build"] = time_build()
    if args.peer:
        report["peer"] = peer_comparison(pool)
    report["peak_memory_mib"] = round(peak_mib(), 1)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
