"""One JSON shape per result: the command line and the API give the same dict for one mapping
result (`competencymap map` and `POST /map`) and for one concept (`competencymap frameworks show
--json` and `GET /competencies/{iri}`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.cli import main
from competencymap.service.app import ServiceOptions, create_app

pytestmark = pytest.mark.model
SFS_READING = "https://w3id.org/competencymap/sfs/reading"
TEXT = "Read safety instructions and write short reports for the supervisor."


@pytest.fixture(scope="module")
def home(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shapes") / "home"
    shutil.copytree(built_home, folder)
    return folder


@pytest.fixture()
def env(home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("COMPETENCYMAP_HOME", str(home))
    monkeypatch.delenv("COMPETENCYMAP_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no competencymap.toml of the checkout
    return home


@pytest.fixture()
def api(env: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The service serving Skills for Success alone, as `--framework sfs` has the command line look."""
    options = ServiceOptions(frameworks=("sfs",), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    with TestClient(create_app(load_settings(home=env), options=options), base_url="http://127.0.0.1:8000") as client:
        yield client


def cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin, prog_name="competencymap")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_mapping_result_has_one_shape(api: TestClient) -> None:
    line = cli("map", "--framework", "sfs", "--top-k", "3", stdin=json.dumps({"id": "a", "text": TEXT}) + "\n")
    from_cli = json.loads(line)
    assert from_cli.pop("id") == "a"
    answer = api.post("/map", json={"text": TEXT, "frameworks": ["sfs"], "top_k": 3})
    assert answer.status_code == 200, answer.text
    assert from_cli == answer.json()
    assert from_cli["profile"]["sfs"] and from_cli["statements"]


def test_a_concept_has_one_shape(api: TestClient) -> None:
    from_cli = json.loads(cli("frameworks", "show", SFS_READING, "--framework", "sfs", "--limit", "2", "--json"))
    answer = api.get(f"/competencies/{quote(SFS_READING, safe='')}", params={"occupations_limit": 2})
    assert answer.status_code == 200, answer.text
    assert from_cli == answer.json()
    assert from_cli["narrower"]["count"] > 2 and len(from_cli["narrower"]["items"]) == 2 and from_cli["levels"]


def test_the_openapi_document_states_the_lines_of_a_mapping(api: TestClient) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert "lines" in schemas["MapResponse"]["required"]
    line = schemas["LineReport"]["properties"]
    assert set(line["outcome"]["enum"]) == {"mapped", "asset", "dropped", "no_match"}
    assert "company" in line["role"]["enum"] and line["candidates"]["description"]
