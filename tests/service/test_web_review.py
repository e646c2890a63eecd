"""The designer's review rows: an outcome that has suggestions says which frameworks stayed
silent (Skills for Success suggests nothing below its cut-off), instead of leaving it unsaid, and a
suggested near duplicate is shown, marked as grouped with the suggestion it resembles."""

from __future__ import annotations

from competencymap.catalog.schemas import Credential, Outcome, Tag
from competencymap.service.web.review import review

FRAMEWORKS = [("esco", "ESCO"), ("sfs", "Skills for Success")]


def _credential() -> Credential:
    outcomes = [Outcome.model_construct(id=1, position=1, text="Write SQL queries"),
                Outcome.model_construct(id=2, position=2, text="Keep food at safe temperatures")]
    return Credential.model_construct(id=7, learning_outcomes=outcomes)


def _tag(tag_id: int, outcome_id: int | None, framework: str) -> Tag:
    return Tag.model_construct(id=tag_id, credential_id=7, outcome_id=outcome_id, competency_iri=f"urn:x:{tag_id}",
                               framework=framework, label=f"tag {tag_id}", score=0.9, evidence={},
                               state="suggested", source="suggested")


def test_an_outcome_with_tags_names_the_silent_frameworks() -> None:
    rows = review(_credential(), [_tag(1, 1, "esco")], FRAMEWORKS)
    assert [r.outcome_id for r in rows] == [1, 2]
    assert rows[0].quiet == ["Skills for Success"]
    assert rows[1].quiet == []  # no suggestion at all yet: the page says "No tags yet" instead


def test_an_outcome_tagged_in_every_framework_is_not_quiet() -> None:
    rows = review(_credential(), [_tag(1, 1, "esco"), _tag(2, 1, "sfs")], FRAMEWORKS)
    assert rows[0].quiet == []


def test_the_message_reads_well() -> None:
    from competencymap.service.web.messages import messages_for

    text = messages_for("en")("designer.none_stands_out", framework="Skills for Success")
    assert text == "No Skills for Success competency stands out for this outcome."


def test_a_suggested_near_duplicate_is_kept_and_marked_as_grouped() -> None:
    from competencymap.mapping.results import MappingResult, Match
    from competencymap.service.web.messages import messages_for
    from competencymap.service.web.pages import templates
    from competencymap.workflows.tagging import suggestions

    best = Match("urn:x:online", "perform online data analysis", "esco", 1.25, confident=True, related=("urn:x:data",))
    close = Match("urn:x:data", "perform data analysis", "esco", 1.23, confident=True, grouped_under="urn:x:online")
    orphan = Match("urn:x:gather", "gather data", "esco", 0.6, grouped_under="urn:x:not-suggested")
    tags = suggestions("Perform data analysis", MappingResult([], [], {"esco": [best, close, orphan]}))
    assert [t.competency_iri for t in tags] == ["urn:x:online", "urn:x:data", "urn:x:gather"]  # none hidden
    assert "grouped_under" not in tags[0].evidence and "grouped_under" not in tags[2].evidence
    assert (tags[1].evidence["grouped_under"], tags[1].evidence["grouped_label"]) == ("urn:x:online", best.label)
    stored = [_tag(n, 1, "esco").model_copy(update={"competency_iri": t.competency_iri, "label": t.label,
                                                    "evidence": t.evidence}) for n, t in enumerate(tags, start=1)]
    row = review(_credential(), stored, FRAMEWORKS)[0]
    views = row.groups[0].tags
    assert [v.grouped_with for v in views] == ["", "perform online data analysis"]
    assert [v.tag.competency_iri for v in row.folded[0].tags] == ["urn:x:gather"]  # below the cut-off: folded
    row = templates.get_template("parts/tag_row.html").render(name=lambda _iri, label: label, view=views[1], t=messages_for("en"), csrf="x",
                                                              csrf_field="token", counts=None)
    assert "≈ grouped with perform online data analysis" in row


def _judged(tag_id: int, confident: bool, state: str = "suggested", **changes: object) -> Tag:
    return _tag(tag_id, 1, "esco").model_copy(update={"evidence": {"confident": confident}, "state": state, **changes})


def test_suggestions_below_the_cut_off_are_folded_unless_accepted() -> None:
    from competencymap.service.web.review import confident_left

    tags = [_judged(1, True), _judged(2, False), _judged(3, False, "accepted"), _judged(4, False, "rejected"),
            _judged(5, True, "accepted"), _tag(6, 1, "sfs").model_copy(update={"source": "manual", "state": "accepted"}),
            _judged(7, False).model_copy(update={"framework": "sfs"})]
    row = review(_credential(), tags, FRAMEWORKS)[0]
    shown = [v.tag.id for g in row.groups for v in g.tags]
    folded = [v.tag.id for g in row.folded for v in g.tags]
    assert sorted(shown) == [1, 3, 5, 6] and sorted(folded) == [2, 4, 7]
    assert [g.name for g in row.folded] == ["esco", "sfs"] and row.folded_count == 3
    assert row.quiet == []
    assert confident_left([row]) == 1  # only tag 1: confident and not decided


def test_the_folded_list_is_closed_and_says_how_many() -> None:
    from competencymap.service.web.messages import messages_for
    from competencymap.service.web.pages import templates

    rows = review(_credential(), [_judged(1, True), _judged(2, False), _judged(3, False)], FRAMEWORKS)
    page = templates.get_template("parts/review.html").render(
        rows=rows, credential=_credential(), counts={"suggested": 3, "accepted": 0, "rejected": 0}, name=lambda _i, label: label,
        t=messages_for("en"), csrf="x", csrf_field="token", confident_left=1)
    folded = page[page.index("<details class=\"below-cutoff\""):]
    assert "<details class=\"below-cutoff\" data-testid=\"below-cutoff\">" in page  # no `open`: closed
    assert "2 more suggestions below the confidence cut-off" in folded
    assert folded.count('data-testid="tag-row"') == 2 and page.count('data-testid="tag-row"') == 3
    assert 'data-testid="accept-confident-button"' in page


def test_a_decision_kept_from_the_previous_wording_says_so() -> None:
    from competencymap.service.web.messages import messages_for
    from competencymap.service.web.pages import templates

    carried = _judged(1, True, "accepted", carried_from="Write queries", decided_by="Dana")
    view = review(_credential(), [carried, _judged(2, True, "accepted")], FRAMEWORKS)[0].groups[0].tags
    assert [v.carried_from for v in view] == ["Write queries", ""]
    html = templates.get_template("parts/tag_row.html").render(name=lambda _iri, label: label, view=view[0], t=messages_for("en"), csrf="x",
                                                               csrf_field="token", counts=None)
    assert "kept from the previous wording" in html and "<q>Write queries</q>" in html
    plain = templates.get_template("parts/tag_row.html").render(name=lambda _iri, label: label, view=view[1], t=messages_for("en"), csrf="x",
                                                                csrf_field="token", counts=None)
    assert "previous wording" not in plain
