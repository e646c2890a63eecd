"""Exports and imports in the standards credential and competency platforms read.

Open Badges 3.0 (Achievement, unsigned OpenBadgeCredential), CTDL JSON-LD, CASE 1.1 packages,
SSSOM/SKOS crosswalks, the CSV of tags, and readers for Open Badges, CTDL and that CSV.
"""

from competencymap.exports.case import CaseIndex, framework_to_cfpackage
from competencymap.exports.ctdl import credential_to_ctdl
from competencymap.exports.openbadges import (
    ExportError,
    credential_to_achievement,
    credential_to_openbadge_credential,
    target_code,
)
from competencymap.exports.readers import ImportedCredential, apply_tags_csv, read_document, store_credential
from competencymap.exports.schemas import DocumentError
from competencymap.exports.sssom import Crosswalk, to_json, to_skos_turtle, to_sssom_tsv
from competencymap.exports.tabular import COLUMNS, tags_to_csv

__all__ = [
    "COLUMNS",
    "CaseIndex",
    "Crosswalk",
    "DocumentError",
    "ExportError",
    "ImportedCredential",
    "apply_tags_csv",
    "credential_to_achievement",
    "credential_to_ctdl",
    "credential_to_openbadge_credential",
    "framework_to_cfpackage",
    "read_document",
    "store_credential",
    "tags_to_csv",
    "target_code",
    "to_json",
    "to_skos_turtle",
    "to_sssom_tsv",
]
