"""Load the official ESCO CSV release into a :class:`~competencymap.model.framework.Framework`.

The release is two zips from the ESCO portal: the classification in one language
(skills_en.csv, skillGroups_en.csv, occupations_en.csv, ISCOGroups_en.csv, ...) and the
language-independent relations (occupationSkillRelations.csv, skillSkillRelations.csv,
broaderRelationsSkillPillar.csv, broaderRelationsOccPillar.csv). ``path`` may be a folder
holding both zips (as ``data/esco/``), a single zip, or a folder of unpacked CSVs; loose
CSV files win over zip members of the same name.

Text is normalised the same way as :mod:`.esco_rdf` does it, so the two loaders give
equal frameworks: labels and descriptions are stripped, label lists are split on
newlines, de-duplicated and sorted, as are broader links and schemes.

Consistency: every broader link of the result names a concept of the result, and every
relation names a concept of the result or a *withdrawn* one. A relation row naming an
IRI the release never declares is an error naming file and line. A withdrawn concept is
one the release's hierarchy files name in a pillar (broaderRelationsOccPillar.csv,
broaderRelationsSkillPillar.csv) but that has no row in the classification: v1.1.1 has
one withdrawn occupation, named by 67 occupation-skill rows and one broader row, and
seven skill groups listed only in skillsHierarchy_en.csv. Relations naming a withdrawn
concept are kept as the release publishes them (so the result holds all 123,855
occupation-skill relations of v1.1.1), but the concept itself is not made up: it is in
neither ``competencies`` nor ``occupations``, and its broader rows are skipped. Rows
naming a concept whose row has no preferred label in the language are skipped. Kept and
skipped rows are counted in the log.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.esco_vocab import (
    ESCO_ID,
    ESCO_IRI,
    ESCO_LICENCE,
    ESCO_TITLE,
    last_segment,
    version_in_name,
)
from competencymap.model.framework import (
    KIND_GROUP,
    KIND_ISCO_GROUP,
    KIND_KNOWLEDGE,
    KIND_OCCUPATION,
    KIND_SKILL,
    KIND_UNTYPED,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    REL_SKILL_ESSENTIAL,
    REL_SKILL_OPTIONAL,
    Competency,
    Framework,
    Occupation,
    Relation,
)

log = logging.getLogger(__name__)

# Files of the release: role -> (file stem, written per language).
FILES = {
    "skills": ("skills", True),
    "skill_groups": ("skillGroups", True),
    "occupations": ("occupations", True),
    "isco_groups": ("ISCOGroups", True),
    "skill_broader": ("broaderRelationsSkillPillar", False),
    "occupation_broader": ("broaderRelationsOccPillar", False),
    "occupation_skill": ("occupationSkillRelations", False),
    "skill_skill": ("skillSkillRelations", False),
}

SKILL_TYPES = {"skill/competence": KIND_SKILL, "skill": KIND_SKILL, "knowledge": KIND_KNOWLEDGE, "": KIND_UNTYPED}
RELATION_TYPES = {"essential": "essential", "optional": "optional"}
SKILLS, OCCUPATIONS = "skills", "occupations"  # the two pillars
LOADED, WITHDRAWN, UNLABELLED = "loaded", "withdrawn", "unlabelled"  # what a relation endpoint is
_SCHEME_SPLIT = re.compile(r"[\s,|]+")


# -- reading the release ------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    """One CSV file of the release, loose or inside a zip."""

    name: str
    display: str
    opener: Callable[[], IO[bytes]]
    container: str


class _Release:
    """The CSV files found under a path, by lower-cased file name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.members: dict[str, _Member] = {}
        if not path.exists():
            raise FrameworkError("no such file or folder", path=str(path))
        if path.is_dir():
            for csv_path in sorted(path.rglob("*.csv")):
                self._add(_Member(csv_path.name, str(csv_path), _file_opener(csv_path), csv_path.parent.name))
            for zip_path in sorted(path.rglob("*.zip")):
                self._add_zip(zip_path)
        elif zipfile.is_zipfile(path):
            self._add_zip(path)
        else:
            raise FrameworkError("expected a folder or a .zip of the ESCO CSV release", path=str(path))

    def _add(self, member: _Member) -> None:
        self.members.setdefault(member.name.lower(), member)

    def _add_zip(self, zip_path: Path) -> None:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError) as exc:
            raise FrameworkError(f"cannot read zip: {exc}", path=str(zip_path)) from None
        for name in names:
            base = name.rsplit("/", 1)[-1]
            if base.lower().endswith(".csv"):
                self._add(_Member(base, f"{zip_path}:{name}", _zip_opener(zip_path, name), zip_path.name))

    def member(self, role: str, language: str) -> _Member:
        stem, per_language = FILES[role]
        wanted = f"{stem}_{language}.csv"
        names = [wanted] if per_language else [f"{stem}.csv", wanted]
        for name in names:
            found = self.members.get(name.lower())
            if found is not None:
                return found
        raise FrameworkError(f"missing {names[0]} in the ESCO CSV release", path=str(self.path))

    def version(self, members: list[_Member]) -> str:
        """The version named by the release's zip or folder names; error if they disagree."""
        found = {v for v in (version_in_name(m.container) for m in members) if v}
        found |= {v for v in [version_in_name(self.path.name)] if v}
        if len(found) > 1:
            raise FrameworkError(f"release files disagree on the version: {', '.join(sorted(found))}",
                                 path=str(self.path))
        return found.pop() if found else ""


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")


