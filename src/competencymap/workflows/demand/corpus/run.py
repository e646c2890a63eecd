"""A corpus run: postings files -> per-posting Parquet files and the demand table, on Dask.

1. The client resolves the inputs, scans them once (counts, partition starts, checksums; a
   file error fails here) and checks the output folder: a folder holding another run (other
   inputs or options) is refused; the same run is resumed.
2. On the cluster (a local one by default: one worker process per core, one task thread each,
   the encoder's threads set to the cores per worker; or an existing scheduler), each worker
   loads the engine once (:class:`~competencymap.workflows.demand.corpus.plugin.EnginePlugin`). One task per
   partition whose Parquet file is missing reads its rows, maps them in batches with
   ``CompetencyMap.map_many`` and writes the partition's errors and per-posting files
   atomically. Dask re-runs the task of a worker that dies on another worker (a local
   cluster's nanny starts a replacement).
3. The reduction: one task per partition file counts its postings (needs, roll-ups from the
   framework graphs, cells), the parts are merged in a tree of tasks, and one task counts
   catalog supply for the table's rows. The table is written as CSV and Parquet, the errors
   are gathered in errors.jsonl, and the manifest records inputs, engine, counts and timings.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from competencymap._common.config import Settings
from competencymap._common.errors import CompetencyMapError
from competencymap._common.memory import peak_rss_mib
from competencymap.workflows.demand.corpus.inputs import InputFile, resolve_inputs
from competencymap.workflows.demand.corpus.output import (
    ERRORS_FILE,
    FORMAT,
    OutputFolder,
    discard,
    merge_errors,
    read_postings_file,
    temporary_beside,
    write_error,
    write_errors,
    write_postings,
)
from competencymap.workflows.demand.corpus.partitions import DEFAULT_SIZE, Partition, Plan, plan_partitions
from competencymap.workflows.demand.corpus.plugin import PLUGIN_NAME, EnginePlugin, worker_plugin
from competencymap.workflows.demand.counting import CounterPart, DemandCounter, SupplyCounts
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.demand.postings import LANGUAGE_STAGE, PostingError, map_batch_safely
from competencymap.workflows.demand.single import demand_context
from competencymap.workflows.demand.table import DemandTable, build_table, table_keys
from competencymap.workflows.employer_match import Offer
from competencymap.workflows.postings_io import Columns, RowError, read_items, write_table

if TYPE_CHECKING:
    from distributed import Client

Say = Callable[[str], None]
MERGE_FAN_IN = 8  # parts merged per reduction task


@dataclass(frozen=True)
class RunProgress:
    """How far the mapping has got, told each time a partition finishes (and once at the start).

    Postings are the rows that read as postings (the scan counts them per partition); the rows
    that are not (read errors) count among the rows only."""

    postings_done: int
    postings_total: int
    rows_done: int
    rows_total: int
    partitions_done: int
    partitions_total: int

    @property
    def fraction(self) -> float | None:
        """postings_done / postings_total (of rows when no row is a posting)."""
        done, total = (self.postings_done, self.postings_total) if self.postings_total else (self.rows_done,
                                                                                              self.rows_total)
        return round(done / total, 4) if total else None


ProgressCallback = Callable[[RunProgress], None]


class NothingMapped(CompetencyMapError):
    """A run none of whose postings could be read or mapped (each one is in errors.jsonl)."""


@dataclass(frozen=True)
class CorpusOptions:
    """What a corpus run maps (see :class:`DemandOptions`), which columns it reads, how it cuts."""

    demand: DemandOptions
    columns: Columns = Columns()
    partition_size: int = DEFAULT_SIZE


@dataclass(frozen=True)
class ClusterOptions:
    """Where the run runs: an existing scheduler, or a local cluster of `workers` processes."""

    scheduler: str | None = None  # e.g. tcp://HOST:8786; None: a local cluster
    workers: int | None = None  # local cluster: worker processes (default: one per core)
    threads: int | None = None  # encoder threads per worker (local default: cores / workers)


@dataclass
class CorpusResult:
    table: DemandTable
    folder: Path
    manifest: dict[str, Any]
    partitions_mapped: int  # by this run
    partitions_reused: int  # already in the folder
    errors: int


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# -- the run ---------------------------------------------------------------------------------------


def run_corpus(
    settings: Settings,
    inputs: Sequence[str],
    output: str | Path,
    options: CorpusOptions,
    *,
    cluster: ClusterOptions = ClusterOptions(),
    client: Client | None = None,
    offers: Sequence[Offer] | None = None,
    progress: bool = False,
    say: Say | None = None,
    on_progress: ProgressCallback | None = None,
    prepared: PreparedRun | None = None,
    names: Mapping[str, str] | None = None,
    catalog_credentials: int | None = None,
) -> CorpusResult:
    """Map the postings of `inputs` (files, folders, globs) into `output` and build the demand
    table; resumes the run already in `output`. `offers` (catalog credentials with accepted tags)
    adds supply; `catalog_credentials` is how many credentials the catalog holds in all (tagged
    or not; the table's meta states supply against both). `client` uses an existing Dask client; otherwise one is made from `cluster`.
    `prepared` is what :func:`prepare_corpus` gave for the same arguments (else it runs now);
    `names` as for :func:`prepare_corpus`. The run holds the folder's lock (another run into it
    fails at once, naming this one)."""
    say = say or (lambda message: None)
    clock = {"started": time.time()}
    start = time.perf_counter()
    prepared = prepared or prepare_corpus(settings, inputs, output, options, names=names)
    prepared.folder.create()
    with prepared.folder.locked():
        prepared.previous = _check_folder(prepared.folder, prepared.signature)  # as it is now the lock is held
        return _run_locked(settings, prepared, options, cluster, client, offers, progress, say, on_progress, clock,
                           start, catalog_credentials)


def _run_locked(settings: Settings, prepared: PreparedRun, options: CorpusOptions, cluster: ClusterOptions,
                client: Client | None, offers: Sequence[Offer] | None, progress: bool, say: Say,
                on_progress: ProgressCallback | None, clock: dict[str, float], start: float,
                catalog_credentials: int | None) -> CorpusResult:
    """The run of :func:`run_corpus`, once it holds the folder's lock."""
    files, plan, folder, signature, previous = (prepared.files, prepared.plan, prepared.folder, prepared.signature,
                                                prepared.previous)
    done = [p for p in plan.partitions if folder.done(p.id)]
    todo = [p for p in plan.partitions if not folder.done(p.id)]
    manifest: dict[str, Any] = {"format": FORMAT, "state": "running", "run": signature, "inputs": _inputs(files, plan),
                "runs": [*(previous or {}).get("runs", []), {"started": _iso(clock["started"]), "partitions_to_map": len(todo)}]}
    folder.write_manifest(manifest)
    scanned = time.perf_counter() - start
    if done:
        say(f"resuming: {len(done)} of {len(plan.partitions)} partitions already mapped in {folder.root}")
    with dask_client(cluster, client, say) as dask:
        threads = cluster.threads or (_local_threads(cluster) if cluster.scheduler is None and client is None else None)
        register_engine(dask, settings, threads)
        info = dask.submit(engine_info, options.demand, key=_key("engine-info"), pure=False).result()
        started = time.perf_counter()
        stats = _map_partitions(dask, todo, plan, done, options, folder, progress, on_progress)
        mapped_seconds = time.perf_counter() - started
        started = time.perf_counter()
        counter = _reduce(dask, plan.partitions, folder, options.demand)
        supply, notes = None, list(info["notes"])
        if offers is not None:
            supply, notes = dask.submit(supply_counts, list(offers), options.demand, table_keys(counter),
                                        key=_key("supply"), pure=False).result()
        reduced = time.perf_counter() - started
        cluster_info = _cluster_info(dask, cluster, client, threads)
    started = time.perf_counter()
    errors = merge_errors(folder, [p.id for p in plan.partitions])
    lost, not_read = _errors_not_counted(folder, plan.partitions)
    table = build_table(counter, frameworks=options.demand.frameworks, by_month=options.demand.by_month,
                        by_occupation=options.demand.by_occupation, supply=supply, pipeline=options.demand.pipeline,
                        notes=notes, group_by=options.demand.group_by, errors=lost, rollup=options.demand.rollup,
                        not_read=not_read,
                        catalog_credentials=catalog_credentials if offers is not None else None)
    if table.postings == 0:
        raise NothingMapped(f"no posting could be mapped; each one is listed with its reason in {ERRORS_FILE}",
                            path=str(folder.root))
    write_demand_table(folder, table)
    manifest.update({
        "state": "complete",
        "engine": {key: info[key] for key in ("model", "backend", "frameworks")},
        "cluster": cluster_info,
        "counts": {"rows": plan.total, "postings_counted": table.postings, "statements": table.statements,
                   "errors": errors, "postings_left_out": lost, "postings_not_read": not_read,
                   "statements_not_read": table.not_read_statements, "partitions": len(plan.partitions),
                   "partitions_mapped_by_this_run": len(todo), "partitions_reused": len(done),
                   "table_rows": len(table.rows)},
        "timings": {"scan_seconds": round(scanned, 3), "map_seconds": round(mapped_seconds, 3),
                    "reduce_seconds": round(reduced, 3), "write_seconds": round(time.perf_counter() - started, 3),
                    "total_seconds": round(time.perf_counter() - start, 3),
                    "worker_map_seconds": round(sum(s["seconds"] for s in stats), 3)},
        "workers": _worker_stats(stats),
        "table": {"columns": table.columns(), "meta": table.meta()},
    })
    manifest["runs"][-1].update({"finished": _iso(time.time()), "partitions_mapped": len(todo)})
    folder.write_manifest(manifest)
    return CorpusResult(table, folder.root, manifest, len(todo), len(done), errors)


