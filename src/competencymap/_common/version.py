"""The installed competencymap version, as exports and the service report it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed distribution's version; '0' when run from a plain checkout."""
    try:
        return version("competencymap")
    except PackageNotFoundError:
        return "0"
