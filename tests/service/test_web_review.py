"""The designer's review rows: an outcome that has suggestions says which frameworks stayed
silent (Skills for Success suggests nothing below its cut-off), instead of leaving it unsaid."""

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
