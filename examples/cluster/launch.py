"""Start a Dask cluster for `competencymap demand --scheduler ADDRESS` from an example config.

    python examples/cluster/launch.py slurm examples/cluster/slurm.yaml [--jobs N] [--print-job-script]
    python examples/cluster/launch.py kubernetes examples/cluster/kubernetes.yaml

SLURM: the scheduler runs in this process (keep it running, e.g. in tmux on the login node);
`jobs` batch jobs start the workers. The scheduler address is printed and written to
scheduler-address.txt. Kubernetes: the DaskCluster resource in the file is created through the
dask-kubernetes operator (or apply the file with kubectl, which also starts the run as a Job).
Needs `pip install 'competencymap[cluster]'` (dask-jobqueue, dask-kubernetes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import yaml


def load_slurm(path: str | Path) -> tuple[dict[str, Any], int]:
    """The SLURMCluster keyword arguments and the number of jobs of a config file."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise SystemExit(f"{path}: expected a mapping with a 'cluster' mapping (SLURMCluster arguments)")
    return dict(config["cluster"]), int(config.get("jobs", 1))


def slurm_cluster(path: str | Path) -> tuple[Any, int]:
    """A SLURMCluster for the config (no job submitted yet) and the jobs to submit."""
    from dask_jobqueue import SLURMCluster

    arguments, jobs = load_slurm(path)
    return SLURMCluster(**arguments), jobs


def kubernetes_resources(path: str | Path) -> list[dict[str, Any]]:
    """The resources of a Kubernetes example file (DaskCluster, Job)."""
    return [doc for doc in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")) if doc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["slurm", "kubernetes"])
    parser.add_argument("config", type=Path)
    parser.add_argument("--jobs", type=int, help="SLURM: batch jobs to submit (default: the config's)")
    parser.add_argument("--print-job-script", action="store_true", help="SLURM: print the job script and stop")
    args = parser.parse_args()
    if args.kind == "kubernetes":
        from dask_kubernetes.operator import KubeCluster, make_cluster_spec  # noqa: F401 - checks the install

        cluster_resource = next(r for r in kubernetes_resources(args.config) if r.get("kind") == "DaskCluster")
        cluster = KubeCluster(custom_cluster_spec=cluster_resource)
    else:
        cluster, jobs = slurm_cluster(args.config)
        if args.print_job_script:
            print(cluster.job_script())
            cluster.close()
            return
        cluster.scale(jobs=args.jobs or jobs)
    address = cluster.scheduler_address
    Path("scheduler-address.txt").write_text(address + "\n", encoding="utf-8")
    print(f"scheduler: {address}  (dashboard: {cluster.dashboard_link})")
    print(f"run: competencymap demand POSTINGS... --output DIR --scheduler {address}")
    try:
        while True:
            time.sleep(60)
    except KeyboardInterrupt:
        cluster.close()


if __name__ == "__main__":
    main()
