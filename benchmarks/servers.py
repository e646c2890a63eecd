"""`competencymap serve` on a free loopback port, for the benchmark scripts (loopback only), and
a wait for the indexes it serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_indexes(frameworks: list[str], seconds: float) -> None:
    """Return once every framework has a built index (checked every 30 s); exit after `seconds`."""
    from competencymap._common.config import load_settings
    from competencymap.engine import CompetencyMap

    app = CompetencyMap(load_settings())
    deadline = time.monotonic() + seconds
    while True:
        missing = [n for n in frameworks if not (app.index_folder(n) / "manifest.json").is_file()]
        if not missing:
            return
        if time.monotonic() > deadline:
            sys.exit(f"error: no index for {', '.join(missing)} under {app.settings.home}; "
                     "run `competencymap index build --framework NAME` first")
        print(f"waiting for the index of {', '.join(missing)} ...", file=sys.stderr, flush=True)
        time.sleep(30)


def start_server(frameworks: list[str], folder: Path, *, seed: bool = False, env: dict[str, str] | None = None,
                 database: str = "catalog.sqlite", timeout: float = 600) -> tuple[subprocess.Popen[bytes], str]:
    """A server on the settings' indexes with a throw-away catalog in `folder` (seeded with the
    sample credentials when asked), without an API key; its URL once /health answers."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != "COMPETENCYMAP_API_KEY"}
    environ.update(COMPETENCYMAP_DATABASE_URL=f"sqlite:///{folder / database}", HF_HUB_OFFLINE="1",
                   TRANSFORMERS_OFFLINE="1", **(env or {}))
    command = [sys.executable, "-m", "competencymap", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--framework", ",".join(frameworks), "--no-build-index", "--seed" if seed else "--no-seed",
               "--log-level", "warning"]
    log = (folder / "server.log").open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"error: the server exited:\n{(folder / 'server.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    sys.exit(f"error: the server did not answer /health within {timeout:.0f} s")
