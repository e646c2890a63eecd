"""A catalog credential as CTDL (Credential Engine's Credential Transparency Description Language).

The document is a JSON-LD graph as the Credential Registry serves one (``@context`` the CTDL
context, ``@graph`` with the credential and the blank-node organisations it names). Choices,
following Credential Engine's public terms (see docs/standards.md for the sources):

* The credential class is ``ceterms:MicroCredential``; its ``ceterms:ctid`` is ``ce-`` plus the
  credential's public uid, and its ``@id`` the Registry resource URI that CTID would get.
* Its competencies are ``ceterms:CredentialAlignmentObject`` nodes (``targetNode`` = the
  competency IRI, ``targetNodeName``, ``framework`` = the concept scheme IRI, ``frameworkName``,
  ``codedNotation``, the concept's code such as ``digital.c5``) under ``ceterms:targetCompetency`` of a ``ceterms:ConditionProfile`` in
  ``ceterms:requires``: CTDL states what a credential requires of its earners this way
  (``ceterms:teaches`` is the learning-opportunity property). The same profile lists the
  learning outcomes as ``ceterms:condition`` and the assessment in its description.
* Issuer: ``ceterms:ownedBy`` and ``ceterms:offeredBy`` a ``ceterms:CredentialOrganization``;
  endorsing partners: ``ceterms:recognizedBy``. Duration: ``ceterms:estimatedDuration`` with an
  ISO 8601 ``exactDuration``; delivery: ``ceterms:learningDeliveryType`` (``deliveryType:``
  concepts); non-credit: ``ceterms:isNonCredit``; status: ``credentialStat:Active``.
* Text is a language map keyed by the credential's language. CTDL has no plain-text property
  for stackability on a credential, so pathway notes are not exported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from competencymap.catalog.schemas import Credential, Tag
from competencymap.exports.ids import credential_uuid, stable_uuid
from competencymap.exports.openbadges import FRAMEWORK_NAMES, accepted_unique, concept_code

CTDL_CONTEXT = "https://credreg.net/ctdl/schema/context/json"
REGISTRY = "https://credentialengineregistry.org"
CREDENTIAL_TYPE = "ceterms:MicroCredential"
ALIGNMENT = "ceterms:CredentialAlignmentObject"
ORGANIZATION = "ceterms:CredentialOrganization"
REQUIREMENTS_NAME = "Requirements"
ASSESSMENT_PREFIX = "Assessment: "

# The concept scheme of each bundled framework (ceterms:framework of an alignment).
FRAMEWORK_IRIS = {
    "esco": "http://data.europa.eu/esco/concept-scheme/skills",
    "sfs": "https://w3id.org/competencymap/sfs/",
    "essential-skills": "https://w3id.org/competencymap/essential-skills/",
}
DELIVERY_TYPES = {
    "online": ("deliveryType:OnlineOnly", "Online Only"),
    "in_person": ("deliveryType:InPerson", "In-Person Only"),
    "hybrid": ("deliveryType:BlendedDelivery", "Blended Delivery"),
}
DELIVERY_SCHEME = ("https://credreg.net/ctdl/terms/Delivery", "Delivery Type")
STATUS_SCHEME = ("https://credreg.net/ctdl/terms/CredentialStatus", "Credential Status")


def credential_to_ctdl(
    credential: Credential,
    accepted_tags: Sequence[Tag],
    *,
    framework_names: Mapping[str, str] | None = None,
    framework_iris: Mapping[str, str] | None = None,
) -> dict:
    """The credential as a CTDL JSON-LD graph with one alignment per accepted competency."""
    lang = credential.language
    names = {**FRAMEWORK_NAMES, **(framework_names or {})}
    iris = {**FRAMEWORK_IRIS, **(framework_iris or {})}
    tags = accepted_unique(credential, accepted_tags)
    ctid = ctid_of(credential)
    owner = _organization(credential.issuer, lang)
    partners = [_organization(name, lang) for name in credential.endorsing_partners]
    node: dict = {
        "@id": f"{REGISTRY}/resources/{ctid}",
        "@type": CREDENTIAL_TYPE,
        "ceterms:ctid": ctid,
        "ceterms:name": {lang: credential.title},
        "ceterms:description": {lang: credential.description},
        "ceterms:inLanguage": [lang],
        "ceterms:credentialStatusType": _concept(STATUS_SCHEME, "credentialStat:Active", "Active", lang),
        "ceterms:ownedBy": [owner["@id"]],
        "ceterms:offeredBy": [owner["@id"]],
        "ceterms:estimatedDuration": [
            {"@type": "ceterms:DurationProfile", "ceterms:exactDuration": iso_hours(credential.duration_hours)}
        ],
        "ceterms:learningDeliveryType": [_concept(DELIVERY_SCHEME, *DELIVERY_TYPES[credential.delivery_mode], lang)],
        "ceterms:isNonCredit": credential.credit == "non_credit",
        "ceterms:requires": [_requirements(credential, tags, names, iris)],
    }
    if credential.url:
        node["ceterms:subjectWebpage"] = credential.url
    if partners:
        node["ceterms:recognizedBy"] = [p["@id"] for p in partners]
    keywords = list(dict.fromkeys(tag.label for tag in tags))
    if keywords:
        node["ceterms:keyword"] = {lang: keywords}
    return {
        "@context": CTDL_CONTEXT,
        "@id": f"{REGISTRY}/graph/{ctid}",
        "@graph": [node, owner, *[p for p in partners if p["@id"] != owner["@id"]]],
    }


def ctid_of(credential: Credential) -> str:
    """The credential's CTID: ``ce-`` and its public uid."""
    return f"ce-{credential_uuid(credential)}"


