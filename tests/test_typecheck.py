"""`mypy src/competencymap` is clean (the Makefile's `typecheck` target; configuration in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_library_and_api_typecheck() -> None:
    pytest.importorskip("mypy", reason="mypy is in the dev extra")
    result = subprocess.run([sys.executable, "-m", "mypy", "src/competencymap"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
