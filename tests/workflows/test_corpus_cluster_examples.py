"""The cluster examples (examples/cluster): the SLURM config builds a SLURMCluster whose job script
starts one single-threaded worker per core with the run's environment (dask-jobqueue renders it
without SLURM); the Kubernetes manifests agree with each other and their run command is a valid
`competencymap demand` command line (dask-kubernetes needs a cluster, so it is not imported)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cluster"


def launcher():
    spec = importlib.util.spec_from_file_location("cluster_launch", EXAMPLES / "launch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_slurm_config_renders_a_job_script() -> None:
    pytest.importorskip("dask_jobqueue")
    launch = launcher()
    arguments, jobs = launch.load_slurm(EXAMPLES / "slurm.yaml")
    assert jobs == 4 and arguments["cores"] == arguments["processes"]  # one worker process per core
    cluster, _ = launch.slurm_cluster(EXAMPLES / "slurm.yaml")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH -J competencymap-worker" in script
    assert "#SBATCH -p compute" in script and "#SBATCH -A my-project" in script and "#SBATCH -t 04:00:00" in script
    worker = next(line for line in script.splitlines() if "distributed.cli.dask_worker" in line)
    assert worker.startswith("/shared/competencymap/.venv/bin/python ")
    assert "--nworkers 8" in worker and "--nthreads 1" in worker and "--death-timeout 120" in worker
    for line in ("export COMPETENCYMAP_HOME=/shared/competencymap/indexes", "export HF_HUB_OFFLINE=1",
                 "export OMP_NUM_THREADS=1"):
        assert line in script


def test_the_kubernetes_manifests_agree() -> None:
    from competencymap.cli.demand import demand

    launch = launcher()
    resources = {r["kind"]: r for r in launch.kubernetes_resources(EXAMPLES / "kubernetes.yaml")}
    assert set(resources) == {"DaskCluster", "Job"}
    cluster, job = resources["DaskCluster"], resources["Job"]
    worker = cluster["spec"]["worker"]["spec"]["containers"][0]
    client = job["spec"]["template"]["spec"]["containers"][0]
    assert worker["args"][worker["args"].index("--nthreads") + 1] == "1"
    assert worker["image"] == client["image"] == cluster["spec"]["scheduler"]["spec"]["containers"][0]["image"]
    env = lambda container: {e["name"]: e["value"] for e in container["env"]}  # noqa: E731 - a one-line view used in the asserts below
    assert env(worker)["COMPETENCYMAP_HOME"] == env(client)["COMPETENCYMAP_HOME"]  # the same paths in every pod
    assert worker["volumeMounts"] == client["volumeMounts"]
    command = client["command"]
    assert command[:2] == ["competencymap", "demand"]
    assert command[command.index("--scheduler") + 1] == f"tcp://{cluster['metadata']['name']}-scheduler:8786"
    port = cluster["spec"]["scheduler"]["service"]["ports"][0]
    assert port["port"] == 8786
    context = demand.make_context("demand", command[2:])  # valid options for the command (parsed, not run)
    assert context.params["scheduler"].endswith(":8786") and context.params["output"] == Path("/corpus/runs/2026-q1")
