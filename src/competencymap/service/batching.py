"""Micro-batching: concurrent `map` requests joined into one engine call.

A service answering many clients at once gains from mapping their texts together: the
statements of every waiting request are embedded in one encoder call and searched in one FAISS
search. `MapBatcher.map` is called from a request's thread and blocks until its own result is
ready; one worker thread takes whatever requests are waiting (after at most `wait` seconds,
up to `max_texts` texts), groups them by frameworks and options, and maps each group with
`CompetencyMap.map_many`. When a group fails, it is mapped in halves (`_common.halves`), so one
bad text only fails its own request.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from competencymap._common.errors import CompetencyMapError
from competencymap._common.halves import run_in_halves
from competencymap.mapping.results import MappingResult

if TYPE_CHECKING:
    from competencymap.engine import CompetencyMap

WAIT = 0.003  # seconds the worker waits for more requests once one has arrived
MAX_TEXTS = 64


@dataclass
class _Request:
    text: str
    key: tuple[tuple[str, ...], int, str]  # frameworks, top_k, kind
    future: Future[MappingResult] = field(default_factory=Future)


class MapBatcher:
    """Joins concurrent map requests into shared engine calls (one worker thread)."""

    def __init__(self, engine: CompetencyMap, *, wait: float = WAIT, max_texts: int = MAX_TEXTS) -> None:
        self.engine = engine
        self.wait = wait
        self.max_texts = max_texts
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="map-batcher", daemon=True)
        self._thread.start()
        self.batches = 0  # engine calls made (for tests and figures)
        self.requests = 0

    def map(self, text: str, frameworks: Sequence[str], *, top_k: int = 10, kind: str = "auto") -> MappingResult:
        """Map one text (blocking); raises what mapping it alone would raise."""
        if not self._thread.is_alive():
            raise RuntimeError("the batcher is closed")
        request = _Request(text, (tuple(frameworks), top_k, kind))
        self._queue.put(request)
        return request.future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            waiting = self._gather(first)
            for key, group in _grouped(waiting).items():
                self._serve(key, group)

    def _gather(self, first: _Request) -> list[_Request]:
        waiting = [first]
        while len(waiting) < self.max_texts:
            try:
                item = self._queue.get(timeout=self.wait)
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after serving these
                break
            waiting.append(item)
        return waiting

    def _serve(self, key: tuple[tuple[str, ...], int, str], group: list[_Request]) -> None:
        frameworks, top_k, kind = key
        self.batches += 1
        self.requests += len(group)
        try:
            outcomes = run_in_halves(
                group, lambda part: self.engine.map_many([r.text for r in part], frameworks, top_k=top_k, kind=kind),
                catch=(CompetencyMapError,))
        except BaseException as exc:  # noqa: BLE001 - a bug: every waiting request hears of it, none hangs
            for request in group:
                request.future.set_exception(exc)
            return
        for request, outcome in zip(group, outcomes):
            if isinstance(outcome, BaseException):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)


def _grouped(requests: list[_Request]) -> dict[tuple[tuple[str, ...], int, str], list[_Request]]:
    out: dict[tuple[tuple[str, ...], int, str], list[_Request]] = {}
    for request in requests:
        out.setdefault(request.key, []).append(request)
    return out
