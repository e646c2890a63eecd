"""Loading frameworks: pick the loader that fits a file or folder.

`load_framework` looks at what a path is (an ESCO CSV release, a simple CSV, an RDF
file) and calls the matching loader. The loaders live in their own modules and are
imported only when needed.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import zipfile
from pathlib import Path

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.names import check_language, check_name, slug
from competencymap.model.framework import Framework

RDF_SUFFIXES = (".ttl", ".nt", ".n3", ".rdf", ".owl", ".xml", ".jsonld", ".json")
_ESCO_SKILLS_FILE = re.compile(r"^skills_([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\.csv$")


def load_framework(path: Path | str, language: str = "en", name: str | None = None) -> Framework:
    """Load the framework at `path` with the loader its file type calls for.

    A folder or zip holding `skills_<language>.csv` is the ESCO CSV release; a `.csv`
    with an `id,label` header is a simple CSV framework; an RDF file (optionally
    gzipped, or the only RDF file in a zip) is ESCO RDF or any SKOS scheme. When
    `name` is given the framework gets it as its id.
    """
    path = Path(path)
    check_language(language)
    if name is not None:
        check_name(name)
    kind = framework_kind(path, language)
    if kind == "esco-csv":
        from competencymap.frameworks.esco_csv import load_esco_csv

        framework = load_esco_csv(path, language=language)
    elif kind == "simple-csv":
        from competencymap.frameworks.simple_csv import load_simple_csv

        framework = load_simple_csv(path, name=name or slug(path.stem), language=language)
    else:
        from competencymap.frameworks.esco_rdf import load_esco_rdf, looks_like_esco_rdf

        if looks_like_esco_rdf(path):
            framework = load_esco_rdf(path, language=language)
        else:
            from competencymap.frameworks.skos import load_skos

            framework = load_skos(path, language=language, name=name)
    if name is not None and framework.id != name:
        framework = rename_framework(framework, name)
    return framework


def framework_kind(path: Path, language: str = "en") -> str:
    """'esco-csv', 'simple-csv' or 'rdf' for a path; FrameworkError when it is none."""
    if not path.exists():
        raise FrameworkError("no such file or folder", path=str(path))
    if path.is_dir():
        _check_esco_languages(path, _esco_languages_in_folder(path), language)
        return "esco-csv"
    if not path.is_file():
        raise FrameworkError("not a regular file", path=str(path))
    if path.stat().st_size == 0:
        raise FrameworkError("empty file", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _zip_kind(path, language)
    if suffix == ".csv":
        _check_simple_csv_header(path)
        return "simple-csv"
    if is_rdf_name(path.name):
        return "rdf"
    raise FrameworkError(
        "unknown file type: expected a folder or zip of the ESCO CSV release, a .csv with an "
        "id,label header, or an RDF file (" + " ".join(RDF_SUFFIXES) + ", optionally .gz)",
        path=str(path),
    )


def is_rdf_name(filename: str) -> bool:
    """True for names like scheme.ttl, scheme.rdf.gz, dump.nt."""
    lower = filename.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return lower.endswith(RDF_SUFFIXES)








def rename_framework(framework: Framework, name: str) -> Framework:
    """The same framework under another id (its concepts follow)."""
    old = framework.id

    def moved(item):
        return dataclasses.replace(item, framework=name) if item.framework == old else item

    return dataclasses.replace(
        framework,
        id=name,
        competencies={iri: moved(c) for iri, c in framework.competencies.items()},
        occupations={iri: moved(o) for iri, o in framework.occupations.items()},
    )


def source_files(path: Path) -> list[Path]:
    """The files a framework at `path` is read from (for cache checksums)."""
    path = Path(path)
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    return [path]


# -- ESCO CSV detection ---------------------------------------------------------------


def _esco_languages_in_names(names: list[str]) -> set[str]:
    found = set()
    for name in names:
        match = _ESCO_SKILLS_FILE.match(name.rsplit("/", 1)[-1])
        if match:
            found.add(match.group(1))
    return found


def _esco_languages_in_folder(folder: Path) -> set[str]:
    found = _esco_languages_in_names([p.name for p in folder.iterdir() if p.is_file()])
    for archive in sorted(folder.glob("*.zip")):
        found |= _esco_languages_in_names(_zip_names(archive))
    if not found:
        raise FrameworkError(
            "not a framework: the folder holds no skills_<language>.csv or ESCO classification zip",
            path=str(folder),
        )
    return found


def _check_esco_languages(path: Path, found: set[str], language: str) -> None:
    if language not in found:
        raise FrameworkError(
            f"unknown language {language!r} for this ESCO release: found "
            + ", ".join(sorted(found)),
            path=str(path),
        )


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise FrameworkError(f"not a readable zip archive ({exc})", path=str(path)) from None


def _zip_kind(path: Path, language: str) -> str:
    names = [n for n in _zip_names(path) if not n.startswith("__MACOSX/")]
    found = _esco_languages_in_names(names)
    if found:
        _check_esco_languages(path, found, language)
        return "esco-csv"
    rdf = [n for n in names if is_rdf_name(n.rsplit("/", 1)[-1])]
    if len(rdf) == 1:
        return "rdf"
    if len(rdf) > 1:
        raise FrameworkError(f"the zip holds {len(rdf)} RDF files; expected one", path=str(path))
    raise FrameworkError(
        "not a framework: the zip holds neither the ESCO CSV release nor an RDF file",
        path=str(path),
    )


def _check_simple_csv_header(path: Path) -> None:
    with path.open("rb") as handle:
        first = handle.readline(65536)
    try:
        header = next(csv.reader([first.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise FrameworkError("not UTF-8 text", path=str(path), line=1) from None
    except csv.Error as exc:
        raise FrameworkError(f"malformed CSV header ({exc})", path=str(path), line=1) from None
    columns = {column.strip().lower() for column in header}
    if {"id", "label"} <= columns:
        return
    if "concepturi" in columns:
        raise FrameworkError(
            "this is one file of the ESCO CSV release: pass the folder or zip that holds it",
            path=str(path),
        )
    raise FrameworkError(
        "not a framework CSV: expected a header with id,label (and optionally description,broader)",
        path=str(path),
        line=1,
    )
