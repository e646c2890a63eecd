"""The ranking cache: context keys, span shifting, and rankings kept relative to their statement."""

from __future__ import annotations

import numpy as np

from competencymap.mapping.ranking_cache import RankingCache, context_key, shifted
from competencymap.mapping.results import Evidence, Match


def _match(iri: str, *spans: tuple[int, int] | None) -> Match:
    """A match with one label evidence per span (None: an evidence without a span)."""
    evidence = tuple(Evidence("label", "pref_label", f"{iri} text", 0.5, span, "query") for span in spans)
    return Match(iri, f"{iri} label", "fw", 0.5, evidence=evidence)


def _spans(matches: list[Match]) -> list[list[tuple[int, int] | None]]:
    return [[e.span for e in m.evidence] for m in matches]


# -- context_key --------------------------------------------------------------------------------


def test_context_key_of_no_context_is_none() -> None:
    assert context_key(None) is None


def test_equal_contexts_have_equal_keys() -> None:
    a = np.array([0.1, 0.2, 0.3], np.float32)
    b = np.array([0.1, 0.2, 0.3], np.float32)
    assert a is not b
    assert context_key(a) == context_key(b)
    assert hash(context_key(a)) == hash(context_key(b))


def test_a_non_contiguous_view_keys_like_its_contiguous_copy() -> None:
    matrix = np.arange(12, dtype=np.float32).reshape(3, 4)
    column = matrix[:, 1]  # strided: 1, 5, 9
    assert not column.flags.c_contiguous
    assert context_key(column) == context_key(np.array([1, 5, 9], np.float32))


def test_different_contexts_have_different_keys() -> None:
    a = np.array([0.1, 0.2, 0.3], np.float32)
    b = np.array([0.1, 0.2, 0.30001], np.float32)
    assert context_key(a) != context_key(b)
    assert context_key(a) is not None and context_key(a) != context_key(None)


# -- shifted ------------------------------------------------------------------------------------


def test_shifted_moves_every_span_and_keeps_missing_spans() -> None:
    matches = [_match("a", (0, 4), None, (10, 15)), _match("b", (2, 3))]
    moved = shifted(matches, 7)
    assert _spans(moved) == [[(7, 11), None, (17, 22)], [(9, 10)]]
    assert [m.iri for m in moved] == ["a", "b"]
    assert [e.text for e in moved[0].evidence] == ["a text"] * 3  # only the spans change
    assert _spans(matches) == [[(0, 4), None, (10, 15)], [(2, 3)]]  # the input is left as it was


def test_shifted_backwards_undoes_shifted_forwards() -> None:
    matches = [_match("a", (5, 9)), _match("b")]
    assert shifted(shifted(matches, 12), -12) == matches
    assert _spans(shifted(matches, -5)) == [[(0, 4)], []]


def test_shifted_by_zero_returns_the_same_list() -> None:
    matches = [_match("a", (1, 2))]
    assert shifted(matches, 0) is matches


def test_shifted_keeps_a_match_without_evidence_as_is() -> None:
    bare = _match("a")
    assert shifted([bare], 3)[0] is bare


# -- RankingCache -------------------------------------------------------------------------------


def test_a_ranking_put_at_one_offset_reads_back_at_another() -> None:
    cache = RankingCache(capacity=10)
    key = ("java programming", 5, None)
    cache.put_at(key, [_match("a", (20, 24), None), _match("b", (25, 36))], start=20)
    # the same statement text, now starting at character 3 of another posting
    assert _spans(cache.get_at(key, 3) or []) == [[(3, 7), None], [(8, 19)]]
    # and where it was first seen
    assert _spans(cache.get_at(key, 20) or []) == [[(20, 24), None], [(25, 36)]]
    assert _spans(cache.get_at(key, 0) or []) == [[(0, 4), None], [(5, 16)]]


def test_get_at_gives_a_fresh_list_each_time() -> None:
    cache = RankingCache(capacity=10)
    cache.put_at("k", [_match("a", (0, 1))], start=0)
    first = cache.get_at("k", 0)
    assert first is not None
    first.clear()
    assert _spans(cache.get_at("k", 0) or []) == [[(0, 1)]]


def test_an_empty_ranking_is_a_hit() -> None:
    cache = RankingCache(capacity=10)
    cache.put_at("nothing matched", [], start=4)
    assert cache.get_at("nothing matched", 9) == []
    assert cache.get_at("never seen", 9) is None
    assert (cache.hits, cache.misses) == (1, 1)


def test_keys_with_different_contexts_are_different_entries() -> None:
    cache = RankingCache(capacity=10)
    one, two = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    cache.put_at(("text", 5, context_key(one)), [_match("a")], start=0)
    cache.put_at(("text", 5, context_key(two)), [_match("b")], start=0)
    assert [m.iri for m in cache.get_at(("text", 5, context_key(one.copy())), 0) or []] == ["a"]
    assert [m.iri for m in cache.get_at(("text", 5, context_key(two)), 0) or []] == ["b"]
    assert cache.get_at(("text", 5, None), 0) is None


def test_capacity_zero_keeps_nothing() -> None:
    cache = RankingCache(capacity=0)
    cache.put_at("k", [_match("a", (0, 1))], start=0)
    assert len(cache) == 0
    assert cache.get_at("k", 0) is None


def test_the_least_recently_used_ranking_goes_first_at_capacity() -> None:
    cache = RankingCache(capacity=2)
    cache.put_at("a", [_match("a")], start=0)
    cache.put_at("b", [_match("b")], start=0)
    assert cache.get_at("a", 0) is not None  # "b" is now the least recently used
    cache.put_at("c", [_match("c")], start=0)
    assert len(cache) == 2
    assert cache.get_at("b", 0) is None
    assert [m.iri for m in cache.get_at("a", 0) or []] == ["a"]
    assert [m.iri for m in cache.get_at("c", 0) or []] == ["c"]


def test_changing_the_list_after_put_at_leaves_the_cache_alone() -> None:
    cache = RankingCache(capacity=10)
    matches = [_match("a", (0, 1))]
    cache.put_at("k", matches, start=0)
    matches.append(_match("b", (2, 3)))
    assert [m.iri for m in cache.get_at("k", 0) or []] == ["a"]


def test_changing_the_list_after_put_at_a_nonzero_offset_leaves_the_cache_alone() -> None:
    cache = RankingCache(capacity=10)
    matches = [_match("a", (5, 6))]
    cache.put_at("k", matches, start=5)
    matches.append(_match("b", (7, 8)))
    assert [m.iri for m in cache.get_at("k", 5) or []] == ["a"]
