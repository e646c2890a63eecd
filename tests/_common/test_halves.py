"""run_in_halves: good items get their results, bad ones their own exception, in order."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from competencymap._common.errors import CompetencyMapError
from competencymap._common.halves import run_in_halves


class Doubler:
    """Doubles numbers; a negative number fails any batch it is in. Counts the calls."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.calls.append(list(items))
        bad = [i for i in items if i < 0]
        if bad:
            raise CompetencyMapError(f"negative: {bad[0]}")
        return [2 * i for i in items]


def test_a_clean_batch_is_one_call() -> None:
    run = Doubler()
    assert run_in_halves([1, 2, 3], run) == [2, 4, 6]
    assert run.calls == [[1, 2, 3]]


def test_bad_items_fail_alone_and_the_rest_go_through() -> None:
    run = Doubler()
    out = run_in_halves([1, -2, 3, 4, 5, 6, 7, -8], run, catch=(CompetencyMapError,))
    assert [o if isinstance(o, int) else str(o) for o in out] == [2, "negative: -2", 6, 8, 10, 12, 14, "negative: -8"]
    assert len(run.calls) < 8 + 1 + 8  # fewer calls than the whole batch, then every item alone


def test_an_empty_batch_is_no_call() -> None:
    run = Doubler()
    assert run_in_halves([], run) == []
    assert run.calls == []


def test_an_error_outside_catch_propagates() -> None:
    def broken(items: Sequence[int]) -> list[int]:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_in_halves([1, 2], broken, catch=(CompetencyMapError,))


def test_a_run_that_loses_results_is_refused() -> None:
    with pytest.raises(ValueError, match="1 results for 2 items"):
        run_in_halves([1, 2], lambda items: [0])
