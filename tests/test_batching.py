"""Micro-batching of concurrent map requests: one engine call for requests that wait together,
each request gets its own result, and a bad text fails only its own request."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from competencymap.batching import MapBatcher
from competencymap.config import load_settings
from competencymap.core import CompetencyMap
from competencymap.errors import InputTextError

TEXTS = ["Experience with PostgreSQL and Java", "Bake bread and pastries", "Drive delivery vehicles safely",
         "Manage the team budget", "Communicate with clients"]


@pytest.fixture(scope="module")
def app(built_home: Path) -> CompetencyMap:
    engine = CompetencyMap(load_settings(home=built_home))
    engine.matcher("mini")
    return engine


def _concurrently(batcher: MapBatcher, texts: list[str]) -> dict[int, object]:
    out: dict[int, object] = {}
    barrier = threading.Barrier(len(texts))

    def one(i: int) -> None:
        barrier.wait()
        try:
            out[i] = batcher.map(texts[i], ["mini"], top_k=3)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


@pytest.mark.model
def test_concurrent_requests_share_engine_calls(app: CompetencyMap) -> None:
    batcher = MapBatcher(app, wait=0.05)
    try:
        texts = TEXTS * 8  # 40 requests at once
        out = _concurrently(batcher, texts)
        assert batcher.requests == 40 and batcher.batches < 40
        for i, text in enumerate(texts):
            alone = app.map(text, ["mini"], top_k=3)
            assert [m.iri for m in out[i].profile] == [m.iri for m in alone.profile]  # type: ignore[attr-defined]
    finally:
        batcher.close()


@pytest.mark.model
def test_a_bad_text_fails_only_its_request(app: CompetencyMap) -> None:
    batcher = MapBatcher(app, wait=0.05)
    try:
        texts = [*TEXTS, "   ", *TEXTS]
        out = _concurrently(batcher, texts)
        assert isinstance(out[5], InputTextError)
        assert all(not isinstance(out[i], Exception) for i in range(len(texts)) if i != 5)
    finally:
        batcher.close()