def iso_hours(hours: float) -> str:
    """Hours as an ISO 8601 duration: 42 -> PT42H, 1.5 -> PT1H30M."""
    whole = math.floor(hours)
    minutes = round((hours - whole) * 60)
    if minutes == 60:
        whole, minutes = whole + 1, 0
    text = "PT"
    if whole:
        text += f"{whole}H"
    if minutes or not whole:
        text += f"{minutes}M"
    return text


def _requirements(credential: Credential, tags: Sequence[Tag], names: Mapping[str, str], iris: Mapping[str, str]) -> dict:
    lang = credential.language
    profile: dict = {
        "@type": "ceterms:ConditionProfile",
        "ceterms:name": {lang: REQUIREMENTS_NAME},
        "ceterms:description": {lang: ASSESSMENT_PREFIX + credential.assessment_type},
    }
    if credential.learning_outcomes:
        profile["ceterms:condition"] = {lang: [o.text for o in credential.learning_outcomes]}
    if tags:
        profile["ceterms:targetCompetency"] = [_alignment(tag, names, iris, lang) for tag in tags]
    return profile


def _alignment(tag: Tag, names: Mapping[str, str], iris: Mapping[str, str], lang: str) -> dict:
    alignment: dict = {
        "@type": ALIGNMENT,
        "ceterms:targetNode": tag.competency_iri,
        "ceterms:targetNodeName": {lang: tag.label},
        "ceterms:codedNotation": concept_code(tag.competency_iri),
        "ceterms:frameworkName": {lang: names.get(tag.framework, tag.framework)},
    }
    if tag.framework in iris:
        alignment["ceterms:framework"] = iris[tag.framework]
    return alignment


def _concept(scheme: tuple[str, str], node: str, label: str, lang: str) -> dict:
    return {
        "@type": ALIGNMENT,
        "ceterms:framework": scheme[0],
        "ceterms:frameworkName": {lang: scheme[1]},
        "ceterms:targetNode": node,
        "ceterms:targetNodeName": {lang: label},
    }


def _organization(name: str, lang: str) -> dict:
    return {"@id": f"_:{stable_uuid('organization', name)}", "@type": ORGANIZATION, "ceterms:name": {lang: name}}
