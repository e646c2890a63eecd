"""What a hostile probe found at the door (issue 20, item 6): an empty framework list, query
strings that are not UTF-8, Host headers that are not a host, and guessing the API key on /key.

In process, on a service that serves no framework (nothing to load)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.security import KeyGuesses, parse_host

KEY = "s3cret"
ORIGIN = "http://localhost:8000"


def _client(tmp_path: Path, **options: Any) -> TestClient:
    opts = ServiceOptions(frameworks=(), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}", **options)
    return TestClient(create_app(load_settings(home=tmp_path), options=opts), base_url=ORIGIN)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, seed_catalog=True) as c:
        yield c


@pytest.fixture()
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, api_key=KEY) as c:
        yield c


# -- an empty framework list ------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), [
    ("/map", {"text": "Write SQL queries"}),
    ("/match", {"text": "Write SQL queries"}),
    ("/credentials/1/suggest-tags", {}),
    ("/analytics/demand", {"postings": [{"text": "Write SQL queries"}]}),
])
def test_an_empty_framework_list_is_refused_naming_the_field(client: TestClient, path: str, body: dict) -> None:
    answer = client.post(path, json={**body, "frameworks": []})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "frameworks"
    absent = client.post(path, json=body)  # absent still means every served one (none here: 404)
    assert absent.status_code != 422, absent.text
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert any(v.get("minItems") == 1 for v in schema["MapRequest"]["properties"]["frameworks"]["anyOf"])


@pytest.mark.parametrize("path", ["/analytics/demand/upload", "/jobs/demand/upload"])
@pytest.mark.parametrize("frameworks", [" , ", ",", " "])  # a blank field is no field (the form parser's rule)
def test_an_upload_form_with_no_framework_name_is_refused(client: TestClient, path: str, frameworks: str) -> None:
    answer = client.post(path, files={"file": ("p.jsonl", b'{"text": "Write SQL queries"}\n')},
                         data={"frameworks": frameworks})
    assert answer.status_code == 422, answer.text
    assert "frameworks" in answer.text


@pytest.mark.parametrize("path", ["/analytics/demand/upload", "/jobs/demand/upload"])
def test_an_upload_forms_whole_number_may_be_written_with_a_zero_fraction(client: TestClient, path: str) -> None:
    whole = client.post(path, files={"file": ("p.jsonl", b'{"text": "Write SQL queries"}\n')}, data={"top_n": "10.0"})
    assert "top_n" not in whole.text, whole.text  # refused for other reasons (no framework served), not for 10.0
    fraction = client.post(path, files={"file": ("p.jsonl", b'{"text": "Write SQL queries"}\n')}, data={"top_n": "10.5"})
    assert fraction.status_code == 422 and "top_n" in fraction.text, fraction.text


# -- query strings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/credentials?search=%ff%fe", "/search?q=%C3%28&framework=mini",
                                  "/designer?search=%e2%82", "/browse?q=%80"])
def test_a_query_string_that_is_not_utf8_is_400_naming_the_parameter(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "bad_request" and error["field"] == path.split("?")[1].split("=")[0]
    assert client.get(path.split("%")[0] + "caf%C3%A9").status_code != 400  # real UTF-8 passes


def test_a_bad_parameter_name_is_named_as_sent(client: TestClient) -> None:
    answer = client.get("/credentials?%ff=1")
    assert answer.status_code == 400 and "%FF" in answer.json()["error"]["field"].upper()


# -- the Host header -------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost:1@evil.example", "localhost@evil.example", "localhost:99999",
                                  "localhost:abc", "localhost:", "localhost:8000:1", "local host", "[::1",
                                  "[::1]x", "localhost/evil", "localhost\\evil", "localhost:+80", "localhost#x",
                                  "evil.example:80@localhost", ""])
def test_a_host_header_that_is_not_a_host_is_refused(client: TestClient, host: str) -> None:
    answer = client.get("/health", headers={"Host": host})
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_host", host


def test_parse_host() -> None:
    assert parse_host("localhost:8000") == "localhost" and parse_host("LOCALHOST") == "localhost"
    assert parse_host("[::1]:8000") == "::1" and parse_host("127.0.0.1") == "127.0.0.1"
    assert parse_host("a.example.org.") == "a.example.org" and parse_host("xn--bcher-kva.example") is not None
    for bad in ("localhost:1@evil.example", "[::1", "::1", "localhost:65536", "a..b", "-a.example", "a b"):
        assert parse_host(bad) is None, bad


# -- guessing the key ------------------------------------------------------------------------------


def _guess(client: TestClient, key: str, address: str = "") -> Any:
    return client.post("/key", data={"api_key": key, "next": "/designer"}, headers={"Origin": ORIGIN},
                       follow_redirects=False)


def test_repeated_wrong_keys_are_slowed_and_the_right_key_is_not(keyed: TestClient) -> None:
    now = [1000.0]
    keyed.app.state.key_guesses = KeyGuesses(clock=lambda: now[0])  # type: ignore[attr-defined]
    for _ in range(20):  # the right key, again and again: never slowed
        assert _guess(keyed, KEY).status_code == 303
    keyed.cookies.clear()  # a guesser holds no right key
    statuses = [_guess(keyed, f"guess{i}").status_code for i in range(10)]
    assert statuses[:KeyGuesses.FREE + 1] == [401] * (KeyGuesses.FREE + 1)  # a few typos are free
    assert statuses[KeyGuesses.FREE + 1:] == [429] * (10 - KeyGuesses.FREE - 1)
    waiting = _guess(keyed, KEY)  # while waiting nothing is checked, so guessing learns nothing
    assert waiting.status_code == 429 and int(waiting.headers["retry-after"]) >= 1
    assert "try again in" in waiting.text
    api = keyed.post("/postings", json={}, headers={"X-API-Key": "guess"})  # the API's writes share the count
    assert api.status_code == 429 and api.json()["error"]["type"] == "too_many_wrong_keys"
    assert keyed.post("/postings", json={}).status_code == 401  # no key sent is no guess
    now[0] += int(waiting.headers["retry-after"])
    assert _guess(keyed, KEY).status_code == 303  # after the wait the right key passes and resets
    assert [_guess(keyed, "guess").status_code for _ in range(KeyGuesses.FREE)] == [401] * KeyGuesses.FREE


def test_key_guesses_grow_reset_and_forget() -> None:
    now = [1000.0]
    guesses = KeyGuesses(max_addresses=3, clock=lambda: now[0])
    for _ in range(KeyGuesses.FREE):
        assert guesses.wait("a") == 0
        guesses.failed("a")
    assert guesses.wait("a") == 0
    guesses.failed("a")
    first = guesses.wait("a")
    assert first > 0
    now[0] += first
    assert guesses.wait("a") == 0
    guesses.failed("a")
    assert guesses.wait("a") > first  # each further failure waits longer
    assert guesses.wait("b") == 0  # per address
    guesses.succeeded("a")
    assert guesses.wait("a") == 0
    for name in "bcdef":
        guesses.failed(name)
    assert len(guesses) <= 3  # bounded memory: the least recently seen addresses are forgotten


# -- 405 and Allow ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/credentials", "GET, POST"),  # two routes share the path: both are listed
    ("OPTIONS", "/credentials/4", "DELETE, GET, PATCH"),
    ("GET", "/jobs/demand", "POST"),  # not GET /jobs/{job_id} with job_id "demand" (422)
    ("PATCH", "/credentials/3/tags/import", "POST"),  # not PATCH /credentials/{id}/tags/{tag_id}
])
def test_a_wrong_method_is_405_listing_every_allowed_one(client: TestClient, method: str, path: str,
                                                         allow: str) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 405 and answer.headers["allow"] == allow, answer.text
    assert answer.json()["error"]["type"] == "method_not_allowed"
    assert client.get("/static/app.js").status_code in (200, 404)  # mounted files pass untouched


def test_the_document_states_the_rules(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    ids = schemas["MatchRequest"]["properties"]["posting_id"]
    assert ids["maximum"] == 2**63 - 1 and isinstance(ids["maximum"], int)  # not 9.223372036854776e18
    assert schemas["DemandRequest"]["properties"]["posting_ids"]["minItems"] == 1
    assert schemas["CredentialCreate"]["properties"]["url"]["anyOf"][0]["minLength"] == 1
    assert "securitySchemes" not in doc["components"]  # no key here: none asked for
    assert client.post("/match", json={"text": "Write SQL", "top_k": 7.0}).status_code != 422  # 7.0 is an integer
