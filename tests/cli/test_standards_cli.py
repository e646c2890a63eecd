"""The `catalog` command group: list, show, import, accept/reject, export, and its errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from competencymap.catalog import Catalog, read_credentials_file
from competencymap.cli import main
from competencymap.exports.schemas import OPENBADGES_SCHEMA, schema_errors

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "catalog" / "sample_credentials.json"
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
NUMERACY = "https://w3id.org/competencymap/sfs/numeracy"


@pytest.fixture()
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    with Catalog(url) as catalog:
        catalog.import_credentials(read_credentials_file(SAMPLE))
        first = catalog.get_credential(1).learning_outcomes[0]
        catalog.add_suggested_tags(1, first.id, [
            {"competency_iri": PYTHON, "framework": "esco", "label": "Python (computer programming)", "score": 0.95,
             "evidence": {"confident": True}},
            {"competency_iri": NUMERACY, "framework": "sfs", "label": "Numeracy", "score": 0.41,
             "evidence": {"confident": False}},
        ])
    return url


def without_ids(value: object) -> object:
    """The document without the ids and times that name the stored copy (credential ids, uids)."""
    skip = {"id", "@id", "ceterms:ctid", "version", "validFrom"}
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in skip}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def run(db: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["catalog", "--database", db, *args])
    return result.exit_code, result.output


def test_list_and_show(db: str) -> None:
    code, out = run(db, "list")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "TITLE", "ISSUER"]
    assert len(out.strip().splitlines()) == 13
    code, out = run(db, "list", "--format", "jsonl", "--search", "python")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["title"] for r in rows] == ["Data Analytics with Python"] and rows[0]["uid"]
    code, out = run(db, "show", "1")
    assert code == 0 and "Python (computer programming)" in out and "1. Clean and reshape" in out


def test_accept_reject_and_export(db: str, tmp_path: Path) -> None:
    code, out = run(db, "accept", "1", "--all-confident", "--by", "ana")
    assert code == 0 and "accepted" in out and PYTHON in out and NUMERACY not in out
    code, out = run(db, "reject", "1", NUMERACY, "--by", "ana")
    assert code == 0 and "rejected" in out
    code, out = run(db, "export", "1", "--format", "openbadges-credential")
    doc = json.loads(out)
    assert code == 0 and schema_errors(doc, OPENBADGES_SCHEMA) == []
    assert [a["targetUrl"] for a in doc["credentialSubject"]["achievement"]["alignment"]] == [PYTHON]
    code, out = run(db, "export", "1", "--format", "ctdl")
    assert code == 0 and json.loads(out)["@graph"][0]["@type"] == "ceterms:MicroCredential"
    code, out = run(db, "export", "1", "--format", "csv", "--output", str(tmp_path / "tags.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "tags.csv").read_text())))
    assert code == 0 and {r["state"] for r in rows} == {"accepted", "rejected"}


def test_import_openbadges_and_ctdl_round_trip(db: str, tmp_path: Path) -> None:
    run(db, "accept", "1", PYTHON, NUMERACY, "--by", "ana")
    for fmt in ("openbadges", "openbadges-credential", "ctdl"):
        path = tmp_path / f"c.{fmt}.json"
        assert run(db, "export", "1", "--format", fmt, "--output", str(path))[0] == 0
        code, out = run(db, "import", str(path))
        assert code == 0, out
        assert "6 outcomes, 2 accepted tags" in out
        new_id = out.split("imported credential ")[1].split()[0]
        again = tmp_path / f"again.{fmt}.json"
        assert run(db, "export", new_id, "--format", fmt, "--output", str(again))[0] == 0
        first, second = json.loads(path.read_text()), json.loads(again.read_text())
        assert without_ids(first) == without_ids(second)  # the same document but for its ids and times


def test_csv_import_applies_decisions(db: str, tmp_path: Path) -> None:
    path = tmp_path / "tags.csv"
    assert run(db, "export", "1", "--format", "csv", "--output", str(path))[0] == 0
    edited = path.read_text().replace(",suggested,,", ",accepted,Reviewer R,", 1)
    path.write_text(edited, newline="")
    code, out = run(db, "import", str(path))
    assert code == 0 and "applied 2 tag rows to credential 1: 1 accepted, 0 rejected, 1 suggested" in out, out
    code, out = run(db, "show", "1", "--json")
    states = {t["competency_iri"]: (t["state"], t["decided_by"]) for t in json.loads(out)["tags"]}
    assert states[PYTHON] == ("accepted", "Reviewer R") and states[NUMERACY][0] == "suggested"


@pytest.mark.parametrize(("args", "message"), [
    (["export", "1", "--format", "xml"], "error: unknown export format 'xml'; use one of openbadges, openbadges-credential, ctdl, csv"),
    (["export", "99"], "error: credential 99 not found"),
    (["accept", "1"], "error: no tags given"),
    (["accept", "1", "12345"], "error: tag 12345 not found in credential 1"),
    (["list", "--format", "xml"], "error: unknown list format 'xml'"),
])
def test_errors_are_one_line(db: str, args: list[str], message: str) -> None:
    code, out = run(db, *args)
    assert code == 1 and out.strip().splitlines() == [out.strip()] and out.startswith(message), out


def test_import_errors_name_the_file(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": ["Achievement"], "name": "x"}))
    code, out = run(db, "import", str(bad))
    assert code == 1 and out.startswith(f"error: {bad}: not an Open Badges 3.0 Achievement: @context lacks"), out
    code, out = run(db, "import", str(bad), "--format", "ctdl")
    assert code == 1 and out.startswith(f"error: {bad}: not a CTDL credential"), out
    code, out = run(db, "import", str(bad), "--format", "yaml")
    assert code == 1 and out.startswith(f"error: {bad}: unknown import format 'yaml'"), out
    csv_file = tmp_path / "tags.csv"
    csv_file.write_text("a,b\n1,2\n")
    code, out = run(db, "import", str(csv_file))
    assert code == 1 and out.startswith(f"error: {csv_file}:1: not a competencymap tag CSV"), out


def test_import_samples_stores_the_reviewed_tags(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'samples.sqlite'}"
    code, out = run(url, "--data", str(ROOT / "data"), "import-samples")
    assert code == 0, out
    with Catalog(url) as catalog:
        tags = [t for c in catalog.list_credentials() for t in catalog.list_tags(c.id)]
        assert catalog.count_credentials() == 12 and all(t.state == "accepted" for t in tags)
    assert out.strip() == f"imported 12 sample credentials and {len(tags)} accepted tags (decided by sample catalog reviewer)"
