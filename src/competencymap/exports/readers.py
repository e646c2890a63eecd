"""Reading credentials back: Open Badges 3.0 and CTDL JSON into the catalog, and the tag CSV.

* Open Badges 3.0: an ``Achievement`` or an ``OpenBadgeCredential``/``AchievementCredential``
  (checked against the official JSON schema). Its ``alignment`` entries become accepted
  credential-level tags. What OB has no property for (outcomes, duration, delivery, credit,
  assessment) is read from ``criteria.narrative`` when it has the form
  :mod:`~competencymap.exports.openbadges` writes, else taken from `defaults`.
* CTDL: a Registry graph (``@graph``) or a single credential node of any ``ceterms:`` credential
  class; ``ceterms:targetCompetency`` alignments of its ``ceterms:requires`` profiles become tags.
* The CSV of :func:`~competencymap.exports.tabular.tags_to_csv`: its rows are applied to the
  credential they name (outcomes matched by position and text), so decisions made in a
  spreadsheet come back into the catalog.

Anything missing that the catalog needs and no default gives is a one-line `DocumentError`
naming the property and the option that supplies it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from competencymap.catalog import Catalog, Credential, CredentialIn, Tag, TagIn
from competencymap.exports.ctdl import ASSESSMENT_PREFIX, DELIVERY_TYPES
from competencymap.exports.openbadges import FRAMEWORK_NAMES, OB_CONTEXT
from competencymap.exports.schemas import DocumentError, check_achievement, check_openbadge_credential
from competencymap.exports.tabular import COLUMNS

FORMATS = ("auto", "openbadges", "ctdl", "csv")
# Options the CLI offers for what a document does not state (catalog field -> option).
DEFAULT_OPTIONS = {
    "issuer": "--issuer",
    "duration_hours": "--duration-hours",
    "delivery_mode": "--delivery-mode",
    "credit": "--credit",
    "assessment_type": "--assessment",
}
FRAMEWORK_PREFIXES = {
    "http://data.europa.eu/esco/": "esco",
    "https://w3id.org/competencymap/sfs/": "sfs",
    "https://w3id.org/competencymap/essential-skills/": "essential-skills",
}
OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
CTDL_CREDENTIAL_SUFFIXES = ("Credential", "Certificate", "Certification", "Degree", "Diploma", "Badge", "License",
                            "Doctorate", "Development")
_OB_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DELIVERY_WORDS = {"online": "online", "in person": "in_person", "hybrid (online and in person)": "hybrid"}
_CREDIT_WORDS = {"credit-bearing": "credit", "non-credit": "non_credit"}
_DELIVERY_NODES = {node: mode for mode, (node, _label) in DELIVERY_TYPES.items()}
_SETTING = re.compile(r"^About ([0-9.]+) hours? of learning, delivered (.+); (credit-bearing|non-credit)\.$")
_HOURS = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?$")


@dataclass
class ImportedCredential:
    """A credential read from a standard document, ready for :func:`store_credential`."""

    credential: CredentialIn
    alignments: list[TagIn]
    format: str
    notes: list[str] = field(default_factory=list)  # what was read but not kept


@dataclass(frozen=True)
class CsvTag:
    """One row of the tag CSV."""

    line: int
    credential_id: int
    outcome_position: int | None
    outcome_text: str
    tag: TagIn
    state: str
    decided_by: str


# -- files ------------------------------------------------------------------------------


def read_document(path: str | Path, *, format: str = "auto", defaults: Mapping[str, Any] | None = None
                  ) -> ImportedCredential | list[CsvTag]:
    """A credential (Open Badges 3.0 or CTDL JSON) or the rows of a tag CSV, from a file."""
    path = Path(path)
    if format not in FORMATS:
        raise DocumentError(f"unknown import format {format!r}; use one of {', '.join(FORMATS)}", path=str(path))
    text = _read_text(path)
    kind = format if format != "auto" else detect_format(path, text)
    if kind == "csv":
        return parse_tags_csv(text, path=str(path))
    doc = _json(text, path)
    if kind == "openbadges":
        return parse_openbadges(doc, path=str(path), defaults=defaults)
    return parse_ctdl(doc, path=str(path), defaults=defaults)


def detect_format(path: Path, text: str) -> str:
    """'csv' for a .csv file or a text starting with the CSV header, else the JSON's standard."""
    if path.suffix.lower() == ".csv" or text.lstrip("\ufeff").startswith(",".join(COLUMNS)):
        return "csv"
    doc = _json(text, path)
    if not isinstance(doc, dict):
        raise DocumentError("expected a JSON object (an Open Badges 3.0 or CTDL document)", path=str(path))
    if "@graph" in doc or str(_first(doc.get("@type"))).startswith("ceterms:"):
        return "ctdl"
    if "type" in doc:
        return "openbadges"
    raise DocumentError("neither Open Badges 3.0 (no 'type') nor CTDL (no ceterms '@type' or '@graph')", path=str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DocumentError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"cannot read file: {exc}", path=str(path)) from None


