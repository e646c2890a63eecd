"""What a demand run maps and how it splits its table: :class:`DemandOptions`, and the names of
the table's levels, default views and placeholder values that every part of a run shares."""

from __future__ import annotations

from dataclasses import dataclass

from competencymap._common.errors import CompetencyMapError
from competencymap.mapping.settings import PipelineConfig
from competencymap.workflows.needs import NEED_TOP_K

LEVEL_COMPETENCY = "competency"
LEVEL_SFS = "sfs"
SFS = "sfs"
OCCUPATIONS = "esco-occupations"
CHUNK = 64  # postings mapped per map_many call
UNKNOWN_MONTH = "unknown"
NO_OCCUPATION = "(none)"
NO_GROUP = "(none)"  # a group-by column a posting has no value for
# The cheaper pipeline for large corpora: statements only, no phrase-level queries. On full ESCO
# (benchmarks/demand.py, 2 cores) it maps ~2.3x the statements per second, and its needs agree
# with the full pipeline's at a mean Jaccard of ~0.65 on the sample postings: a trade-off.
FAST_CONFIG = PipelineConfig(phrases=False)

Key = tuple[str, str, str]  # framework, level, iri
Cell = tuple[str | None, str | None, tuple[str, ...]]  # month, occupation, group-by values


def group_level(depth: int) -> str:
    """The level name of a skill group `depth` steps below the top of its hierarchy."""
    return f"group level {depth}"


@dataclass(frozen=True)
class DemandOptions:
    """What a demand run maps and how it splits the table (plain values: it travels to workers)."""

    frameworks: tuple[str, ...] = ("esco",)
    by_month: bool = False
    by_occupation: bool = False
    group_by: tuple[str, ...] = ()  # extra posting columns that split the table (region, source, ...)
    rollup: bool = True
    fast: bool = False
    config: PipelineConfig | None = None  # None: FAST_CONFIG with `fast`, else the default pipeline
    top_k: int = NEED_TOP_K
    chunk_size: int = CHUNK
    occupations: str = OCCUPATIONS
    sfs: str = SFS

    def __post_init__(self) -> None:
        object.__setattr__(self, "frameworks", tuple(dict.fromkeys(self.frameworks)))
        object.__setattr__(self, "group_by", tuple(dict.fromkeys(self.group_by)))
        if not self.frameworks:
            raise CompetencyMapError("no framework to map postings onto")

    @property
    def pipeline_config(self) -> PipelineConfig | None:
        return self.config or (FAST_CONFIG if self.fast else None)

    @property
    def pipeline(self) -> str:
        config = self.pipeline_config
        return "fast (phrases off)" if config == FAST_CONFIG else ("custom" if config else "full")

    def mapped_frameworks(self) -> list[str]:
        """The frameworks whose indexes the run needs (with the occupations view when by occupation)."""
        return [*self.frameworks, *([self.occupations] if self.by_occupation else [])]
