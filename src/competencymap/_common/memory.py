"""A process's peak resident memory, read from Linux's /proc (for reports and benchmarks)."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mib() -> float | None:
    """This process's peak resident memory so far (VmHWM), in MiB to 0.1; None without /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None
