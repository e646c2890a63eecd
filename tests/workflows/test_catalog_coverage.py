"""The catalog coverage index (`employer_match.catalog_coverage`): reads that never fail while
other threads create and delete."""

from __future__ import annotations

import itertools
import random
import threading
from pathlib import Path

from test_matching import E, FakeApp, S

from competencymap.catalog import Catalog
from competencymap.workflows.employer_match import Need, catalog_coverage

IRIS = [E + n for n in ("K", "ICT", "DEV", "ql", "sql", "sparql", "java", "python", "dbms", "postgres", "S", "FOOD",
                        "prepare", "cook", "count")] + [S + "numeracy", S + "numeracy-measure", S + "digital",
                                                         "http://elsewhere.example/x"]
CREDENTIAL = {"title": "c", "issuer": "i", "description": "d", "learning_outcomes": ["one", "two"],
              "duration_hours": 1, "delivery_mode": "online", "credit": "credit", "assessment_type": "quiz"}


def _catalog(path: Path, rng: random.Random, count: int = 25) -> Catalog:
    catalog = Catalog(f"sqlite:///{path}")
    for n in range(count):
        credential = catalog.create_credential({**CREDENTIAL, "title": f"credential {n}"})
        for iri in rng.sample(IRIS, rng.randint(0, 5)):
            framework = "sfs" if iri.startswith(S) else "tiny"
            outcome = rng.choice([None, credential.learning_outcomes[0].id])
            catalog.add_manual_tag(credential.id, outcome, {"competency_iri": iri, "framework": framework,
                                                            "label": iri.rsplit("/", 1)[1]}, decided_by="me")
    return catalog


def test_reads_never_fail_while_others_create_and_delete(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "c.sqlite", random.Random(3), count=10)
    app = FakeApp({})
    errors: list[BaseException] = []
    stop = threading.Event()

    def churn() -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            created = catalog.create_credential({**CREDENTIAL, "title": f"churn {n}"})
            catalog.add_manual_tag(created.id, None, {"competency_iri": E + "sql", "framework": "tiny", "label": "SQL"},
                                   decided_by="me")
            catalog.delete_credential(created.id)

    def read() -> None:
        try:
            for _ in range(40):
                coverage = catalog_coverage(app, catalog, ["tiny"])  # type: ignore[arg-type]
                coverage.match([Need(E + "sql", "SQL", "tiny", 1.0)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    writers = [threading.Thread(target=churn) for _ in range(2)]
    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in writers + readers:
        thread.start()
    for thread in readers:
        thread.join()
    stop.set()
    for thread in writers:
        thread.join()
    assert errors == []
    assert catalog.catalog_version() > 10