@dataclass
class PreparedRun:
    """A run's inputs, partitions and output folder, checked; nothing written yet."""

    files: list[InputFile]
    plan: Plan
    folder: OutputFolder
    signature: dict[str, Any]
    previous: dict[str, Any] | None  # the manifest of the run being resumed


def prepare_corpus(settings: Settings, inputs: Sequence[str], output: str | Path, options: CorpusOptions, *,
                   names: Mapping[str, str] | None = None, max_rows: int | None = None) -> PreparedRun:
    """Resolve and scan the inputs and check the output folder (a folder another run is writing,
    a file error, more than `max_rows` rows in all or a folder holding another run fails here,
    before any cluster starts); pass it to :func:`run_corpus`. `names` maps an input as given to
    the name its postings and errors carry (an uploaded file's own name rather than the path
    the server stored it at)."""
    folder = OutputFolder(output)
    folder.check_unlocked()
    files = resolve_inputs(list(inputs), names)
    plan = plan_partitions(files, options.columns, options.partition_size, max_rows=max_rows)
    signature = run_signature(settings, files, options)
    previous = _check_folder(folder, signature)
    return PreparedRun(files, plan, folder, signature, previous)


def run_signature(settings: Settings, files: Sequence[InputFile], options: CorpusOptions) -> dict[str, Any]:
    """What must be the same for a rerun to resume: input contents, what is mapped, how it is cut."""
    demand = options.demand
    signature = {
        "inputs": [{"sha256": f.sha256, "size": f.size, "format": f.format} for f in files],
        "frameworks": list(demand.frameworks), "by_month": demand.by_month, "by_occupation": demand.by_occupation,
        "group_by": list(demand.group_by), "top_k": demand.top_k, "pipeline": repr(demand.pipeline_config),
        "occupations": demand.occupations if demand.by_occupation else None,
        "columns": asdict(options.columns), "partition_size": options.partition_size,
        "model": settings.model, "language": settings.language,
    }
    return orjson.loads(orjson.dumps(signature))


