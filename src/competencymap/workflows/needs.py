"""What a job posting needs: the one rule employer matching and demand counting share.

A posting is mapped (``kind="posting"``) onto each requested framework, keeping at most
:data:`NEED_TOP_K` profile entries per framework and :data:`STATEMENT_TOP_K` matches per
statement. Its needs are, framework by framework, the entries the mapper marks ``confident``,
best first; when the *first* framework has none, its best :data:`FALLBACK_NEEDS` entries are
taken instead (other frameworks get no fallback). Each IRI is needed once, from the first
framework that gives it. A near duplicate grouped under another entry of its framework's profile
(``grouped_under``, see :mod:`competencymap.mapping.profile`) is never a need of its own: its group
makes one need, the better entry (which lists it in ``related``), and a group whose better entry is
not chosen makes none.

Entries that only asset lines name ("French is an asset") are ``optional``. Employer matching
keeps them (shown, never counted in a coverage share); demand counting leaves them out
(``optional=False``): they are dropped *before* the once-per-IRI step, so an optional entry of
one framework never hides the same IRI needed by a later framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

NEED_TOP_K = 30  # profile entries considered per framework
STATEMENT_TOP_K = 10  # matches kept per statement of a posting (a line names a handful at most)
FALLBACK_NEEDS = 3  # needs taken when the first framework has no confident match


class ProfileItem(Protocol):
    """What the rule reads of a profile entry (a mapping `Match`, a demand `ProfileEntry`)."""

    @property
    def iri(self) -> str: ...

    @property
    def framework(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def confident(self) -> bool: ...

    @property
    def optional(self) -> bool: ...

    @property
    def grouped_under(self) -> str: ...


Item = TypeVar("Item", bound=ProfileItem)


def pick_needs(
    profile: Sequence[Item], frameworks: Sequence[str], *, fallback: int = FALLBACK_NEEDS, optional: bool = True
) -> list[Item]:
    """The needs among `profile` entries (best first within their framework's profile order),
    framework by framework, each IRI once and each near-duplicate group once; `optional=False`
    leaves asset-only entries out."""
    needs: list[Item] = []
    seen: set[str] = set()
    for number, name in enumerate(frameworks):
        for entry in _chosen(_heads([m for m in profile if m.framework == name]), fallback if number == 0 else 0):
            if (optional or not entry.optional) and entry.iri not in seen:
                seen.add(entry.iri)
                needs.append(entry)
    return needs


def _heads(entries: Sequence[Item]) -> list[Item]:
    """One framework's entries less the near duplicates grouped under another of them."""
    present = {m.iri for m in entries}
    return [m for m in entries if not m.grouped_under or m.grouped_under not in present]


def _chosen(entries: Sequence[Item], fallback: int) -> list[Item]:
    """One framework's confident entries best first, or its best `fallback` when none is confident."""
    chosen = [m for m in entries if m.confident] or list(entries[:fallback])
    chosen.sort(key=lambda m: -m.score)
    return chosen
