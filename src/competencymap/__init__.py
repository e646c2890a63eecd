"""competencymap: map free text onto shared competency identifiers (ESCO, Skills for Success).

    from competencymap import CompetencyMap, suggest_tags
    engine = CompetencyMap()                      # settings from the environment / competencymap.toml
    result = engine.map("Write SQL queries", ["esco", "sfs"])
    tags = suggest_tags(engine, ["Write SQL queries"], frameworks=["esco"])

The names below are the public API; everything else is internal and may change. They are
imported on first use, so `import competencymap` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from competencymap._common.config import Settings, load_settings
    from competencymap._common.errors import CompetencyMapError
    from competencymap.catalog import Catalog
    from competencymap.engine import CompetencyMap
    from competencymap.mapping.results import Evidence, MappingResult, Match, StatementResult
    from competencymap.model.framework import Competency, Framework, Level, Occupation, Relation
    from competencymap.workflows.concepts import concept_detail
    from competencymap.workflows.demand.single import demand
    from competencymap.workflows.employer_match import catalog_coverage, match_posting
    from competencymap.workflows.tagging import suggest_tags

_PUBLIC = {
    "CompetencyMap": "competencymap.engine",
    "Settings": "competencymap._common.config",
    "load_settings": "competencymap._common.config",
    "CompetencyMapError": "competencymap._common.errors",
    "Competency": "competencymap.model.framework",
    "Framework": "competencymap.model.framework",
    "Level": "competencymap.model.framework",
    "Occupation": "competencymap.model.framework",
    "Relation": "competencymap.model.framework",
    "Evidence": "competencymap.mapping.results",
    "Match": "competencymap.mapping.results",
    "MappingResult": "competencymap.mapping.results",
    "StatementResult": "competencymap.mapping.results",
    "Catalog": "competencymap.catalog",
    "suggest_tags": "competencymap.workflows.tagging",
    "match_posting": "competencymap.workflows.employer_match",
    "catalog_coverage": "competencymap.workflows.employer_match",
    "demand": "competencymap.workflows.demand.single",
    "concept_detail": "competencymap.workflows.concepts",
}
__all__ = [
    "Catalog",
    "Competency",
    "CompetencyMap",
    "CompetencyMapError",
    "Evidence",
    "Framework",
    "Level",
    "MappingResult",
    "Match",
    "Occupation",
    "Relation",
    "Settings",
    "StatementResult",
    "catalog_coverage",
    "concept_detail",
    "demand",
    "load_settings",
    "match_posting",
    "suggest_tags",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'competencymap' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
