"""Run a batch; when it fails, run its halves, until each failing item stands alone.

The CLI's `map`, the service's micro-batcher and demand counting all map many texts in one call
for speed; one bad text must fail only itself. Splitting in halves finds the bad items in
O(bad x log n) calls and gives every good item the result it would have had in the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_in_halves(
    items: Sequence[T],
    run: Callable[[Sequence[T]], Sequence[R]],
    *,
    catch: tuple[type[Exception], ...] = (Exception,),
) -> list[R | Exception]:
    """`run(items)`, one result per item in order; an item that fails even alone gets the
    exception it raised in its place. Exceptions outside `catch` propagate at once."""
    if not items:
        return []
    try:
        results = list(run(items))
    except catch as exc:
        if len(items) == 1:
            return [exc]
    else:
        if len(results) != len(items):
            raise ValueError(f"{len(results)} results for {len(items)} items")
        return list(results)
    half = len(items) // 2
    return run_in_halves(items[:half], run, catch=catch) + run_in_halves(items[half:], run, catch=catch)
