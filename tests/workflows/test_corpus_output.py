"""A corpus run's output folder on a bad day: a read-only or full folder gives one clean error
naming it (never an OSError raised while cleaning up), and a folder is written by one run at a
time: a second run fails at once naming the holder (pid, host, start time), and a run that is
killed leaves no stale lock."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from competencymap._common.errors import CompetencyMapError
from competencymap.workflows.demand.corpus.output import OutputFolder, write_atomic
from competencymap.workflows.demand.corpus.run import write_demand_table
from competencymap.workflows.demand.table import DemandTable


def refuse_writes(monkeypatch: pytest.MonkeyPatch, folder: Path, code: int) -> None:
    """Every write, rename and removal under `folder` fails with `code` (as a read-only or full
    file system would; the tests run as root, where chmod stops nothing)."""
    inside = str(folder)

    def failure(path: object) -> OSError:
        return OSError(code, os.strerror(code), str(path))

    real_open, real_path_open, real_unlink, real_replace = os.open, Path.open, Path.unlink, os.replace

    def os_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path).startswith(inside) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise failure(path)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def path_open(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if str(self).startswith(inside) and set(mode) & set("wax+"):
            raise failure(self)
        return real_path_open(self, mode, *args, **kwargs)  # type: ignore[arg-type]

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if str(self).startswith(inside):
            raise failure(self)
        real_unlink(self, missing_ok=missing_ok)

    def replace(source: object, target: object) -> None:
        if str(target).startswith(inside):
            raise failure(target)
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(Path, "open", path_open)
    monkeypatch.setattr(Path, "unlink", unlink)
    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_a_write_into_a_read_only_or_full_folder_is_one_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   code: int) -> None:
    refuse_writes(monkeypatch, tmp_path, code)
    with pytest.raises(CompetencyMapError) as caught:
        write_atomic(tmp_path / "manifest.json", b"{}")
    assert str(tmp_path) in caught.value.line_text() and os.strerror(code) in caught.value.line_text()


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_the_demand_table_that_cannot_be_renamed_is_one_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    code: int) -> None:
    table = DemandTable(rows=[], postings=1, frameworks=["mini"])

    def replace(source: object, target: object) -> None:
        raise OSError(code, os.strerror(code), str(target))

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(CompetencyMapError, match=os.strerror(code)) as caught:
        write_demand_table(OutputFolder(tmp_path), table)
    assert str(tmp_path) in caught.value.line_text()


def test_a_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "run")
    folder.create()
    with folder.locked():
        with pytest.raises(CompetencyMapError) as caught:
            with OutputFolder(tmp_path / "run").locked():
                pass
        message = caught.value.line_text()
        assert f"pid {os.getpid()}" in message and os.uname().nodename in message and "started" in message
        assert str(tmp_path / "run") in message
        with pytest.raises(CompetencyMapError, match=f"pid {os.getpid()}"):
            OutputFolder(tmp_path / "run").check_unlocked()
    with folder.locked():  # released when the run ends
        pass
    folder.check_unlocked()


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "run")
    folder.create()
    holder = textwrap.dedent(f"""
        import sys, time
        from competencymap.workflows.demand.corpus.output import OutputFolder
        with OutputFolder({str(folder.root)!r}).locked():
            print("locked", flush=True)
            time.sleep(120)
    """)
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "locked"
        with pytest.raises(CompetencyMapError, match=f"pid {process.pid}"):
            folder.check_unlocked()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    deadline = time.monotonic() + 10
    with folder.locked():
        assert time.monotonic() < deadline
