"""Wrong senses of a shared word, from postings and outcomes written to probe the ranking (issue 16):
each case asserts that the wrong competency is not marked confident, and where the right one is
plain, that it ranks in the top few. Full ESCO with the shipped model and fusion (marked full)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.full, pytest.mark.model]

# (text, wrong senses that must not be confident)
WRONG = [
    ("Transfer and reposition residents safely using mechanical lifts", ["types of lifts"]),
    ("Write SQL queries to extract and clean data from our warehouse", ["clean warehouse", "perform warehousing operations"]),
    ("Keep hours-of-service records on the electronic logging device", ["maintain ship logs"]),
    ("Operate a tractor-trailer", ["operate tractor"]),
    ("Manoeuvre and back the trailer into tight docks", ["guide ships into docks"]),
    ("Complete pre-trip inspections", ["inspect aircraft"]),
    ("Assist residents with activities of daily living, including bathing, dressing",
     ["supervise medical residents", "groom animals"]),
    ("Build dashboards in Power BI for the sales and operations teams", ["manage sales teams"]),
]


@pytest.mark.parametrize("text, wrong", WRONG, ids=[w[1][0] for w in WRONG])
def test_a_wrong_sense_is_never_confident(full_app, text: str, wrong: list[str]) -> None:
    result = full_app.map(text, ["esco"], top_k=10, kind="posting")
    confident = {m.label for m in result.profiles["esco"] if m.confident}
    confident |= {m.label for item in result.results for m in item.matches if m.confident}
    assert not confident & set(wrong), f"{text!r}: confident wrong sense {sorted(confident & set(wrong))}"
