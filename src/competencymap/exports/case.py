"""A framework as a CASE 1.1 CFPackage (1EdTech Competencies and Academic Standards Exchange).

* ``CFDocument``: the framework (creator, title, version, language, official source, licence).
* ``CFItems``: every skill and component (``CFItemType`` "Skill" or "Component", with a
  ``CFItemTypeURI`` into ``CFDefinitions.CFItemTypes``) and every proficiency level
  ("Proficiency level").
* ``CFAssociations``: ``isChildOf`` from each component to its skill and from each skill to the
  document, ``hasSkillLevel`` from a skill to each of its levels, and, when a crosswalk is given,
  one association per scored SKOS mapping from a concept of another framework (origin, an
  external node) to a skill of this one (destination): ``exactMatchOf`` for ``closeMatch``,
  ``isRelatedTo`` for ``relatedMatch``, with the SKOS relation and its cosine in ``notes`` and
  ``extensions``. CASE has no "close" match: ``exactMatchOf`` overstates a computed closeMatch,
  which the notes say.

Identifiers are UUIDs derived from IRIs, so the same framework always gives the same package.
URIs: with `base_url` (a CASE service root such as ``https://host/ims/case/v1p1``) every object
gets its REST URI; without it items and the document keep their own IRIs and associations get
``urn:uuid`` URIs (item types and the licence, which live in ``CFDefinitions``, always do). :class:`CaseIndex` serves a package object by object, as the CASE REST paths do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from competencymap.catalog import NotFound
from competencymap.exports.ids import stable_uuid
from competencymap.exports.openbadges import (
    DEFAULT_TARGET_TYPE,
    PATH_CODED_SCHEMES,
    TARGET_TYPES,
    concept_code,
    target_code,
)
from competencymap.frameworks.sssom import Mapping
from competencymap.model.framework import KIND_COMPONENT, Competency, Framework, Level, Relation

CASE_VERSION = "1.1"
ESCO = "http://data.europa.eu/esco/"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ASSOCIATION_TYPES = {"closeMatch": "exactMatchOf", "exactMatch": "exactMatchOf", "relatedMatch": "isRelatedTo"}
# CASE has no broader-match association: an authored skos:broadMatch is written isRelatedTo, its
# SKOS relation kept in the association's extensions.
AUTHORED_ASSOCIATION_TYPES = {**ASSOCIATION_TYPES, "broadMatch": "isRelatedTo", "narrowMatch": "isRelatedTo"}
MANUAL = "semapv:ManualMappingCuration"
COMPUTED = "semapv:SemanticSimilarityThresholdMatching"
CREATORS = {
    "sfs": "Employment and Social Development Canada (ESDC), Office of Skills for Success",
    "essential-skills": "Employment and Social Development Canada (ESDC)",
}
PUBLISHER = "competencymap project (unofficial machine-readable rendering)"
SKILL, COMPONENT, LEVEL = "Skill", "Component", "Proficiency level"
ITEM_TYPE_TEXT = {
    SKILL: "A skill of the framework.",
    COMPONENT: "A component: one part of a skill.",
    LEVEL: "A proficiency level of a skill.",
}


class CaseNotFound(NotFound):
    """A CASE identifier that no served package holds (HTTP 404)."""


class _Uris:
    def __init__(self, base_url: str | None) -> None:
        self.base = base_url.rstrip("/") if base_url else None

    def of(self, kind: str, identifier: str, own: str | None = None) -> str:
        if self.base:
            return f"{self.base}/{kind}/{identifier}"
        return own or f"urn:uuid:{identifier}"


def document_id(framework: Framework) -> str:
    """The CFDocument (and CFPackage) identifier of a framework."""
    return str(stable_uuid("case", "document", framework.iri))


def item_id(iri: str) -> str:
    return str(stable_uuid("case", "item", iri))


def framework_to_cfpackage(
    framework: Framework,
    *,
    crosswalk: Iterable[Relation] = (),
    crosswalk_source: Framework | None = None,
    authored: Iterable[Mapping] = (),
    base_url: str | None = None,
    last_change: datetime | None = None,
) -> dict:
    """The framework as a CFPackage; `crosswalk` relations (computed, from `crosswalk_source`
    concepts to this framework's skills) and `authored` mappings (curated, from another framework's
    groups and concepts to this framework's skills and components) are added as CFAssociations."""
    when = _timestamp(last_change)
    uris = _Uris(base_url)
    doc_id = document_id(framework)
    types = _item_types(framework, when)
    document = _document(framework, doc_id, uris, when)
    skills = [c for c in framework.competencies.values() if not c.is_group and c.kind != KIND_COMPONENT]
    items: list[dict] = []
    associations: list[dict] = []
    doc_link = {"title": framework.title, "identifier": doc_id, "uri": document["uri"]}
    for position, skill in enumerate(skills, 1):
        items.append(_item(skill, SKILL, position, framework, types, uris, when))
        associations.append(_association("isChildOf", _link(items[-1]), doc_link, position, uris, when))
        components = [c for c in framework.competencies.values() if c.kind == KIND_COMPONENT and skill.iri in c.broader]
        for number, component in enumerate(components, 1):
            items.append(_item(component, COMPONENT, number, framework, types, uris, when))
            associations.append(_association("isChildOf", _link(items[-1]), _link(items[-1 - number]), number, uris, when))
        skill_item = items[-1 - len(components)]
        for level in sorted((lv for lv in framework.levels if lv.competency == skill.iri), key=lambda lv: lv.rank):
            items.append(_level_item(level, framework, types, uris, when))
            associations.append(_association("hasSkillLevel", _link(skill_item), _link(items[-1]), level.rank, uris, when))
    by_iri = {item["_iri"]: item for item in items}
    associations += _crosswalk_associations(crosswalk, crosswalk_source, by_iri, uris, when)
    associations += _authored_associations(authored, by_iri, uris, when)
    for item in items:
        del item["_iri"]
    definitions: dict = {"CFItemTypes": list(types.values())}
    if framework.licence:
        definitions["CFLicenses"] = [_license(framework, when)]
        document["licenseURI"] = _link_uri(definitions["CFLicenses"][0])
    return {"CFDocument": document, "CFItems": items, "CFAssociations": associations, "CFDefinitions": definitions}


def _timestamp(when: datetime | None) -> str:
    moment = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _document(framework: Framework, doc_id: str, uris: _Uris, when: str) -> dict:
    document: dict = {
        "identifier": doc_id,
        "uri": uris.of("CFDocuments", doc_id, framework.iri),
        "caseVersion": CASE_VERSION,
        "creator": CREATORS.get(framework.id, framework.title),
        "title": framework.title,
        "lastChangeDateTime": when,
        "publisher": PUBLISHER,
        "language": framework.language,
        "adoptionStatus": "Draft",
    }
    if framework.source.startswith(("http://", "https://")):
        document["officialSourceURL"] = framework.source
    if framework.version:
        document["version"] = framework.version
    document["notes"] = f"Framework '{framework.id}', concept scheme {framework.iri}, as a CASE {CASE_VERSION} package."
    return document


def _item_types(framework: Framework, when: str) -> dict[str, dict]:
    wanted = [SKILL]
    if any(c.kind == KIND_COMPONENT for c in framework.competencies.values()):
        wanted.append(COMPONENT)
    if framework.levels:
        wanted.append(LEVEL)
    out = {}
    for code, title in enumerate(wanted, 1):
        identifier = str(stable_uuid("case", "item-type", framework.iri, title))
        out[title] = {
            "identifier": identifier,
            "uri": f"urn:uuid:{identifier}",
            "title": title,
            "description": ITEM_TYPE_TEXT[title],
            "hierarchyCode": str(code),
            "typeCode": title.lower().replace(" ", "-"),
            "lastChangeDateTime": when,
        }
    return out


def _license(framework: Framework, when: str) -> dict:
    identifier = str(stable_uuid("case", "licence", framework.iri))
    return {
        "identifier": identifier,
        "uri": f"urn:uuid:{identifier}",
        "title": f"{framework.title}: licence and terms",
        "licenseText": framework.licence,
        "lastChangeDateTime": when,
    }


def _item(
    concept: Competency, kind: str, position: int, framework: Framework, types: dict, uris: _Uris, when: str
) -> dict:
    identifier = item_id(concept.iri)
    item: dict = {
        "identifier": identifier,
        "uri": uris.of("CFItems", identifier, concept.iri),
        "fullStatement": concept.description or concept.pref_label,
        "humanCodingScheme": concept.code or _local_code(concept.iri, framework.iri),
        "listEnumeration": str(position),
        "CFItemType": kind,
        "CFItemTypeURI": _link_uri(types[kind]),
        "language": framework.language,
        "lastChangeDateTime": when,
        "_iri": concept.iri,
    }
    if concept.description:
        item["abbreviatedStatement"] = concept.pref_label
    if concept.alt_labels:
        item["conceptKeywords"] = list(concept.alt_labels)
    if concept.scope_note:
        item["notes"] = concept.scope_note
    return item


def _level_item(level: Level, framework: Framework, types: dict, uris: _Uris, when: str) -> dict:
    identifier = item_id(level.iri)
    return {
        "identifier": identifier,
        "uri": uris.of("CFItems", identifier, level.iri),
        "fullStatement": level.description or level.label,
        "abbreviatedStatement": level.label,
        "humanCodingScheme": _local_code(level.iri, framework.iri),
        "listEnumeration": str(level.rank),
        "CFItemType": LEVEL,
        "CFItemTypeURI": _link_uri(types[LEVEL]),
        "language": framework.language,
        "lastChangeDateTime": when,
        "_iri": level.iri,
    }


def _local_code(iri: str, scheme: str) -> str:
    """A concept's or level's code when the framework gives it none: for Skills for Success
    the same dotted code as its notation (``reading.level.2``), else its path under the scheme."""
    if iri.startswith(PATH_CODED_SCHEMES):
        return concept_code(iri)
    if iri.startswith(scheme) and len(iri) > len(scheme):
        return iri[len(scheme):].strip("/#")
    return target_code(iri)


def _link(item: dict) -> dict:
    return {"title": item.get("abbreviatedStatement") or item["fullStatement"], "identifier": item["identifier"], "uri": item["uri"]}


def _link_uri(obj: dict) -> dict:
    return {"title": obj["title"], "identifier": obj["identifier"], "uri": obj["uri"]}


def _association(
    kind: str, origin: dict, destination: dict, sequence: int | None, uris: _Uris, when: str, **extra: object
) -> dict:
    identifier = str(stable_uuid("case", "association", kind, origin["identifier"], destination["identifier"]))
    association: dict = {
        "identifier": identifier,
        "associationType": kind,
        "uri": uris.of("CFAssociations", identifier),
        "originNodeURI": origin,
        "destinationNodeURI": destination,
        "lastChangeDateTime": when,
    }
    if sequence is not None:
        association["sequenceNumber"] = sequence
    association.update(extra)
    return association


def _crosswalk_associations(
    relations: Iterable[Relation], source: Framework | None, by_iri: dict[str, dict], uris: _Uris, when: str
) -> list[dict]:
    out = []
    for relation in relations:
        kind = ASSOCIATION_TYPES.get(relation.type)
        target = by_iri.get(relation.target)
        if kind is None or target is None:
            continue
        concept = source.concept(relation.source) if source is not None else None
        origin = {
            "title": concept.pref_label if concept is not None else target_code(relation.source),
            "identifier": _external_id(relation.source),
            "uri": relation.source,
            "targetType": TARGET_TYPES.get(source.id if source else "", DEFAULT_TARGET_TYPE),
        }
        destination = {**_link(target), "targetType": "CASE"}
        score = relation.score
        note = f"Computed crosswalk (competencymap, {COMPUTED}): skos:{relation.type}"
        note += f", cosine {score:.4f}." if score is not None else "."
        if kind == "exactMatchOf" and relation.type != "exactMatch":
            note += " CASE has no close match; exactMatchOf stands for skos:closeMatch here."
        out.append(
            _association(
                kind, origin, destination, None, uris, when,
                notes=note, extensions={"skosMatch": f"skos:{relation.type}", "score": score,
                                        "mappingJustification": COMPUTED},
            )
        )
    return out


def _authored_associations(mappings: Iterable[Mapping], by_iri: dict[str, dict], uris: _Uris, when: str) -> list[dict]:
    """One association per curated mapping whose object is an item of the package; its note is the
    mapping's justification. Identifiers differ from a computed association between the same ends."""
    out = []
    for mapping in mappings:
        kind = AUTHORED_ASSOCIATION_TYPES.get(mapping.predicate)
        target = by_iri.get(mapping.object)
        if kind is None or target is None:
            continue
        origin = {"title": mapping.subject_label, "identifier": _external_id(mapping.subject), "uri": mapping.subject,
                  "targetType": TARGET_TYPES["esco"] if mapping.subject.startswith(ESCO) else DEFAULT_TARGET_TYPE}
        destination = {**_link(target), "targetType": "CASE"}
        association = _association(
            kind, origin, destination, None, uris, when,
            notes=f"Authored crosswalk (competencymap, {MANUAL}): skos:{mapping.predicate}. {mapping.comment}".strip(),
            extensions={"skosMatch": f"skos:{mapping.predicate}", "mappingJustification": MANUAL,
                        "author": mapping.author, "mappingDate": mapping.date},
        )
        identifier = str(stable_uuid("case", "association", "authored", kind, origin["identifier"], destination["identifier"]))
        out.append({**association, "identifier": identifier, "uri": uris.of("CFAssociations", identifier)})
    return out


def _external_id(iri: str) -> str:
    """An external node's identifier: the UUID that ends its IRI (as ESCO's do), else the IRI."""
    code = target_code(iri)
    return code if _UUID.match(code) else iri


class CaseIndex:
    """CFPackages served object by object, as the CASE 1.1 REST paths answer them."""

    def __init__(self, packages: Sequence[dict], base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.packages = {p["CFDocument"]["identifier"]: p for p in packages}
        self.items: dict[str, tuple[str, dict]] = {}
        self.associations: dict[str, tuple[str, dict]] = {}
        self.by_item: dict[str, list[dict]] = {}
        for doc_id, package in self.packages.items():
            for item in package.get("CFItems", []):
                self.items[item["identifier"]] = (doc_id, item)
            for association in package.get("CFAssociations", []):
                self.associations[association["identifier"]] = (doc_id, association)
                for end in ("originNodeURI", "destinationNodeURI"):
                    self.by_item.setdefault(association[end]["identifier"], []).append(association)

    def package(self, identifier: str) -> dict:
        if identifier not in self.packages:
            raise CaseNotFound(f"no CFPackage {identifier}")
        return self.packages[identifier]

    def documents(self) -> list[dict]:
        return [self.document(identifier) for identifier in self.packages]

    def document(self, identifier: str) -> dict:
        document = dict(self.package(identifier)["CFDocument"])
        document["CFPackageURI"] = {
            "title": document["title"],
            "identifier": identifier,
            "uri": f"{self.base}/CFPackages/{identifier}",
        }
        return document

    def item(self, identifier: str) -> dict:
        if identifier not in self.items:
            raise CaseNotFound(f"no CFItem {identifier}")
        doc_id, item = self.items[identifier]
        return {**item, "CFDocumentURI": self._document_link(doc_id)}

    def association(self, identifier: str) -> dict:
        if identifier not in self.associations:
            raise CaseNotFound(f"no CFAssociation {identifier}")
        doc_id, association = self.associations[identifier]
        return {**association, "CFDocumentURI": self._document_link(doc_id)}

    def item_associations(self, identifier: str) -> dict:
        item = self.item(identifier)
        links = [self.association(a["identifier"]) for a in self.by_item.get(identifier, [])]
        return {"CFItem": item, "CFAssociations": links}

    def _document_link(self, doc_id: str) -> dict:
        document = self.packages[doc_id]["CFDocument"]
        return {"title": document["title"], "identifier": doc_id, "uri": document["uri"]}
