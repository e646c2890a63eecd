"""Outcome parts: the verbs after a lead-in and their class (the verb signal reads the class)."""

from __future__ import annotations

import pytest

from competencymap.statements.outcome import KNOWLEDGE, SKILL, parse


@pytest.mark.parametrize(
    ("text", "verbs", "kind"),
    [
        ("Identify correct thermometer use and calibration methods", ("identify",), KNOWLEDGE),
        ("Interpret welding prints and drawings", ("interpret",), KNOWLEDGE),
        ("Manage tool and equipment use in a construction environment", ("manage",), SKILL),
        ("Ability to install, configure and provide instruction on basics of using common office software",
         ("install", "configure", "provide"), SKILL),
        ("Identify, prepare for, and treat honeybee pests and diseases as they arise.", ("identify", "prepare", "treat"),
         SKILL),
        ("Students will be able to describe the water cycle", ("describe",), KNOWLEDGE),
        ("Carry out carpentry demolition tasks", ("carry",), SKILL),
    ],
)
def test_parts_of_outcomes(text: str, verbs: tuple[str, ...], kind: str) -> None:
    parts = parse(text)
    assert parts.verbs == verbs and parts.verb_class == kind


@pytest.mark.parametrize("text", ["5+ years of experience with Java", "Strong communication skills", "SQL"])
def test_statements_without_an_instruction_have_no_parts(text: str) -> None:
    parts = parse(text)
    assert parts.verbs == () and parts.verb_class == ""


def test_knowledge_only_when_every_verb_asks_for_knowledge() -> None:
    assert parse("Describe and explain the nitrogen cycle").verb_class == KNOWLEDGE
    assert parse("Describe and apply the nitrogen cycle").verb_class == SKILL
