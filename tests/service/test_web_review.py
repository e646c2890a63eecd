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
    views = review(_credential(), stored, FRAMEWORKS)[0].groups[0].tags
    assert [v.grouped_with for v in views] == ["", "perform online data analysis", ""]
    row = templates.get_template("parts/tag_row.html").render(view=views[1], t=messages_for("en"), csrf="x",
                                                              csrf_field="token", counts=None)
    assert "≈ grouped with perform online data analysis" in row