def _check_folder(folder: OutputFolder, signature: dict[str, Any]) -> dict[str, Any] | None:
    previous = folder.read_manifest()
    if previous is None:
        if folder.root.is_dir() and not folder.is_empty():
            raise CompetencyMapError("the output folder is not empty and holds no corpus run; name a new or empty folder",
                                     path=str(folder.root))
        if folder.root.exists() and not folder.root.is_dir():
            raise CompetencyMapError("the output is a file, not a folder", path=str(folder.root))
        return None
    old = previous.get("run", {})
    if old != signature:
        changed = sorted(k for k in set(old) | set(signature) if old.get(k) != signature.get(k))
        raise CompetencyMapError(
            f"the output folder holds a run with other {', '.join(changed)}; rerun with the same inputs and options "
            "to resume it, or name another --output folder", path=str(folder.root))
    return previous


def _inputs(files: Sequence[InputFile], plan: Any) -> list[dict[str, Any]]:
    return [{**f.to_dict(), "rows": plan.rows[f.number], "bad_rows": plan.bad_rows[f.number]} for f in files]


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(moment))


def _key(name: str) -> str:
    return f"competencymap-{name}-{uuid.uuid4().hex[:8]}"


# -- the cluster -----------------------------------------------------------------------------------


def _local_threads(cluster: ClusterOptions) -> int:
    return max(1, available_cores() // (cluster.workers or available_cores()))


@contextmanager
def dask_client(cluster: ClusterOptions, client: Client | None = None, say: Say | None = None) -> Iterator[Client]:
    """`client` as it is; else a client of the scheduler named in `cluster`, or of a new local
    cluster (closed afterwards)."""
    say = say or (lambda message: None)
    if client is not None:
        yield client
        return
    from distributed import Client

    if cluster.scheduler:
        try:
            remote = Client(cluster.scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise CompetencyMapError(f"cannot reach the Dask scheduler at {cluster.scheduler}: {exc}") from None
        try:
            _say_dashboard(remote, say)
            yield remote
        finally:
            remote.close()
        return
    local = local_cluster(cluster.workers or available_cores(), cluster.threads or _local_threads(cluster))
    try:
        with Client(local) as own:
            _say_dashboard(own, say)
            yield own
    finally:
        local.close()


def local_cluster(workers: int, threads: int) -> Any:
    """A local cluster of `workers` processes, one task thread each, `threads` encoder threads each."""
    from distributed import LocalCluster

    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    dashboard = ":0" if importlib.util.find_spec("bokeh") is not None else None
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=dashboard,
                        env=env, silence_logs=logging.CRITICAL)


def _say_dashboard(client: Client, say: Say) -> None:
    try:
        services = client.scheduler_info().get("services", {})
    except Exception:  # noqa: BLE001 - the address is a courtesy
        services = {}
    if "dashboard" in services:
        say(f"Dask dashboard: {client.dashboard_link}")


def register_engine(client: Client, settings: Settings, threads: int | None) -> None:
    """Register the engine plugin unless every worker already holds one for the same settings."""
    held = client.run(_holds_engine, settings, threads)
    if held and all(held.values()):
        return
    client.register_plugin(EnginePlugin(settings, threads), name=PLUGIN_NAME)


def _holds_engine(settings: Settings, threads: int | None, dask_worker: Any = None) -> bool:
    plugin = dask_worker.plugins.get(PLUGIN_NAME) if dask_worker is not None else None
    return plugin is not None and plugin.settings == settings and plugin.threads == threads


def _cluster_info(client: Client, cluster: ClusterOptions, given: Client | None, threads: int | None) -> dict[str, Any]:
    try:
        workers = client.scheduler_info().get("workers", {})
    except Exception:  # noqa: BLE001 - the run report is informative: a scheduler that cannot say leaves it empty
        workers = {}
    kind = "given client" if given is not None else ("scheduler " + cluster.scheduler if cluster.scheduler else "local")
    return {"kind": kind, "workers": len(workers), "threads_per_worker": sorted({w.get("nthreads") for w in workers.values()}),
            "encoder_threads": threads}


# -- mapping -----------------------------------------------------------------------------------------


def _map_partitions(client: Client, todo: Sequence[Partition], plan: Any, done: Sequence[Partition],
                    options: CorpusOptions, folder: OutputFolder, progress: bool,
                    on_progress: ProgressCallback | None) -> list[dict[str, Any]]:
    from distributed import as_completed
    from tqdm import tqdm

    total = plan.total
    finished = sum(p.count for p in done)
    postings = sum(p.postings for p in done)
    parts = len(done)
    bar = tqdm(total=total, initial=finished, unit=" rows", file=sys.stderr, disable=not progress,
               mininterval=0.5, dynamic_ncols=True)

    def tell() -> None:
        if on_progress is not None:
            on_progress(RunProgress(postings, plan.postings, finished, total, parts, len(plan.partitions)))

    tell()
    futures = [client.submit(map_partition, p, options.demand, options.columns, str(folder.root),
                             key=_key(f"map-{p.id}"), pure=False) for p in todo]
    stats: list[dict[str, Any]] = []
    try:
        for future in as_completed(futures):
            try:
                result = future.result()
            except CompetencyMapError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker that kept dying, a bug: name the partition
                partition = todo[futures.index(future)]
                raise CompetencyMapError(
                    f"partition {partition.id} ({partition.name}, rows {partition.first + 1}-"
                    f"{partition.first + partition.count}) failed: {type(exc).__name__}: {exc}") from None
            stats.append(result)
            partition = todo[futures.index(future)]
            finished += partition.count
            postings += partition.postings
            parts += 1
            bar.update(partition.count)
            tell()
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        bar.close()
    return stats


def map_partition(partition: Partition, options: DemandOptions, columns: Columns, root: str) -> dict[str, Any]:
    """(On a worker.) Read one partition, map it, write its errors and per-posting files."""
    started = time.perf_counter()
    plugin = worker_plugin()
    folder = OutputFolder(root)
    if not folder.manifest_path.is_file():
        raise CompetencyMapError(f"this Dask worker cannot see the output folder {root}: on a cluster, --output and "
                                 "the inputs must be on storage every worker sees")
    if not Path(partition.path).is_file():
        raise CompetencyMapError(f"this Dask worker cannot see the input {partition.path}: on a cluster, --output "
                                 "and the inputs must be on storage every worker sees")
    errors: list[PostingError] = []
    numbered: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(read_items(partition.path, columns, start=partition.start, limit=partition.count),
                                  partition.first + 1):
        if isinstance(item, RowError):
            errors.append(PostingError(item.message, "read", number=number, source=partition.name,
                                       line=item.line if item.line is not None else item.row))
        else:
            item["source"] = partition.name
            numbered.append((number, item))
    mapped = []
    engine = plugin.engine()
    with plugin.lock:
        for first in range(0, len(numbered), options.chunk_size):
            batch_mapped, batch_errors = map_batch_safely(engine, numbered[first:first + options.chunk_size], options)
            mapped += batch_mapped
            errors += batch_errors
    failed = [e for e in errors if e.stage == "map"]
    if len(numbered) > 1 and not mapped and len(failed) == len(numbered):
        raise CompetencyMapError(f"no posting of partition {partition.id} could be mapped: {failed[0].reason}")
    errors.sort(key=lambda e: (e.number or 0, e.stage))
    write_errors(folder.errors_path(partition.id), errors, partition.id)
    write_postings(folder.postings_path(partition.id), mapped, options)
    from distributed import get_worker

    return {"partition": partition.id, "rows": partition.count, "postings": len(mapped), "errors": len(errors),
            "statements": sum(m.statements for m in mapped), "seconds": time.perf_counter() - started,
            "worker": get_worker().address, "pid": os.getpid(), "peak_rss_mib": peak_rss_mib()}


def _worker_stats(stats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in stats:
        key = f"{s['worker']} (pid {s['pid']})"
        entry = out.setdefault(key, {"partitions": 0, "postings": 0, "seconds": 0.0, "peak_rss_mib": 0.0})
        entry["partitions"] += 1
        entry["postings"] += s["postings"]
        entry["seconds"] = round(entry["seconds"] + s["seconds"], 3)
        entry["peak_rss_mib"] = max(entry["peak_rss_mib"], s["peak_rss_mib"] or 0.0)
    return out


def engine_info(options: DemandOptions) -> dict[str, Any]:
    """(On a worker.) Load the engine for `options` (failing early on an unknown framework or a
    missing index) and say what it is: model, encoder backend, framework versions, notes."""
    plugin = worker_plugin()
    context = plugin.context(options)
    engine = plugin.engine()
    encoder = engine.encoder
    frameworks = {}
    for name in options.mapped_frameworks():
        framework = engine.framework(name)
        frameworks[name] = {"version": framework.version, "title": framework.title,
                            "competencies": len(framework.competencies)}
    backend = getattr(encoder, "backend", None) or "sentence-transformers"
    return {"model": encoder.name, "backend": str(backend), "frameworks": frameworks, "notes": list(context.notes)}


# -- the reduction ---------------------------------------------------------------------------------


def _reduce(client: Client, partitions: Sequence[Partition], folder: OutputFolder, options: DemandOptions) -> DemandCounter:
    """Count each partition file on a worker and merge the parts in a tree of tasks."""
    parts = [client.submit(count_partition, str(folder.postings_path(p.id)), options, key=_key(f"count-{p.id}"),
                           pure=False) for p in partitions]
    while len(parts) > 1:
        parts = [client.submit(merge_parts, parts[i:i + MERGE_FAN_IN], key=_key("merge"), pure=False)
                 for i in range(0, len(parts), MERGE_FAN_IN)]
    counter = DemandCounter()
    counter.merge(parts[0].result())
    return counter


def count_partition(path: str, options: DemandOptions) -> CounterPart:
    """(On a worker.) The counts of one per-posting file."""
    plugin = worker_plugin()
    context = plugin.context(options)
    with plugin.lock:
        counter = DemandCounter(context.rollup)
        for posting in read_postings_file(Path(path), options):
            counter.add_mapped(posting, options.frameworks)
        return counter.part()


def merge_parts(parts: Sequence[CounterPart]) -> CounterPart:
    """(On a worker.) Several parts as one."""
    counter = DemandCounter()
    for part in parts:
        counter.merge(part)
    return counter.part()


def supply_counts(offers: Sequence[Offer], options: DemandOptions, keys: Sequence[Any]) -> tuple[SupplyCounts, list[str]]:
    """(On a worker.) Catalog supply for the table's rows, with the notes of the coverage rule."""
    plugin = worker_plugin()
    with plugin.lock:
        context = demand_context(plugin.engine(), options, offers, catalog=True)
        supply = context.supply(offers)
        return SupplyCounts({key: supply.count(key) for key in keys}, supply.credentials), list(context.notes)


def _errors_not_counted(folder: OutputFolder, partitions: Sequence[Partition]) -> tuple[int, int]:
    """(postings left out, those among them left out for their language)."""
    count = language = 0
    for p in partitions:
        path = folder.errors_path(p.id)
        if path.is_file():
            for line in path.read_bytes().splitlines():
                error = orjson.loads(line) if line else None
                if error is not None and not error["counted"]:
                    count += 1
                    language += error["stage"] == LANGUAGE_STAGE
    return count, language


# -- the table -------------------------------------------------------------------------------------


def write_demand_table(folder: OutputFolder, table: DemandTable) -> None:
    """DIR/demand.csv and DIR/demand.parquet, each written atomically."""
    for name, fmt in (("demand.csv", "csv"), ("demand.parquet", "parquet")):
        path = folder.root / name
        temporary = temporary_beside(path)
        write_table(table.records(), table.columns(), fmt, temporary, meta=table.meta())
        try:
            os.replace(temporary, path)
        except OSError as exc:
            discard(temporary)
            raise write_error(exc, path) from None