def _zip_opener(zip_path: Path, name: str) -> Callable[[], IO[bytes]]:
    @contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with zipfile.ZipFile(zip_path) as archive, archive.open(name) as raw:
            yield raw

    return opener  # type: ignore[return-value]


def _rows(member: _Member, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Iterator[tuple[int, list[str]]]:
    """(line, values) for each record, values in the order of required + optional columns."""
    with member.opener() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise FrameworkError("file is empty", path=member.display) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FrameworkError(f"not a UTF-8 CSV file: {exc}", path=member.display, line=1) from None
        missing = [name for name in required if name not in header]
        if missing:
            raise FrameworkError(f"missing column(s): {', '.join(missing)}", path=member.display, line=1)
        index = [header.index(name) if name in header else -1 for name in required + optional]
        width = len(header)
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise FrameworkError(f"malformed CSV: {exc}", path=member.display, line=start) from None
            line, start = start, reader.line_num + 1
            if not row or row == [""]:
                continue
            if len(row) != width:
                raise FrameworkError(f"expected {width} fields, found {len(row)}", path=member.display, line=line)
            yield line, [row[i] if i >= 0 else "" for i in index]


# -- text helpers (shared normalisation with the RDF loader) ------------------------------


def split_labels(text: str) -> tuple[str, ...]:
    """Labels of one CSV cell (one per line), stripped, de-duplicated and sorted."""
    return tuple(sorted({label.strip() for label in text.split("\n")} - {""}))


def split_iris(text: str) -> tuple[str, ...]:
    """IRIs of one CSV cell (separated by commas, '|' or whitespace), sorted."""
    return tuple(sorted(set(_SCHEME_SPLIT.split(text)) - {""}))


# -- building the framework ---------------------------------------------------------------


class _Builder:
    """Concept rows by IRI, then broader links, then relations."""

    def __init__(self) -> None:
        self.competencies: dict[str, dict] = {}
        self.occupations: dict[str, dict] = {}
        self.seen: dict[str, str] = {}  # IRI -> where its row is
        self.declared: dict[str, set[str]] = {SKILLS: set(), OCCUPATIONS: set()}  # pillar -> IRIs the hierarchy names
        self.broader: dict[str, set[str]] = {}
        self.relations: set[tuple[str, str, str]] = set()
        self.skipped_labels = 0
        self.skipped_rows: dict[str, int] = {}
        self.skipped_iris: set[str] = set()
        self.kept_rows: dict[str, int] = {}  # relation rows kept that name a withdrawn concept
        self.withdrawn: set[str] = set()

    def _claim(self, iri: str, member: _Member, line: int) -> None:
        """Record where a concept row is; an IRI may have only one row in the release."""
        if not iri:
            raise FrameworkError("empty conceptUri", path=member.display, line=line)
        if iri in self.seen:
            raise FrameworkError(f"duplicate concept {iri} (first at {self.seen[iri]})", path=member.display, line=line)
        self.seen[iri] = f"{member.display}:{line}"

    def skills(self, member: _Member) -> None:
        columns = ("conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels", "status", "inScheme",
                   "description")
        for line, (iri, skill_type, reuse, pref, alts, status, schemes, description, hidden, scope) in _rows(
            member, columns, ("hiddenLabels", "scopeNote")
        ):
            iri = iri.strip()
            self._claim(iri, member, line)
            kind = SKILL_TYPES.get(last_segment(skill_type) if "://" in skill_type else skill_type.strip())
            if kind is None:
                raise FrameworkError(f"unknown skillType {skill_type!r}", path=member.display, line=line)
            fields = dict(kind=kind, reuse_level=last_segment(reuse), schemes=split_iris(schemes),
                          scope_note=scope.strip())
            self._add_competency(iri, pref, alts, hidden, description, status, fields)

    def skill_groups(self, member: _Member) -> None:
        columns = ("conceptUri", "preferredLabel", "altLabels", "status", "inScheme", "description", "code")
        for line, (iri, pref, alts, status, schemes, description, code, hidden, scope) in _rows(
            member, columns, ("hiddenLabels", "scopeNote")
        ):
            iri = iri.strip()
            self._claim(iri, member, line)
            fields = dict(kind=KIND_GROUP, code=code.strip(), schemes=split_iris(schemes), scope_note=scope.strip())
            self._add_competency(iri, pref, alts, hidden, description, status, fields)

    def _add_competency(self, iri: str, pref: str, alts: str, hidden: str, description: str, status: str,
                        fields: dict) -> None:
        if not pref.strip():
            self.skipped_labels += 1
            return
        self.competencies[iri] = dict(
            iri=iri, framework=ESCO_ID, pref_label=pref.strip(), alt_labels=split_labels(alts),
            hidden_labels=split_labels(hidden), description=description.strip(),
            status=status.strip() or "released", **fields,
        )

    def occupations_(self, member: _Member) -> None:
        columns = ("conceptUri", "iscoGroup", "preferredLabel", "altLabels", "status", "description", "code")
        for line, (iri, isco, pref, alts, status, description, code, hidden) in _rows(
            member, columns, ("hiddenLabels",)
        ):
            iri = iri.strip()
            self._claim(iri, member, line)
            self._add_occupation(iri, pref, alts, hidden, description, status,
                                 dict(kind=KIND_OCCUPATION, code=code.strip(), isco_group=isco.strip()))

    def isco_groups(self, member: _Member) -> None:
        columns = ("conceptUri", "code", "preferredLabel", "status", "description")
        for line, (iri, code, pref, status, description, alts, hidden) in _rows(
            member, columns, ("altLabels", "hiddenLabels")
        ):
            iri = iri.strip()
            self._claim(iri, member, line)
            self._add_occupation(iri, pref, alts, hidden, description, status,
                                 dict(kind=KIND_ISCO_GROUP, code=code.strip()))

    def _add_occupation(self, iri: str, pref: str, alts: str, hidden: str, description: str, status: str,
                        fields: dict) -> None:
        if not pref.strip():
            self.skipped_labels += 1
            return
        self.occupations[iri] = dict(
            iri=iri, framework=ESCO_ID, pref_label=pref.strip(), alt_labels=split_labels(alts),
            hidden_labels=split_labels(hidden), description=description.strip(),
            status=status.strip() or "released", **fields,
        )

    def hierarchy(self, member: _Member, pillar: str) -> None:
        """Broader links of one pillar; rows naming concepts without a row are skipped."""
        table = self.competencies if pillar == SKILLS else self.occupations
        for line, (iri, broader) in _rows(member, ("conceptUri", "broaderUri")):
            iri, broader = iri.strip(), broader.strip()
            if not iri or not broader:
                raise FrameworkError("empty conceptUri or broaderUri", path=member.display, line=line)
            self.declared[pillar].update((iri, broader))
            if iri not in table or broader not in table:
                self._skip(member, iri if iri not in table else broader)
                continue
            self.broader.setdefault(iri, set()).add(broader)

    def occupation_skills(self, member: _Member) -> None:
        types = {"essential": REL_ESSENTIAL, "optional": REL_OPTIONAL}
        self._relations(member, ("occupationUri", "relationType", "skillUri"), OCCUPATIONS, types)

    def skill_skills(self, member: _Member) -> None:
        types = {"essential": REL_SKILL_ESSENTIAL, "optional": REL_SKILL_OPTIONAL}
        self._relations(member, ("originalSkillUri", "relationType", "relatedSkillUri"), SKILLS, types)

    def _relations(self, member: _Member, columns: tuple[str, str, str], source_pillar: str,
                   types: dict[str, str]) -> None:
        sources = self.competencies if source_pillar == SKILLS else self.occupations
        targets, add = self.competencies, self.relations.add
        for line, (source, relation, target) in _rows(member, columns):
            source, target = source.strip(), target.strip()
            rel_type = types.get(relation) or types.get(relation.strip().lower())
            if rel_type is None:
                raise FrameworkError(f"unknown relationType {relation!r}", path=member.display, line=line)
            if source in sources and target in targets:
                add((source, target, rel_type))
                continue
            ends = (self._endpoint(member, line, source, source_pillar),
                    self._endpoint(member, line, target, SKILLS))
            if UNLABELLED in ends:
                for iri, end in zip((source, target), ends):
                    if end == UNLABELLED:
                        self._skip(member, iri)
                continue
            add((source, target, rel_type))
            self.kept_rows[member.name] = self.kept_rows.get(member.name, 0) + 1
            self.withdrawn.update(iri for iri, end in zip((source, target), ends) if end == WITHDRAWN)

    def _endpoint(self, member: _Member, line: int, iri: str, pillar: str) -> str:
        """LOADED, WITHDRAWN (no row, but the pillar's hierarchy names it) or UNLABELLED; error if unknown."""
        table = self.competencies if pillar == SKILLS else self.occupations
        what = "skill" if pillar == SKILLS else "occupation"
        if iri in table:
            return LOADED
        if not iri:
            raise FrameworkError(f"empty {what} IRI", path=member.display, line=line)
        if iri not in self.competencies and iri not in self.occupations:
            if iri in self.seen:
                return UNLABELLED
            if iri in self.declared[pillar]:
                return WITHDRAWN
        raise FrameworkError(f"relation names {iri}, which is not a known {what}", path=member.display, line=line)

    def _skip(self, member: _Member, iri: str) -> None:
        self.skipped_rows[member.name] = self.skipped_rows.get(member.name, 0) + 1
        self.skipped_iris.add(iri)

    def competency_objects(self) -> dict[str, Competency]:
        return {iri: Competency(broader=tuple(sorted(self.broader.get(iri, ()))), **fields)
                for iri, fields in sorted(self.competencies.items())}

    def occupation_objects(self) -> dict[str, Occupation]:
        return {iri: Occupation(broader=tuple(sorted(self.broader.get(iri, ()))), **fields)
                for iri, fields in sorted(self.occupations.items())}

    def warn(self, path: Path) -> None:
        if self.kept_rows:
            counts = ", ".join(f"{name}: {count}" for name, count in sorted(self.kept_rows.items()))
            log.info("%s: kept relation rows naming %d withdrawn concept(s) that have no row in the "
                     "classification (%s)", path, len(self.withdrawn), counts)
        if self.skipped_rows:
            counts = ", ".join(f"{name}: {count}" for name, count in sorted(self.skipped_rows.items()))
            log.warning("%s: skipped rows naming %d concept(s) that have no labelled row in the classification "
                        "(%s)", path, len(self.skipped_iris), counts)
        if self.skipped_labels:
            log.warning("%s: skipped %d concept(s) with no preferred label", path, self.skipped_labels)


def load_esco_csv(path: Path, language: str = "en", *, version: str | None = None) -> Framework:
    """Load an ESCO CSV release (folder of zips, one zip, or folder of CSVs) in one language.

    ``version`` overrides the version read from the release's file names.
    """
    path = Path(path)
    language = (language or "").strip().lower()
    if not language:
        raise FrameworkError("no language given", path=str(path))
    release = _Release(path)
    files = {role: release.member(role, language) for role in FILES}
    builder = _Builder()
    builder.skills(files["skills"])
    builder.skill_groups(files["skill_groups"])
    builder.occupations_(files["occupations"])
    builder.isco_groups(files["isco_groups"])
    builder.hierarchy(files["skill_broader"], SKILLS)
    builder.hierarchy(files["occupation_broader"], OCCUPATIONS)
    builder.occupation_skills(files["occupation_skill"])
    builder.skill_skills(files["skill_skill"])
    builder.warn(path)
    return Framework(
        id=ESCO_ID,
        iri=ESCO_IRI,
        title=ESCO_TITLE,
        version=version if version is not None else release.version(list(files.values())),
        language=language,
        source=path.name,
        licence=ESCO_LICENCE,
        competencies=builder.competency_objects(),
        occupations=builder.occupation_objects(),
        relations=[Relation(*row) for row in sorted(builder.relations)],
        languages=(language,),
    )

