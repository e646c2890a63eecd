"""competencymap: map free text onto shared competency identifiers (ESCO, Skills for Success).

    from competencymap import CompetencyMap
    app = CompetencyMap()                       # settings from the environment / competencymap.toml
    result = app.map("Write SQL queries", ["esco", "sfs"])
"""

from typing import TYPE_CHECKING, Any

from competencymap.model.framework import Competency, Framework, Level, Occupation, Relation

if TYPE_CHECKING:
    from competencymap.engine import CompetencyMap

__all__ = ["CompetencyMap", "Competency", "Framework", "Level", "Occupation", "Relation"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # `CompetencyMap` is imported on first use: `import competencymap` stays light.
    if name == "CompetencyMap":
        from competencymap.engine import CompetencyMap

        return CompetencyMap
    raise AttributeError(f"module 'competencymap' has no attribute {name!r}")
