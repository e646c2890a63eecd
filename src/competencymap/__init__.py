"""competencymap: map free text onto shared competency identifiers (ESCO, Skills for Success)."""

from competencymap.model import Competency, Framework, Level, Occupation, Relation

__all__ = ["Competency", "Framework", "Level", "Occupation", "Relation"]
__version__ = "0.1.0"
