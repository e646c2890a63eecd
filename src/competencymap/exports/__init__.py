"""Exports of catalog credentials: Open Badges 3.0 Achievements and CSV tag tables."""

from competencymap.exports.openbadges import ExportError, credential_to_achievement, target_code
from competencymap.exports.tabular import COLUMNS, tags_to_csv

__all__ = ["COLUMNS", "ExportError", "credential_to_achievement", "tags_to_csv", "target_code"]
