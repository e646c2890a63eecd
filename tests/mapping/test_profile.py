"""Profile rules: near duplicates of one statement are grouped (never removed), support and
confidence weigh, asset lines make optional entries, entries sort by score."""

from __future__ import annotations

import pytest

from competencymap.mapping.profile import aggregate, group, is_optional
from competencymap.mapping.results import Match, StatementResult
from competencymap.statements.segment import Statement

E = "http://example.org/esco/"
SIMILAR = {frozenset((E + "load", E + "unload")): 0.72, frozenset((E + "load", E + "cargo")): 0.76}


def pairwise(table: dict[frozenset[str], float], default: float = 0.1):
    def similarity(iris):
        import numpy as np

        return np.array([[1.0 if a == b else table.get(frozenset((a, b)), default) for b in iris] for a in iris])

    return similarity


similarity = pairwise(SIMILAR)


def m(name: str, score: float, confident: bool = True) -> Match:
    return Match(E + name, name, "esco", score, confident=confident)


def result(text: str, *matches: Match) -> StatementResult:
    return StatementResult(Statement(text, 0, len(text)), "esco", list(matches))


def test_near_duplicates_of_one_statement_are_grouped_under_the_best() -> None:
    ranked = group([m("unload", 0.9), m("load", 0.99), m("cargo", 0.91), m("dock", 0.9)], similarity)
    assert [k.label for k in ranked] == ["load", "cargo", "unload", "dock"]  # every match, best first
    assert [k.grouped_under for k in ranked] == ["", E + "load", E + "load", ""]
    assert set(ranked[0].related) == {E + "unload", E + "cargo"} and ranked[3].related == ()
    assert ranked[1].related == ranked[2].related == ()


def test_without_a_similarity_nothing_is_grouped() -> None:
    ranked = group([m("load", 0.9), m("unload", 0.8)], None)
    assert [k.label for k in ranked] == ["load", "unload"] and not any(k.grouped_under for k in ranked)


def test_a_profile_keeps_every_competency_and_groups_near_duplicates() -> None:
    one = result("Load and unload cargo at the dock", m("unload", 0.9), m("load", 0.99), m("cargo", 0.91),
                 m("dock", 0.9))
    profile = aggregate([one], similarity=similarity)
    assert [p.label for p in profile] == ["load", "cargo", "unload", "dock"]  # the statement's ranking
    assert [p.grouped_under for p in profile] == ["", E + "load", E + "load", ""]
    assert set(profile[0].related) == {E + "unload", E + "cargo"}
    assert [p.label for p in aggregate([one], similarity=similarity, top_k=2)] == ["load", "cargo"]


def test_an_entry_standing_on_its_own_in_any_statement_is_not_grouped() -> None:
    profile = aggregate([
        result("Load cargo", m("load", 0.99), m("unload", 0.9)),
        result("Unload trucks", m("unload", 0.95, confident=False)),
    ], similarity=similarity)
    assert [(p.label, p.grouped_under, p.support) for p in profile] == [("load", "", 1), ("unload", "", 2)]
    assert profile[0].related == ()  # listed only while grouped


def test_an_entry_grouped_under_one_outside_the_top_k_stands_on_its_own() -> None:
    close = pairwise({**SIMILAR, frozenset((E + "unload", E + "crate")): 0.8})
    statements = [result("Load trucks", m("load", 0.95), m("unload", 0.94)),
                  result("Unload crates", m("crate", 0.96), m("unload", 0.93)),
                  result("Unload more crates", m("crate", 0.965), m("unload", 0.92))]
    everything = aggregate(statements, similarity=close)
    assert [(p.label, p.grouped_under) for p in everything] == [("unload", E + "load"), ("crate", ""), ("load", "")]
    top = aggregate(statements, similarity=close, top_k=2)  # 0.94 + 2 x 0.03 ranks it above the entry it is grouped under
    assert [(p.label, p.grouped_under) for p in top] == [("unload", ""), ("crate", "")]


def test_support_and_confidence_weigh_and_entries_sort_by_score() -> None:
    profile = aggregate([
        result("Use SQL daily", m("sql", 0.95), m("excel", 0.97)),
        result("Write SQL reports", m("sql", 0.94)),
        result("SQL again", m("sql", 0.93, confident=False)),
    ], similarity=similarity)
    assert [p.label for p in profile] == ["sql", "excel"]  # 0.95 + 0.03 + 0.015 beats 0.97
    assert profile[0].support == 3 and profile[1].support == 1


