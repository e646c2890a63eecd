"""Outcome parts: lead-in, verbs and their class, object; the signals they feed."""

from __future__ import annotations

import pytest

from competencymap.statements.outcome import KNOWLEDGE, SKILL, parse


def _object(text: str) -> str | None:
    parts = parse(text)
    return text[parts.object[0] : parts.object[1]] if parts.object else None


@pytest.mark.parametrize(
    ("text", "verbs", "kind", "obj"),
    [
        ("Identify correct thermometer use and calibration methods", ("identify",), KNOWLEDGE,
         "correct thermometer use and calibration methods"),
        ("Interpret welding prints and drawings", ("interpret",), KNOWLEDGE, "welding prints and drawings"),
        ("Manage tool and equipment use in a construction environment", ("manage",), SKILL, "tool and equipment use"),
        ("Ability to install, configure and provide instruction on basics of using common office software",
         ("install", "configure", "provide"), SKILL, "instruction on basics of"),
        ("Identify, prepare for, and treat honeybee pests and diseases as they arise.", ("identify", "prepare", "treat"),
         SKILL, "honeybee pests and diseases as they arise"),
        ("Students will be able to describe the water cycle", ("describe",), KNOWLEDGE, "the water cycle"),
        ("Carry out carpentry demolition tasks", ("carry",), SKILL, "carpentry demolition tasks"),
    ],
)
def test_parts_of_outcomes(text: str, verbs: tuple[str, ...], kind: str, obj: str) -> None:
    parts = parse(text)
    assert parts.verbs == verbs and parts.verb_class == kind
    assert _object(text) == obj


@pytest.mark.parametrize("text", ["5+ years of experience with Java", "Strong communication skills", "SQL"])
def test_statements_without_an_instruction_have_no_parts(text: str) -> None:
    parts = parse(text)
    assert parts.verbs == () and parts.verb_class == "" and parts.object is None
    assert parts.content == (0, len(text))


def test_knowledge_only_when_every_verb_asks_for_knowledge() -> None:
    assert parse("Describe and explain the nitrogen cycle").verb_class == KNOWLEDGE
    assert parse("Describe and apply the nitrogen cycle").verb_class == SKILL
