"""The instruction of a learning outcome (or a duty): its lead-in and action verbs.

"Students will be able to identify correct thermometer use and calibration methods" asks for
an action ("identify") after a lead-in with no content ("Students will be able to"). The verbs
say what is being asked: describe / explain / identify ask for knowledge, apply / perform /
operate for a skill. The matcher uses the verbs' class as a signal, never as a filter: it
gives a small signal to concepts of the fitting kind (`verb_fit`).

Parsing is deliberately shallow (word lists and a few patterns, English): it only has to find
the instruction at the start of a statement. A statement with no recognised verb has no parts
beyond itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KNOWLEDGE = "knowledge"
SKILL = "skill"

#: Verbs that ask to know or understand something (Bloom's remember / understand).
KNOWLEDGE_VERBS = frozenset(
    "describe explain identify list define discuss recognise recognize understand outline summarise summarize "
    "compare contrast distinguish differentiate know state name recall classify interpret explore examine "
    "articulate clarify illustrate relate review".split()
)
#: Verbs that ask to do something (Bloom's apply / analyse / evaluate / create).
SKILL_VERBS = frozenset(
    "apply perform operate use utilise utilize implement create design develop build configure install "
    "manage conduct prepare calculate determine construct write produce plan organise organize maintain "
    "monitor administer assess evaluate analyse analyze measure test treat harvest demonstrate practise "
    "practice carry execute facilitate lead supervise communicate present negotiate resolve reduce select "
    "formulate defend inspect troubleshoot repair diagnose program code draft prioritise prioritize handle "
    "deliver provide coordinate establish adapt collect record report compile clean transform query "
    "visualise visualize model estimate solve schedule train teach coach mentor support serve sell drive "
    "load unload operate ship package store label clean cook bake assemble weld cut install".split()
)
VERBS = KNOWLEDGE_VERBS | SKILL_VERBS

#: Phrases before the verb that carry no content ("Students will be able to", "Ability to").
_LEAD_IN = re.compile(
    r"^(?:(?:the\s+)?(?:students?|learners?|participants?|graduates?|earners?|educators?|candidates?|you|"
    r"this\s+badge\s+earner|the\s+(?:rising\s+)?educator)\s+(?:will|must|can|should|shall|is\s+able\s+to|are\s+able\s+to)?\s*"
    r"(?:be\s+able\s+to|need\s+to|have\s+to)?\s*)?"
    r"(?:(?:demonstrate|show)\s+(?:an?\s+|the\s+|their\s+|your\s+)?(?:ability|capacity|understanding|knowledge)\s+(?:to|of|in)\s+)?"
    r"(?:(?:the\s+)?ability\s+to\s+)?",
    re.I,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_JOINER = re.compile(r"\s*(?:,\s*(?:and|or)?|\band\b|\bor\b|&|/)\s*", re.I)


@dataclass(frozen=True)
class OutcomeParts:
    """The instruction of a statement: its verbs and what they ask for."""

    verbs: tuple[str, ...]  # lower case, as written ("identify", "prepare")
    verb_class: str  # KNOWLEDGE, SKILL, or "" when no verb was recognised


def parse(text: str) -> OutcomeParts:
    """The verbs after the lead-in of one statement and their class (none found: no parts)."""
    lead = _LEAD_IN.match(text)
    position = lead.end() if lead else 0
    verbs: list[str] = []
    while True:
        word = _WORD.match(text, position)
        if word is None or _base(word.group()) not in VERBS:
            break
        verbs.append(word.group().lower())
        position = word.end()
        position = _skip_particles(text, position)
        joiner = _JOINER.match(text, position)
        if joiner is None or joiner.end() == position:
            break
        following = _WORD.match(text, joiner.end())
        if following is None or _base(following.group()) not in VERBS:
            break
        position = joiner.end()
    if not verbs:
        return OutcomeParts((), "")
    return OutcomeParts(tuple(verbs), _class_of(verbs))


def _base(word: str) -> str:
    """The verb's base form for the lists: lower case, a final -s or -es dropped ("manages")."""
    word = word.lower()
    if word in VERBS:
        return word
    for suffix in ("es", "s"):
        if word.endswith(suffix) and word[: -len(suffix)] in VERBS:
            return word[: -len(suffix)]
    return word


def _class_of(verbs: list[str]) -> str:
    """Knowledge when every verb asks for knowledge, else skill."""
    return KNOWLEDGE if all(_base(v) in KNOWLEDGE_VERBS for v in verbs) else SKILL


_PARTICLE = re.compile(r"\s+(?:out|up|for|on|how|what|why|which|when|the\s+ways?\s+(?:in\s+which|that))\b", re.I)


def _skip_particles(text: str, position: int) -> int:
    """Past "out" in "carry out", "for" in "prepare for", "how" in "explain how"."""
    while True:
        found = _PARTICLE.match(text, position)
        if found is None:
            return position
        position = found.end()