def test_asset_lines_make_optional_entries_unless_a_required_line_names_them() -> None:
    profile = aggregate([
        result("French is an asset", m("french", 1.1)),
        result("Excel skills are a plus", m("excel", 0.9)),
        result("Build reports in Excel", m("excel", 0.92)),
    ], similarity=similarity)
    by_label = {p.label: p for p in profile}
    assert by_label["french"].optional and not by_label["excel"].optional


@pytest.mark.parametrize("text", ["French is an asset", "Bilingualism would be an asset", "Power BI is a plus",
                                  "Nice to have: Docker", "Bilingual in English and French is preferred",
                                  "Knowledge of cross-border regulations is a plus", "A forklift licence is a bonus"])
def test_optional_lines(text: str) -> None:
    assert is_optional(text)


@pytest.mark.parametrize("text", ["Manage the company's assets", "Administer prescribed medication",
                                  "Preferences of customers must be respected", "Drive tractor-trailers"])
def test_required_lines(text: str) -> None:
    assert not is_optional(text)


def test_same_words_group_at_a_lower_similarity_than_different_words() -> None:
    from competencymap.mapping.results import Evidence

    def found_by(name: str, score: float, span: tuple[int, int]) -> Match:
        return Match(E + name, name, "esco", score, confident=True, evidence=(Evidence("label", "pref_label", name, score, span),))

    sim = pairwise({frozenset((E + "a", E + "b")): 0.65}, 0.0)
    same = group([found_by("a", 0.9, (0, 10)), found_by("b", 0.8, (0, 10))], sim)
    assert [(k.label, k.grouped_under) for k in same] == [("a", ""), ("b", E + "a")]
    apart = group([found_by("a", 0.9, (0, 4)), found_by("b", 0.8, (6, 10))], sim)
    assert [(k.label, k.grouped_under) for k in apart] == [("a", ""), ("b", "")]


def test_a_distant_second_reading_of_the_same_words_is_not_confident() -> None:
    from competencymap.mapping.results import Evidence
    from competencymap.mapping.scoring import runner_ups_not_confident

    def found_by(name: str, score: float, span: tuple[int, int]) -> Match:
        return Match(E + name, name, "esco", score, confident=True, evidence=(Evidence("label", "pref_label", name, score, span),))

    ranked = runner_ups_not_confident([found_by("vital signs", 1.22, (0, 30)), found_by("medical residents", 1.05, (0, 30)),
                                       found_by("MySQL", 0.97, (31, 36))])
    assert [m.confident for m in ranked] == [True, False, True]


def line_result(text: str, line: int, *matches: Match, role: str = "") -> StatementResult:
    return StatementResult(Statement(text, line, line + len(text), role=role, line=line), "esco", list(matches))


def test_required_entries_rank_above_every_optional_one() -> None:
    profile = aggregate([
        line_result("French is an asset", 0, m("french", 1.1), m("english", 1.0)),
        line_result("Working knowledge of SQL", 30, m("sql", 0.7), m("python", 0.6)),
        line_result("Kubernetes", 60, m("kubernetes", 0.99), role="asset"),  # under a "Nice to have" heading
    ], similarity=similarity)
    assert [p.label for p in profile] == ["sql", "python", "french", "english", "kubernetes"]
    assert [p.optional for p in profile] == [False, False, True, True, True]
    best_two = aggregate([line_result("French is an asset", 0, m("french", 1.1)),  # chosen by score, ordered required first
                          line_result("Use SQL", 30, m("sql", 0.5), m("excel", 0.4))], top_k=2)
    assert [p.label for p in best_two] == ["sql", "french"]


def test_a_line_counts_once_however_many_of_its_statements_found_a_competency() -> None:
    one_line = aggregate([line_result("Use SQL daily.", 0, m("sql", 0.9)), line_result("SQL reports.", 15, m("sql", 0.8))])
    two_statements_one_line = aggregate([
        StatementResult(Statement("Use SQL daily.", 0, 14, line=0), "esco", [m("sql", 0.9)]),
        StatementResult(Statement("SQL reports.", 15, 27, line=0), "esco", [m("sql", 0.8)]),
    ])
    assert one_line[0].support == 2
    assert two_statements_one_line[0].support == 1 and two_statements_one_line[0].score == 0.9


def test_near_duplicates_lend_no_support_to_the_entry_they_are_grouped_under() -> None:
    profile = aggregate([line_result("Load and unload cargo", 0, m("load", 0.99), m("unload", 0.9), m("cargo", 0.91))],
                        similarity=similarity)
    assert [(p.label, p.support) for p in profile] == [("load", 1), ("cargo", 1), ("unload", 1)]
