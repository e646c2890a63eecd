"""Micro-batching of concurrent map requests: one engine call for requests that wait together,
each request gets its own result, and a bad text fails only its own request."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from competencymap._common.config import load_settings
from competencymap._common.errors import InputTextError
from competencymap.engine import CompetencyMap
from competencymap.service.batching import MapBatcher

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


@pytest.mark.model
def test_a_cached_ranking_equals_a_fresh_one_wherever_the_statement_sits(app: CompetencyMap) -> None:
    from competencymap.mapping.settings import PipelineConfig

    text = "Experience with PostgreSQL and Java, baking bread on weekends"
    first = app.map(f"Intro line.\n{text}", ["mini"], top_k=5, kind="posting")
    again = app.map(f"A much longer introduction line here.\n{text}", ["mini"], top_k=5, kind="posting")
    matcher = app.matcher("mini")
    assert matcher.rankings.hits >= 1
    fresh_app = CompetencyMap(load_settings(home=app.settings.home, statement_cache=0))
    fresh = fresh_app.map(f"A much longer introduction line here.\n{text}", ["mini"], top_k=5, kind="posting")
    assert fresh_app.matcher("mini", PipelineConfig()).rankings.capacity == 0
    mine, theirs = again.results[-1].matches, fresh.results[-1].matches
    assert [(m.iri, m.score, m.confident) for m in mine] == [(m.iri, m.score, m.confident) for m in theirs]
    assert [e.span for m in mine for e in m.evidence] == [e.span for m in theirs for e in m.evidence]
    statement = again.results[-1].statement
    for m in mine:
        for e in m.evidence:
            if e.span is not None and e.method in ("label", "exact"):
                assert statement.start <= e.span[0] < e.span[1] <= statement.end
    assert first.results[-1].statement.start != statement.start
