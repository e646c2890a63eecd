"""Opening RDF files for the loaders: plain, gzipped, the one RDF file in a zip, and the refusals."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.rdf_files import format_name, open_rdf

TRIPLE = b'<http://example.org/a> <http://example.org/p> "x" .\n'


def _subjects(path: Path) -> list[str]:
    with open_rdf(path) as source:
        return [quad.subject.value for quad in source.quads()]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _error(path: Path) -> FrameworkError:
    with pytest.raises(FrameworkError) as caught, open_rdf(path):
        pass
    return caught.value


def test_plain_file_is_handed_over_by_path(tmp_path: Path) -> None:
    path = tmp_path / "scheme.nt"
    path.write_bytes(TRIPLE)
    with open_rdf(path) as source:
        assert source.data == path
        assert source.format == RdfFormat.N_TRIPLES
        assert source.display == str(path)
        assert source.head(12) == TRIPLE[:12]
    assert _subjects(path) == ["http://example.org/a"]


def test_gzipped_file_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "scheme.TTL.gz"
    path.write_bytes(gzip.compress(TRIPLE))
    with open_rdf(path) as source:
        assert not isinstance(source.data, Path)
        assert (source.format, source.display) == (RdfFormat.TURTLE, str(path))
    assert _subjects(path) == ["http://example.org/a"]


def test_zip_with_one_rdf_file(tmp_path: Path) -> None:
    path = _zip(tmp_path / "scheme.zip", {
        "README.txt": b"not RDF", "__MACOSX/dir/._scheme.ttl": b"\x00\x05", "dir/scheme.ttl": TRIPLE,
    })
    with open_rdf(path) as source:
        assert (source.format, source.display) == (RdfFormat.TURTLE, f"{path}!dir/scheme.ttl")
    assert _subjects(path) == ["http://example.org/a"]


def test_zip_with_one_gzipped_rdf_file(tmp_path: Path) -> None:
    path = _zip(tmp_path / "scheme.zip", {"scheme.nt.gz": gzip.compress(TRIPLE)})
    with open_rdf(path) as source:
        assert source.display == f"{path}!scheme.nt.gz"
        assert source.head(len(TRIPLE)) == TRIPLE


def test_zip_is_known_by_its_content(tmp_path: Path) -> None:
    path = _zip(tmp_path / "download.bin", {"scheme.nt": TRIPLE})
    assert _subjects(path) == ["http://example.org/a"]


def test_zip_with_two_rdf_files(tmp_path: Path) -> None:
    path = _zip(tmp_path / "two.zip", {"a.ttl": TRIPLE, "b.rdf.gz": b"", "c.txt": b""})
    error = _error(path)
    assert str(error) == f"{path}: expected one RDF file in the zip, found 2 RDF files (a.ttl, b.rdf.gz)"


def test_zip_without_rdf_file(tmp_path: Path) -> None:
    path = _zip(tmp_path / "none.zip", {"notes.txt": b"hello", "__MACOSX/._a.ttl": b""})
    assert str(_error(path)) == f"{path}: expected one RDF file in the zip, found none"


def test_unreadable_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK not really a zip")
    assert str(_error(path)).startswith(f"{path}: not a readable zip archive")


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "scheme.txt"
    path.write_bytes(TRIPLE)
    message = str(_error(path))
    assert message.startswith(f"{path}: unknown RDF file type '.txt': expected one of .json .jsonld .n3 .nq")
    gz = tmp_path / "scheme.gz"
    gz.write_bytes(gzip.compress(TRIPLE))
    assert "unknown RDF file type '(none)'" in str(_error(gz))


def test_missing_and_empty_files(tmp_path: Path) -> None:
    assert str(_error(tmp_path / "missing.ttl")) == f"{tmp_path / 'missing.ttl'}: no such file"
    assert str(_error(tmp_path)) == f"{tmp_path}: no such file"
    empty = tmp_path / "empty.ttl"
    empty.write_bytes(b"")
    assert str(_error(empty)) == f"{empty}: file is empty"


@pytest.mark.parametrize(("name", "expected"), [
    ("a.ttl", "TURTLE"), ("a.turtle", "TURTLE"), ("A.RDF", "RDF_XML"), ("a.owl.gz", "RDF_XML"),
    ("a.jsonld", "JSON_LD"), ("a.json", "JSON_LD"), ("a.nq", "N_QUADS"), ("a.trig", "TRIG"), ("a.n3", "N3"),
    ("a.txt", None), ("a.gz", None), ("ttl", None),
])
def test_format_names(name: str, expected: str | None) -> None:
    assert format_name(name) == expected
