"""Names shared by the ESCO loaders and the RDF exporter: IRIs, namespaces, constants.

Only names live here; no behaviour beyond two tiny helpers that read ESCO IRIs.
"""

from __future__ import annotations

import re

# -- the ESCO framework as the project names it -------------------------------------------
ESCO_ID = "esco"
ESCO_TITLE = "ESCO"
ESCO_SKILLS_SCHEME = "http://data.europa.eu/esco/concept-scheme/skills"
ESCO_IRI = ESCO_SKILLS_SCHEME
ESCO_LICENCE = (
    "Commission Decision 2011/833/EU; "
    "'This service uses the ESCO classification of the European Commission.'"
)

# -- namespaces ---------------------------------------------------------------------------
ESCO = "http://data.europa.eu/esco/model#"
ESCO_DATA = "http://data.europa.eu/esco/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SKOSXL = "http://www.w3.org/2008/05/skos-xl#"
DCT = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
ISO_THES = "http://purl.org/iso25964/skos-thes#"
CM = "https://w3id.org/competencymap/vocab#"

PREFIXES = {
    "esco": ESCO,
    "skos": SKOS,
    "skosxl": SKOSXL,
    "dct": DCT,
    "rdf": RDF,
    "xsd": XSD,
    "owl": OWL,
    "iso-thes": ISO_THES,
}

# -- terms --------------------------------------------------------------------------------
RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
XSD_LANGUAGE = XSD + "language"

SKOS_CONCEPT = SKOS + "Concept"
SKOS_CONCEPT_SCHEME = SKOS + "ConceptScheme"
SKOS_PREF = SKOS + "prefLabel"
SKOS_ALT = SKOS + "altLabel"
SKOS_HIDDEN = SKOS + "hiddenLabel"
SKOS_BROADER = SKOS + "broader"
SKOS_IN_SCHEME = SKOS + "inScheme"
SKOS_NOTATION = SKOS + "notation"
SKOS_SCOPE_NOTE = SKOS + "scopeNote"
SKOS_DEFINITION = SKOS + "definition"
SKOS_TOP_CONCEPT_OF = SKOS + "topConceptOf"

SKOSXL_LABEL = SKOSXL + "Label"
SKOSXL_PREF = SKOSXL + "prefLabel"
SKOSXL_ALT = SKOSXL + "altLabel"
SKOSXL_HIDDEN = SKOSXL + "hiddenLabel"
SKOSXL_LITERAL_FORM = SKOSXL + "literalForm"

DCT_DESCRIPTION = DCT + "description"
DCT_TYPE = DCT + "type"
DCT_TITLE = DCT + "title"
DCT_IDENTIFIER = DCT + "identifier"
DCT_LICENSE = DCT + "license"
DCT_SOURCE = DCT + "source"
DCT_HAS_VERSION = DCT + "hasVersion"
OWL_VERSION_INFO = OWL + "versionInfo"
ISO_THES_STATUS = ISO_THES + "status"

ESCO_SKILL = ESCO + "Skill"
ESCO_OCCUPATION = ESCO + "Occupation"
ESCO_SKILL_GROUP = ESCO + "SkillGroup"
ESCO_ISCO_GROUP = ESCO + "ISCOGroup"
ESCO_MEMBER_CONCEPT = ESCO + "MemberConcept"
ESCO_NODE_LITERAL_CLASS = ESCO + "NodeLiteral"
ESCO_ASSOCIATION_OBJECT = ESCO + "AssociationObject"

ESCO_NODE_LITERAL = ESCO + "nodeLiteral"
ESCO_LANGUAGE = ESCO + "language"
ESCO_SKILL_TYPE = ESCO + "skillType"
ESCO_REUSE_LEVEL = ESCO + "skillReuseLevel"
ESCO_CODE = ESCO + "code"
ESCO_MEMBER_OF_ISCO_GROUP = ESCO + "memberOfISCOGroup"
ESCO_IS_ESSENTIAL_FOR = ESCO + "isEssentialSkillFor"
ESCO_IS_OPTIONAL_FOR = ESCO + "isOptionalSkillFor"
ESCO_RELATED_ESSENTIAL = ESCO + "relatedEssentialSkill"
ESCO_RELATED_OPTIONAL = ESCO + "relatedOptionalSkill"
ESCO_HAS_ESSENTIAL = ESCO + "hasEssentialSkill"  # older dumps
ESCO_HAS_OPTIONAL = ESCO + "hasOptionalSkill"  # older dumps
ESCO_IS_ASSOCIATION_FOR = ESCO + "isAssociationFor"
ESCO_TARGET = ESCO + "target"

# -- ESCO value IRIs ----------------------------------------------------------------------
SKILL_TYPE_NS = ESCO_DATA + "skill-type/"
SKILL_TYPE_SKILL = SKILL_TYPE_NS + "skill"
SKILL_TYPE_KNOWLEDGE = SKILL_TYPE_NS + "knowledge"
REUSE_LEVEL_NS = ESCO_DATA + "skill-reuse-level/"
RELATIONSHIP_TYPE_NS = ESCO_DATA + "relationship-type/"
RELATIONSHIP_ESSENTIAL = RELATIONSHIP_TYPE_NS + "essential-skill"
RELATIONSHIP_OPTIONAL = RELATIONSHIP_TYPE_NS + "optional-skill"

ISCO_NS = ESCO_DATA + "isco/"
SCHEME_NS = ESCO_DATA + "concept-scheme/"
ISCO_SCHEME = SCHEME_NS + "isco"
OCCUPATIONS_SCHEME = SCHEME_NS + "occupations"
SKILLS_HIERARCHY_SCHEME = SCHEME_NS + "skills-hierarchy"

# -- project vocabulary (see rdf_export's docstring) --------------------------------------
CM_RELATION = CM + "Relation"
CM_SOURCE = CM + "source"
CM_TARGET = CM + "target"
CM_RELATION_TYPE = CM + "relationType"
CM_SCORE = CM + "score"
CM_PROFICIENCY_LEVEL = CM + "ProficiencyLevel"
CM_LEVEL_OF = CM + "levelOf"
CM_RANK = CM + "rank"
CM_KIND = CM + "kind"
CM_STATUS = CM + "status"
CM_REUSE_LEVEL = CM + "reuseLevel"
CM_OCCUPATION = CM + "Occupation"
CM_ISCO_GROUP = CM + "iscoGroup"
CM_LANGUAGE = CM + "language"

_VERSION = re.compile(r"v(\d+(?:\.\d+)+)", re.IGNORECASE)


def version_in_name(name: str) -> str:
    """The release version written in a file name ('esco-v1.1.1-...zip' -> '1.1.1'), or ''."""
    found = _VERSION.search(name)
    return found.group(1) if found else ""


def last_segment(value: str) -> str:
    """The text after the last '/' (an ESCO value IRI's local name), stripped."""
    return value.rstrip("/").rsplit("/", 1)[-1].strip()