def _json(text: str, path: Path | str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"not valid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None


# -- Open Badges 3.0 ----------------------------------------------------------------------


def parse_openbadges(doc: Any, *, path: str | None = None, defaults: Mapping[str, Any] | None = None) -> ImportedCredential:
    """An OB 3.0 Achievement or OpenBadgeCredential as a catalog credential with its alignments."""
    if not isinstance(doc, dict) or "type" not in doc:
        raise DocumentError("not an Open Badges 3.0 document: no 'type'", path=path)
    types = set(_list(doc["type"]))
    if types & OB_TYPES:
        check_openbadge_credential(doc, path=path)
        achievement = doc["credentialSubject"]["achievement"]
        issuer = _profile_name(doc.get("issuer")) or _profile_name(achievement.get("creator"))
        kind = "openbadges-credential"
    elif "Achievement" in types:
        _check_ob_context(doc, path)
        check_achievement(doc, path=path)
        achievement = doc
        issuer = _profile_name(doc.get("creator"))
        kind = "openbadges"
    else:
        raise DocumentError(
            f"not an Open Badges 3.0 Achievement or OpenBadgeCredential: type is {sorted(types)}", path=path
        )
    fields = _narrative_fields(str((achievement.get("criteria") or {}).get("narrative", "")))
    criteria_id = (achievement.get("criteria") or {}).get("id")
    data = {
        "title": achievement.get("name"),
        "issuer": issuer,
        "description": achievement.get("description"),
        "url": criteria_id if isinstance(criteria_id, str) and criteria_id.startswith(("http://", "https://")) else None,
        "language": _language(achievement.get("inLanguage")),
        **fields,
    }
    tags, notes = _ob_alignments(achievement.get("alignment") or [], kind)
    return ImportedCredential(_credential_in(data, defaults, path, kind), tags, kind, notes)


def _check_ob_context(doc: dict, path: str | None) -> None:
    contexts = _list(doc.get("@context"))
    if not any(isinstance(c, str) and _OB_CONTEXT.match(c) for c in contexts):
        raise DocumentError(f"not an Open Badges 3.0 Achievement: @context lacks {OB_CONTEXT}", path=path)


def _profile_name(profile: Any) -> str | None:
    if isinstance(profile, dict) and isinstance(profile.get("name"), str):
        return profile["name"]
    return None


def _narrative_fields(narrative: str) -> dict[str, Any]:
    """What the narrative our exporter writes states: outcomes, assessment, setting, pathways, partners."""
    out: dict[str, Any] = {}
    lines = [line.strip() for line in narrative.splitlines()]
    if lines and lines[0].startswith("Learners who earn this micro-credential"):
        out["learning_outcomes"] = [m.group(2) for m in (re.match(r"^(\d+)\. (.+)$", ln) for ln in lines) if m]
    for line in lines:
        if line.startswith("Assessment: "):
            out["assessment_type"] = line.removeprefix("Assessment: ")
        elif line.startswith("Pathways: "):
            out["stackability"] = line.removeprefix("Pathways: ")
        elif line.startswith("Endorsed by: "):
            out["endorsing_partners"] = [p.strip() for p in line.removeprefix("Endorsed by: ").rstrip(".").split(", ")]
        elif match := _SETTING.match(line):
            out["duration_hours"] = float(match.group(1))
            out["delivery_mode"] = _DELIVERY_WORDS.get(match.group(2))
            out["credit"] = _CREDIT_WORDS[match.group(3)]
    return {k: v for k, v in out.items() if v not in (None, "")}


def _ob_alignments(alignments: Sequence[Any], kind: str) -> tuple[list[TagIn], list[str]]:
    tags, notes = [], []
    for n, alignment in enumerate(alignments, 1):
        iri = alignment.get("targetUrl") if isinstance(alignment, dict) else None
        name = alignment.get("targetName") if isinstance(alignment, dict) else None
        framework_name = alignment.get("targetFramework") or ""
        evidence = {k: alignment[k] for k in ("targetFramework", "targetType", "targetCode") if alignment.get(k)}
        tag = _tag(iri, name, framework_name, {"imported_from": kind, **evidence})
        if isinstance(tag, str):
            notes.append(f"alignment #{n}: {tag}")
        else:
            tags.append(tag)
    return tags, notes


# -- CTDL ----------------------------------------------------------------------------------


def parse_ctdl(doc: Any, *, path: str | None = None, defaults: Mapping[str, Any] | None = None) -> ImportedCredential:
    """A CTDL credential (a Registry graph or one node) as a catalog credential with its alignments."""
    if not isinstance(doc, dict):
        raise DocumentError("not a CTDL document: expected a JSON object", path=path)
    nodes = doc["@graph"] if isinstance(doc.get("@graph"), list) else [doc]
    by_id = {n["@id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("@id"), str)}
    node = next((n for n in nodes if isinstance(n, dict) and _is_ctdl_credential(n.get("@type"))), None)
    if node is None:
        found = sorted({str(_first(n.get("@type"))) for n in nodes if isinstance(n, dict)})
        raise DocumentError(f"not a CTDL credential: no ceterms credential class among @type {found}", path=path)
    language = _language(_first(node.get("ceterms:inLanguage")))
    text = _Text(language)
    requires = [p for p in _list(node.get("ceterms:requires")) if isinstance(p, dict)]
    data: dict[str, Any] = {
        "title": text.one(node.get("ceterms:name")),
        "description": text.one(node.get("ceterms:description")),
        "issuer": _agent_name(node, ("ceterms:ownedBy", "ceterms:offeredBy"), by_id, text),
        "url": node.get("ceterms:subjectWebpage") if isinstance(node.get("ceterms:subjectWebpage"), str) else None,
        "language": language,
        "credit": "non_credit" if node.get("ceterms:isNonCredit") is True else "credit",
        "learning_outcomes": [o for p in requires for o in text.many(p.get("ceterms:condition"))],
        "endorsing_partners": _agent_names(node.get("ceterms:recognizedBy"), by_id, text),
    }
    duration, notes = _ctdl_duration(node.get("ceterms:estimatedDuration"))
    data["duration_hours"] = duration
    data["delivery_mode"] = _ctdl_delivery(node.get("ceterms:learningDeliveryType"))
    for profile in requires:
        description = text.one(profile.get("ceterms:description")) or ""
        if description.startswith(ASSESSMENT_PREFIX):
            data["assessment_type"] = description.removeprefix(ASSESSMENT_PREFIX)
    tags = []
    alignments = [a for p in requires for a in _list(p.get("ceterms:targetCompetency"))]
    for n, alignment in enumerate(alignments, 1):
        if not isinstance(alignment, dict):
            notes.append(f"targetCompetency #{n}: not an object")
            continue
        framework_name = text.one(alignment.get("ceterms:frameworkName")) or ""
        evidence = {"ceterms:framework": alignment.get("ceterms:framework"), "ceterms:frameworkName": framework_name}
        tag = _tag(
            alignment.get("ceterms:targetNode"),
            text.one(alignment.get("ceterms:targetNodeName")) or text.one(alignment.get("ceterms:competencyText")),
            framework_name or str(alignment.get("ceterms:framework") or ""),
            {"imported_from": "ctdl", **{k: v for k, v in evidence.items() if v}},
        )
        if isinstance(tag, str):
            notes.append(f"targetCompetency #{n}: {tag}")
        else:
            tags.append(tag)
    data = {k: v for k, v in data.items() if v not in (None, "", [])}
    return ImportedCredential(_credential_in(data, defaults, path, "ctdl"), tags, "ctdl", notes)


class _Text:
    """Reads CTDL language maps (or plain strings), preferring the credential's language."""

    def __init__(self, language: str | None) -> None:
        self.order = (language, f"{language}-US", f"{language}-CA", "en", "en-US")

    def many(self, value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for item in value for v in self.many(item)]
        if isinstance(value, dict):
            key = next((k for k in self.order if k in value), next(iter(value), None))
            return self.many(value[key]) if key is not None else []
        return []

    def one(self, value: Any) -> str | None:
        values = self.many(value)
        return values[0] if values else None


def _is_ctdl_credential(value: Any) -> bool:
    return any(
        isinstance(t, str) and t.startswith("ceterms:") and t.endswith(CTDL_CREDENTIAL_SUFFIXES) for t in _list(value)
    )


def _agent_name(node: dict, keys: Sequence[str], by_id: dict, text: _Text) -> str | None:
    for key in keys:
        names = _agent_names(node.get(key), by_id, text)
        if names:
            return names[0]
    return None


def _agent_names(value: Any, by_id: dict, text: _Text) -> list[str]:
    names = []
    for ref in _list(value):
        agent = _agent(ref, by_id)
        name = text.one(agent.get("ceterms:name")) if agent is not None else None
        if name:
            names.append(name)
    return names


def _agent(ref: Any, by_id: dict) -> dict | None:
    """An organisation named by its @id (a node of the graph) or given inline."""
    if isinstance(ref, str):
        return by_id.get(ref)
    if isinstance(ref, dict):
        return ref if "ceterms:name" in ref else by_id.get(ref.get("@id"))
    return None


def _ctdl_duration(value: Any) -> tuple[float | None, list[str]]:
    for profile in _list(value):
        exact = profile.get("ceterms:exactDuration") if isinstance(profile, dict) else None
        if isinstance(exact, str):
            match = _HOURS.match(exact)
            if match and (match.group(1) or match.group(2)):
                return float(match.group(1) or 0) + float(match.group(2) or 0) / 60, []
            return None, [f"ceterms:exactDuration {exact!r} is not in hours and minutes"]
    return None, []


def _ctdl_delivery(value: Any) -> str | None:
    modes = set()
    for concept in _list(value):
        node = concept.get("ceterms:targetNode") if isinstance(concept, dict) else concept
        if node in _DELIVERY_NODES:
            modes.add(_DELIVERY_NODES[node])
    if not modes:
        return None
    return modes.pop() if len(modes) == 1 else "hybrid"


# -- shared ----------------------------------------------------------------------------------


def framework_of(iri: str, framework_name: str) -> str:
    """The framework name a tag gets: from the IRI's namespace, else the display name."""
    for prefix, name in FRAMEWORK_PREFIXES.items():
        if iri.startswith(prefix):
            return name
    display = framework_name.strip().casefold()
    for name, title in FRAMEWORK_NAMES.items():
        if display == title.casefold() or display == name:
            return name
    slug = re.sub(r"[^a-z0-9]+", "-", display).strip("-")[:50]
    return slug or "external"


def _tag(iri: Any, name: Any, framework_name: str, evidence: dict) -> TagIn | str:
    """A TagIn, or the reason the alignment cannot become a tag."""
    if not isinstance(iri, str) or not iri.strip():
        return "no target IRI; not kept"
    label = name if isinstance(name, str) and name.strip() else iri
    try:
        return TagIn(competency_iri=iri.strip(), framework=framework_of(iri.strip(), framework_name), label=label,
                     evidence=evidence)
    except ValidationError as exc:
        return f"{iri!r}: {exc.errors()[0]['msg']}; not kept"


def _credential_in(data: dict, defaults: Mapping[str, Any] | None, path: str | None, what: str) -> CredentialIn:
    merged = {k: v for k, v in (defaults or {}).items() if v is not None}
    merged.update({k: v for k, v in data.items() if v not in (None, "")})
    for name, option in DEFAULT_OPTIONS.items():
        if name not in merged:
            raise DocumentError(f"the {_TITLES[what]} document states no {name.replace('_', ' ')}; give {option}", path=path)
    try:
        return CredentialIn.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "credential"
        raise DocumentError(f"the credential read from it is not valid: {where}: {first['msg']}", path=path) from None


_TITLES = {"openbadges": "Open Badges 3.0", "openbadges-credential": "Open Badges 3.0", "ctdl": "CTDL"}


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    primary = value.split("-")[0].lower()
    return primary if primary in ("en", "fr") else None


def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _first(value: Any) -> Any:
    items = _list(value)
    return items[0] if items else None


# -- into the catalog ---------------------------------------------------------------------------


def store_credential(catalog: Catalog, imported: ImportedCredential, *, decided_by: str) -> tuple[Credential, list[Tag]]:
    """Store the credential, then its alignments as accepted credential-level tags by `decided_by`."""
    credential = catalog.create_credential(imported.credential)
    tags = [catalog.add_manual_tag(credential.id, None, tag, decided_by=decided_by) for tag in imported.alignments]
    return credential, tags


# -- the tag CSV --------------------------------------------------------------------------------


def parse_tags_csv(text: str, *, path: str | None = None) -> list[CsvTag]:
    """The rows of a tag CSV as written by `tags_to_csv` (header checked, cells un-defused)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise DocumentError(f"not a competencymap tag CSV: the header must be {','.join(COLUMNS)}", path=path, line=1)
    rows = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(COLUMNS):
            raise DocumentError(f"expected {len(COLUMNS)} cells, found {len(cells)}", path=path, line=line)
        rows.append(_csv_row(dict(zip(COLUMNS, cells)), line, path))
    return rows


def _csv_row(row: dict[str, str], line: int, path: str | None) -> CsvTag:
    try:
        credential_id = int(row["credential_id"])
        position = int(row["outcome_position"]) if row["outcome_position"].strip() else None
        score = float(row["score"]) if row["score"].strip() else None
    except ValueError as exc:
        raise DocumentError(f"not a number: {exc}", path=path, line=line) from None
    if row["state"] not in ("suggested", "accepted", "rejected"):
        raise DocumentError(f"state must be suggested, accepted or rejected, not {row['state']!r}", path=path, line=line)
    try:
        tag = TagIn(competency_iri=row["competency_iri"], framework=row["framework"], label=_undefuse(row["label"]),
                    score=score, evidence={"imported_from": "csv"})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DocumentError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", path=path, line=line) from None
    return CsvTag(line, credential_id, position, _undefuse(row["outcome_text"]), tag, row["state"],
                  _undefuse(row["decided_by"]))


def _undefuse(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA_START else value


def apply_tags_csv(catalog: Catalog, rows: Sequence[CsvTag], *, decided_by: str, path: str | None = None,
                   credential_id: int | None = None) -> list[Tag]:
    """Apply tag rows to their credential (or `credential_id`): each row's competency is tagged on
    the outcome at its position (the text must match) and gets the row's state. All rows are
    checked before anything is written."""
    plan = []
    credentials: dict[int, Credential] = {}
    for row in rows:
        cid = credential_id if credential_id is not None else row.credential_id
        if cid not in credentials:
            credentials[cid] = catalog.get_credential(cid)
        plan.append((cid, _outcome_id(credentials[cid], row, path), row))
    out = []
    for cid, outcome_id, row in plan:
        tag = catalog.add_suggested_tags(cid, outcome_id, [row.tag])[0]
        if tag.state != row.state:
            tag = catalog.set_tag_state(tag.id, row.state, row.decided_by or decided_by)
        out.append(tag)
    return out


def _outcome_id(credential: Credential, row: CsvTag, path: str | None) -> int | None:
    if row.outcome_position is None:
        return None
    outcome = next((o for o in credential.learning_outcomes if o.position == row.outcome_position), None)
    if outcome is None:
        raise DocumentError(f"credential {credential.id} has no outcome {row.outcome_position}", path=path, line=row.line)
    if " ".join(outcome.text.split()).casefold() != " ".join(row.outcome_text.split()).casefold():
        raise DocumentError(
            f"outcome {row.outcome_position} of credential {credential.id} now reads {outcome.text!r}, "
            f"not {row.outcome_text!r}", path=path, line=row.line,
        )
    return outcome.id
