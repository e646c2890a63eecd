"""A catalog credential as an Open Badges 3.0 Achievement (JSON-LD).

The Achievement describes the micro-credential itself (what a badge would be
awarded for), not an award to a person, so it carries no recipient and no
proof. Choices, checked against the OB 3.0 data model and its 3.0.3 JSON-LD
context:

* ``achievementType`` is ``"MicroCredential"``, a value of OB 3.0's
  AchievementType enumeration.
* Each accepted competency becomes one ``Alignment``. OB 3.0's
  AlignmentTargetType enumeration names targets published in particular systems:
  ``ceasn:Competency`` and ``CTDL`` (Credential Engine's CTDL/CTDL-ASN),
  ``CFItem``/``CFRubric...`` (1EdTech CASE), ``ceterms:Credential``. ESCO and
  Skills for Success concepts are SKOS concepts published in none of them, so
  claiming one of those types would mislead a consumer that dereferences the
  target expecting CTDL or CASE. The enumeration is extensible with terms of the
  form ``ext:Name``; we use ``ext:ESCOSkill``, ``ext:SkillsForSuccessSkill``,
  ``ext:EssentialSkill`` and ``ext:SKOSConcept`` for any other framework.
* ``targetCode`` is the concept's code (:func:`concept_code`): ``digital.c5`` for a Skills for
  Success component, the UUID at the end of the IRI for ESCO.
* OB 3.0 Achievements have no creation time, duration or delivery mode
  property in the 3.0.3 context (and the context is ``@protected``), so these are
  not invented as top-level terms: duration, delivery, credit and assessment are
  stated in ``criteria.narrative`` (in a fixed form that
  :mod:`competencymap.exports.readers` reads back), the language is
  ``inLanguage`` and the last update time is given as ``version``.
* The achievement id is ``urn:uuid:<uid>`` from the credential's public uid (see
  :func:`competencymap.exports.ids.credential_uuid`).

:func:`credential_to_openbadge_credential` wraps the Achievement in an unsigned
``OpenBadgeCredential`` template: no recipient and no proof, for an issuing
platform to complete, sign and award. It validates against the official OB 3.0
JSON schema bundled in data/standards/.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC
from urllib.parse import urlsplit

from competencymap._common.errors import CompetencyMapError
from competencymap.catalog.schemas import Credential, Tag
from competencymap.exports.ids import credential_uuid, stable_uuid

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
ACHIEVEMENT_TYPE = "MicroCredential"

FRAMEWORK_NAMES = {
    "esco": "ESCO",
    "sfs": "Skills for Success",
    "essential-skills": "Essential Skills",
}
TARGET_TYPES = {
    "esco": "ext:ESCOSkill",
    "sfs": "ext:SkillsForSuccessSkill",
    "essential-skills": "ext:EssentialSkill",
}
DEFAULT_TARGET_TYPE = "ext:SKOSConcept"
# Concept schemes whose concept IRIs are paths under the scheme IRI and whose codes
# (skos:notation in the bundled file) are those paths with dots: ".../sfs/digital/c5" is
# "digital.c5". See data/skills_for_success/README.md, "Identifiers and codes".
PATH_CODED_SCHEMES = ("https://w3id.org/competencymap/sfs/",)

_DELIVERY = {"online": "online", "in_person": "in person", "hybrid": "hybrid (online and in person)"}
_CREDIT = {"credit": "credit-bearing", "non_credit": "non-credit"}


class ExportError(CompetencyMapError):
    """Export input that cannot be turned into a valid document."""


def credential_to_achievement(
    credential: Credential,
    accepted_tags: Sequence[Tag],
    *,
    issuer_url: str | None = None,
    framework_names: Mapping[str, str] | None = None,
) -> dict:
    """The credential as an OB 3.0 Achievement with one alignment per accepted competency.

    `issuer_url` (http or https), when given, identifies the issuer profile and
    prefixes the achievement id (``{issuer_url}/achievements/{id}``); otherwise
    both get stable ``urn:uuid`` ids. `framework_names` overrides the display
    names used in ``targetFramework`` (e.g. ``{"esco": "ESCO v1.1.1"}``).
    Tags must belong to the credential and be accepted; the same competency
    accepted on several outcomes is aligned once.
    """
    base = _issuer_base(issuer_url)
    names = {**FRAMEWORK_NAMES, **(framework_names or {})}
    tags = accepted_unique(credential, accepted_tags)
    achievement: dict = {
        "@context": [OB_CONTEXT],
        "id": _achievement_id(credential, base),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": credential.title,
        "description": credential.description,
        "criteria": _criteria(credential),
        "creator": _creator(credential, base),
    }
    if tags:
        achievement["alignment"] = [_alignment(tag, names) for tag in tags]
    keywords = _keywords(credential, tags)
    if keywords:
        achievement["tag"] = keywords
    achievement["inLanguage"] = credential.language
    achievement["version"] = credential.updated_at.isoformat()
    return achievement


def credential_to_openbadge_credential(
    credential: Credential,
    accepted_tags: Sequence[Tag],
    *,
    issuer_url: str | None = None,
    framework_names: Mapping[str, str] | None = None,
) -> dict:
    """An unsigned OB 3.0 ``OpenBadgeCredential`` template carrying the Achievement.

    It has no recipient (``credentialSubject`` has no ``id`` or ``identifier``) and no
    ``proof``: an issuing platform adds the learner, signs it and awards it. ``validFrom``
    is the credential's last update time; the issuer is the achievement's creator.
    """
    achievement = credential_to_achievement(
        credential, accepted_tags, issuer_url=issuer_url, framework_names=framework_names
    )
    del achievement["@context"]
    issuer = dict(achievement["creator"])
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{stable_uuid('openbadge-credential', achievement['id'])}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": credential.title,
        "description": credential.description,
        "issuer": issuer,
        "validFrom": credential.updated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": achievement},
    }


def concept_code(iri: str) -> str:
    """The code a platform can show for a concept, unique within its framework.

    For Skills for Success it is the concept's skos:notation (``digital``, ``digital.c5``,
    ``reading.level.2``), derived from the IRI so that exports need no loaded framework;
    for any other framework, the identifier at the end of the IRI (:func:`target_code`).
    """
    for scheme in PATH_CODED_SCHEMES:
        if iri.startswith(scheme) and len(iri) > len(scheme):
            return iri[len(scheme):].strip("/").replace("/", ".")
    return target_code(iri)


def target_code(iri: str) -> str:
    """The identifier at the end of an IRI: its fragment, else its last path (or URN) segment."""
    parts = urlsplit(iri)
    if parts.fragment:
        return parts.fragment
    separators = "/" if parts.netloc else "/:"
    segments = [s for s in re.split(f"[{separators}]", parts.path) if s]
    return segments[-1] if segments else iri


def _issuer_base(issuer_url: str | None) -> str | None:
    if issuer_url is None:
        return None
    parts = urlsplit(issuer_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in issuer_url.strip()):
        raise ExportError(f"issuer_url must be an http(s) URL, not {issuer_url!r}")
    return issuer_url.strip().rstrip("/")


def _achievement_id(credential: Credential, base: str | None) -> str:
    if base:
        return f"{base}/achievements/{credential.id}"
    return f"urn:uuid:{credential_uuid(credential)}"


def issuer_profile_id(issuer: str) -> str:
    """The stable urn:uuid of an issuer named `issuer` (used when no issuer URL is given)."""
    return f"urn:uuid:{stable_uuid('issuer', issuer)}"


def _creator(credential: Credential, base: str | None) -> dict:
    profile_id = base or issuer_profile_id(credential.issuer)
    return {"id": profile_id, "type": ["Profile"], "name": credential.issuer}


def _criteria(credential: Credential) -> dict:
    criteria: dict = {"narrative": _narrative(credential)}
    if credential.url:
        criteria["id"] = credential.url
    return criteria


def _narrative(credential: Credential) -> str:
    """Markdown: the outcomes a learner must demonstrate, then how and in what setting."""
    lines = []
    if credential.learning_outcomes:
        lines.append("Learners who earn this micro-credential have demonstrated that they can:")
        lines.append("")
        lines += [f"{o.position}. {o.text}" for o in credential.learning_outcomes]
        lines.append("")
    lines.append(f"Assessment: {_sentence(credential.assessment_type)}")
    lines.append(
        f"About {_hours(credential.duration_hours)} of learning, delivered {_DELIVERY[credential.delivery_mode]}; "
        f"{_CREDIT[credential.credit]}."
    )
    if credential.stackability:
        lines += ["", f"Pathways: {_sentence(credential.stackability)}"]
    if credential.endorsing_partners:
        lines += ["", f"Endorsed by: {', '.join(credential.endorsing_partners)}."]
    return "\n".join(lines)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _hours(hours: float) -> str:
    text = f"{hours:g}"
    return f"{text} hour" if text == "1" else f"{text} hours"


def accepted_unique(credential: Credential, tags: Sequence[Tag]) -> list[Tag]:
    """The credential's tags, one per competency; an error for a tag of another credential or
    one not accepted."""
    unique: dict[str, Tag] = {}
    for tag in tags:
        if tag.credential_id != credential.id:
            raise ExportError(f"tag {tag.id} belongs to credential {tag.credential_id}, not {credential.id}")
        if tag.state != "accepted":
            raise ExportError(f"tag {tag.id} is {tag.state}; only accepted tags are exported as alignments")
        unique.setdefault(tag.competency_iri, tag)
    return list(unique.values())


def _alignment(tag: Tag, names: Mapping[str, str]) -> dict:
    return {
        "type": ["Alignment"],
        "targetName": tag.label,
        "targetUrl": tag.competency_iri,
        "targetCode": concept_code(tag.competency_iri),
        "targetFramework": names.get(tag.framework, tag.framework),
        "targetType": TARGET_TYPES.get(tag.framework, DEFAULT_TARGET_TYPE),
    }


def _keywords(credential: Credential, tags: Sequence[Tag]) -> list[str]:
    words = ["micro-credential", _DELIVERY[credential.delivery_mode].split(" (")[0], _CREDIT[credential.credit]]
    words += [tag.label for tag in tags]
    return list(dict.fromkeys(words))
