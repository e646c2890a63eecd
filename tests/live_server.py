"""A real `competencymap serve` subprocess on a free loopback port, for the HTTP and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

START_TIMEOUT = 240.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`competencymap serve --framework mini,sfs` with its own home and catalog; `env` adds
    settings; `restart()` keeps the home and database."""

    def __init__(self, home: Path, folder: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.folder = folder
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "server.log"
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPETENCYMAP_")}
        env.update(
            COMPETENCYMAP_HOME=str(self.home),
            COMPETENCYMAP_DATABASE_URL=f"sqlite:///{self.folder / 'catalog.sqlite'}",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            COMPETENCYMAP_MODELS=os.environ.get("COMPETENCYMAP_MODELS", str(self.home / "models")),
            **self.extra_env,
        )
        command = [sys.executable, "-m", "competencymap", "serve", "--port", str(port),
                   "--framework", "mini,sfs", "--log-level", "warning"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"server did not answer /health within {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])
