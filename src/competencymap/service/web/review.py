"""What the designer's review shows: a credential's tags per outcome and framework, best first,
with the evidence a person reads before deciding (the framework text that matched and the span
of the outcome it matched, highlighted).

Suggestions below the confidence cut-off that nobody accepted are folded: each outcome keeps them
apart (`OutcomeReview.folded`), and the page shows them in a closed <details>, so a credential
with many outcomes reads as its confident suggestions and its decisions first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from competencymap.catalog import Credential, Tag


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


@dataclass(frozen=True)
class EvidenceItem:
    method: str
    field: str
    text: str  # the framework's text that matched (label, description, occupation...)
    score: float | None
    matched: str  # the part of the outcome it matched ('' when the evidence names no span)


@dataclass(frozen=True)
class TagView:
    tag: Tag
    confident: bool | None  # None: a tag added by hand
    outcome: list[Segment]  # the outcome text with the matching spans marked
    evidence: list[EvidenceItem]
    note: str = ""
    grouped_with: str = ""
    carried_from: str = ""  # a decision kept when the outcome was reworded: the wording it was made under  # a suggested near duplicate: the label of the better suggestion it is grouped under


@dataclass
class FrameworkGroup:
    name: str
    title: str
    tags: list[TagView] = field(default_factory=list)


@dataclass
class OutcomeReview:
    outcome_id: int | None  # None: tags on the credential as a whole
    position: int | None
    text: str
    groups: list[FrameworkGroup] = field(default_factory=list)
    folded: list[FrameworkGroup] = field(default_factory=list)  # below the cut-off, not accepted: shown closed
    quiet: list[str] = field(default_factory=list)  # titles of frameworks where nothing stood out

    @property
    def count(self) -> int:
        return sum(len(g.tags) for g in self.groups)

    @property
    def folded_count(self) -> int:
        return sum(len(g.tags) for g in self.folded)


def folds(view: TagView) -> bool:
    """Whether a tag waits in the outcome's closed list: a suggestion below the confidence
    cut-off that nobody accepted (a tag added by hand, a confident one or an accepted one shows)."""
    return view.confident is False and view.tag.state != "accepted"


def confident_left(rows: Sequence[OutcomeReview]) -> int:
    """How many confident suggestions nobody has decided on yet."""
    return sum(1 for row in rows for group in row.groups for view in group.tags
               if view.confident and view.tag.state == "suggested")


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    """`text` cut into segments, the parts inside any of `spans` marked."""
    marks = [False] * len(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(text), end)):
            marks[i] = True
    out: list[Segment] = []
    for i, ch in enumerate(text):
        if out and out[-1].marked == marks[i]:
            out[-1] = Segment(out[-1].text + ch, marks[i])
        else:
            out.append(Segment(ch, marks[i]))
    return out


def _spans(evidence: list[dict[str, Any]], length: int) -> list[tuple[int, int]]:
    """The spans to mark: the narrow ones (a label found inside the outcome) when there are any,
    else the spans of whole statements."""
    spans = [(int(e["span"][0]), int(e["span"][1])) for e in evidence
             if isinstance(e.get("span"), list) and len(e["span"]) == 2]
    narrow = [s for s in spans if s[1] - s[0] < length]
    return narrow or spans


def tag_view(tag: Tag, outcome_text: str) -> TagView:
    data = tag.evidence or {}
    items = [e for e in data.get("evidence", []) if isinstance(e, dict)]
    text = str(data.get("outcome") or outcome_text)
    evidence = []
    for e in items:
        span = e.get("span")
        matched = text[int(span[0]):int(span[1])] if isinstance(span, list) and len(span) == 2 else ""
        score = e.get("score")
        evidence.append(EvidenceItem(str(e.get("method", "")), str(e.get("field", "")), str(e.get("text", "")),
                                     float(score) if isinstance(score, (int, float)) else None, matched))
    confident = data.get("confident") if tag.source == "suggested" else None
    grouped = data.get("grouped_label") if tag.source == "suggested" else None
    return TagView(tag=tag, confident=bool(confident) if confident is not None else None,
                   outcome=highlight(text, _spans(items, len(text))), evidence=evidence,
                   note=str(data.get("note", "")), grouped_with=grouped if isinstance(grouped, str) else "",
                   carried_from=tag.carried_from or "")


def review(credential: Credential, tags: Sequence[Tag], frameworks: Sequence[tuple[str, str]]) -> list[OutcomeReview]:
    """Each outcome (then the credential as a whole, when it has tags of its own) with its tags
    grouped by framework in `frameworks` order ((name, title) pairs), best score first. An outcome
    with tags names the frameworks where none of its competencies stood out (Skills for Success
    suggests nothing below its cut-off: silence, said out loud)."""
    order = {name: i for i, (name, _) in enumerate(frameworks)}
    titles = dict(frameworks)
    rows = [OutcomeReview(o.id, o.position, o.text) for o in credential.learning_outcomes]
    whole = OutcomeReview(None, None, "")
    by_id = {r.outcome_id: r for r in rows}
    for tag in sorted(tags, key=lambda t: (order.get(t.framework, len(order)), -(t.score or 0.0), t.id)):
        target = by_id.get(tag.outcome_id, whole) if tag.outcome_id is not None else whole
        view = tag_view(tag, target.text)
        shelf = target.folded if folds(view) else target.groups
        group = next((g for g in shelf if g.name == tag.framework), None)
        if group is None:
            group = FrameworkGroup(tag.framework, titles.get(tag.framework, tag.framework))
            shelf.append(group)
        group.tags.append(view)
    for row in [*rows, whole]:
        row.groups.sort(key=lambda g: order.get(g.name, len(order)))
        row.folded.sort(key=lambda g: order.get(g.name, len(order)))
        tagged = {g.name for g in [*row.groups, *row.folded]}
        if tagged and row.outcome_id is not None:  # suggested already: say which framework stayed silent
            row.quiet = [title for name, title in frameworks if name not in tagged]
    return rows + ([whole] if whole.groups or whole.folded else [])


def find_tag(rows: Sequence[OutcomeReview], tag_id: int) -> TagView | None:
    for row in rows:
        for group in [*row.groups, *row.folded]:
            for view in group.tags:
                if view.tag.id == tag_id:
                    return view
    return None
