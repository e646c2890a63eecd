"""The engine's part loading: an index asked for with `build` is built when missing or stale,
and a stale one without `build` is an error naming the command that fixes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from competencymap._common.config import load_settings
from competencymap._common.errors import IndexNotReady
from competencymap.engine import CompetencyMap
from competencymap.retrieval.vector_index import CompetencyIndex


class Stale:
    """Stands in for CompetencyIndex.load: the index on disk was built for another framework."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> CompetencyIndex:
        self.calls += 1
        raise IndexNotReady("index was built for framework version 'old' but it is now 'new'")


@pytest.fixture()
def engine(built_home: Path, monkeypatch: pytest.MonkeyPatch) -> CompetencyMap:
    monkeypatch.setattr(CompetencyIndex, "load", Stale())
    return CompetencyMap(load_settings(home=built_home))


@pytest.mark.model
def test_a_stale_index_without_build_is_an_error(engine: CompetencyMap) -> None:
    with pytest.raises(IndexNotReady, match="framework version 'old'"):
        engine.index("sfs")


@pytest.mark.model
def test_a_stale_index_with_build_is_rebuilt(engine: CompetencyMap, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    monkeypatch.setattr(CompetencyMap, "build_index", lambda self, name, **kw: built.append(name) or "rebuilt")
    assert engine.index("sfs", build=True) == "rebuilt"
    assert built == ["sfs"]
