"""`CompetencyMap`, the engine: settings, frameworks, the encoder, indexes and matchers, and the
verbs that use nothing else (map, map_many, search, graph, crosswalk).

What users do with it (tag credentials, match postings, count demand, look up a concept) lives in
`competencymap.workflows`, whose functions take the engine as their first argument; the CLI and
the service hold one engine each. Everything it loads is loaded on first use and kept.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from competencymap._common.config import Settings, load_settings
from competencymap._common.errors import IndexNotReady
from competencymap.encoding.encoder import Encoder
from competencymap.frameworks.sssom import MappingSet, authored_crosswalk_path, read_sssom
from competencymap.frameworks.store import FrameworkStore
from competencymap.mapping.fusion import read_fusion
from competencymap.mapping.pipeline import Crosswalks, GroupCrosswalk, map_texts
from competencymap.mapping.results import MappingResult, Match
from competencymap.mapping.scoring import FrameworkMatcher
from competencymap.mapping.settings import PipelineConfig
from competencymap.mapping.statement_vectors import StatementEncoder
from competencymap.model.framework import Framework, Relation
from competencymap.model.graph import FrameworkGraph
from competencymap.model.occupations import OCCUPATIONS_SUFFIX, occupation_framework
from competencymap.retrieval.crosswalk import compute_crosswalk
from competencymap.retrieval.lexical import LexicalIndex
from competencymap.retrieval.vector_index import CompetencyIndex
from competencymap.statements.language import ENGLISH, Readable

StatusCallback = Callable[[str], None]  # told what is being loaded ("building the esco index ...")
CROSSWALK_PAIRS = (("esco", "sfs"),)  # (source, target): target matches take evidence from source (authored crosswalk)


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """Run a part-loading method under the instance's lock (parts load once, whatever the threads)."""

    @functools.wraps(method)
    def wrapper(self: CompetencyMap, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class CompetencyMap:
    """Frameworks, the embedding model, their indexes and the mapper, for one configuration."""

    def __init__(self, settings: Settings | None = None, *, on_status: StatusCallback | None = None) -> None:
        self.settings = settings or load_settings()
        self.on_status = on_status
        self.store = FrameworkStore(self.settings, on_load=on_status)
        self._encoder: Encoder | None = None
        self._statement_vectors: StatementEncoder | None = None
        self._derived: dict[str, Framework] = {}
        self._graphs: dict[str, FrameworkGraph] = {}
        self._indexes: dict[str, CompetencyIndex] = {}
        self._lexical: dict[str, LexicalIndex] = {}
        self._matchers: dict[tuple[str, PipelineConfig], FrameworkMatcher] = {}
        self._default_config: PipelineConfig | None = None
        self._crosswalks: dict[tuple[str, str], list[Relation]] = {}
        self._authored: dict[tuple[str, str], MappingSet | None] = {}
        self._crosswalk_links: dict[tuple[str, str], GroupCrosswalk] = {}
        self._lock = threading.RLock()  # parts are loaded once even when requests ask at the same time

    # -- parts ------------------------------------------------------------------------------

    @_locked
    def framework(self, name: str) -> Framework:
        """A loaded framework by name; `<name>-occupations` is the occupations view of `<name>`."""
        if name.endswith(OCCUPATIONS_SUFFIX) and name not in self.store.names():
            if name not in self._derived:
                self._derived[name] = occupation_framework(self.store.get(name.removesuffix(OCCUPATIONS_SUFFIX)))
            return self._derived[name]
        return self.store.get(name)

    @_locked
    def graph(self, name: str) -> FrameworkGraph:
        """The framework's graph (children, groups and depth, relations by IRI, occupation links), built once."""
        framework = self.framework(name)
        graph = self._graphs.get(name)
        if graph is None or graph.framework is not framework:
            graph = self._graphs[name] = FrameworkGraph(framework)
        return graph

    @property
    @_locked
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = Encoder(s.model, device=s.device, batch_size=s.batch_size, threads=s.threads or None,
                                    backend=s.backend, cache_dir=s.model_cache, on_status=self.on_status)
        return self._encoder

    @property
    @_locked
    def statement_vectors(self) -> StatementEncoder:
        """Statement and phrase vectors, cached by text and shared by every framework's matcher."""
        if self._statement_vectors is None:
            self._statement_vectors = StatementEncoder(self.encoder, capacity=self.settings.statement_cache)
        return self._statement_vectors

    def index_folder(self, name: str) -> Path:
        return CompetencyIndex.folder_for(self.settings.home, name, self.encoder.name)

    @_locked
    def index(self, name: str, *, build: bool = False, progress: bool = False) -> CompetencyIndex:
        """The vector index of a framework; with `build`, built (and saved) first when missing or stale."""
        if name not in self._indexes:
            folder = self.index_folder(name)
            framework = self.framework(name)
            if not (folder / "manifest.json").is_file():
                if not build:
                    raise IndexNotReady(
                        f"no index for framework {name!r} and model {self.encoder.name!r}; "
                        f"run `competencymap index build --framework {name}`"
                    )
                return self.build_index(name, progress=progress)
            try:
                self._indexes[name] = CompetencyIndex.load(folder, framework, self.encoder,
                                                           fingerprint=self.store.fingerprint(name))
            except IndexNotReady:
                if not build:
                    raise
                return self.build_index(name, progress=progress)  # stale (framework or model changed): rebuild
        return self._indexes[name]

    @_locked
    def build_index(self, name: str, *, progress: bool = False, force: bool = False) -> CompetencyIndex:
        """Build a framework's index, reusing the vectors of unchanged texts of the previous one."""
        folder = self.index_folder(name)
        framework = self.framework(name)
        previous = None if force else self._previous_index(folder)
        index = CompetencyIndex.build(framework, self.encoder, previous=previous, progress=progress,
                                      fingerprint=self.store.fingerprint(name))
        index.save(folder)
        self._indexes[name] = index
        self._matchers = {k: v for k, v in self._matchers.items() if k[0] != name}
        return index

    def _previous_index(self, folder: Path) -> CompetencyIndex | None:
        try:
            return CompetencyIndex.load_unchecked(folder, self.encoder)
        except (FileNotFoundError, IndexNotReady):
            return None

    @_locked
    def lexical(self, name: str) -> LexicalIndex:
        """The BM25 and exact-label index of a framework, read from its cache under home when the
        framework is unchanged, else built (and cached)."""
        if name not in self._lexical:
            framework = self.framework(name)
            fingerprint = self.store.fingerprint(name)
            folder = self.settings.home / name / "lexical"
            index = LexicalIndex.load(folder, fingerprint) if fingerprint else None
            if index is None:
                index = LexicalIndex.build(framework)
                if fingerprint:
                    index.save(folder, fingerprint)
            self._lexical[name] = index
        return self._lexical[name]

    @property
    def default_config(self) -> PipelineConfig:
        """The pipeline's defaults, with the learned fusion shipped with the model when it has one."""
        if self._default_config is None:
            self._default_config = PipelineConfig(fusion=read_fusion(self.encoder.adapter_folder))
        return self._default_config

    @_locked
    def matcher(self, name: str, config: PipelineConfig | None = None, *, build: bool = False) -> FrameworkMatcher:
        config = config or self.default_config
        key = (name, config)
        if key not in self._matchers:
            self._matchers[key] = FrameworkMatcher(
                self.framework(name), self.index(name, build=build), self.lexical(name), self.statement_vectors, config
            )
        return self._matchers[key]

    @_locked
    def crosswalk(self, source: str, target: str) -> list[Relation]:
        """Scored SKOS mapping relations from `source` competencies to `target` skills.

        Computed from the two frameworks' indexes (see `competencymap.retrieval.crosswalk`) and kept on
        the instance; raises `IndexNotReady` when either index is missing."""
        key = (source, target)
        if key not in self._crosswalks:
            self._crosswalks[key] = compute_crosswalk(
                self.index(source), self.index(target), self.framework(target)
            )
        return self._crosswalks[key]

    @_locked
    def authored_crosswalk(self, source: str, target: str) -> MappingSet | None:
        """The curated mapping set from `source` groups and concepts to `target` concepts that ships
        under the data folder (see `competencymap.frameworks.sssom`); None when none ships."""
        key = (source, target)
        if key not in self._authored:
            path = authored_crosswalk_path(self.settings.data, source, target)
            self._authored[key] = read_sssom(path) if path is not None and path.is_file() else None
        return self._authored[key]

    # -- what users do -------------------------------------------------------------------------

    def map(
        self,
        text: str,
        frameworks: Sequence[str] = ("esco",),
        *,
        top_k: int = 10,
        kind: str = "auto",
        config: PipelineConfig | None = None,
        context: str | None = None,
        statement_top_k: int | None = None,
    ) -> MappingResult:
        """Map a text (outcomes or a posting) onto each framework: statements, matches, profile.
        `context` (a credential's or posting's title) lets the text's theme support fitting
        competencies."""
        return self.map_many([text], frameworks, top_k=top_k, kind=kind, config=config,
                             contexts=[context] if context else None, statement_top_k=statement_top_k)[0]

    def map_many(
        self,
        texts: Sequence[str],
        frameworks: Sequence[str] = ("esco",),
        *,
        top_k: int = 10,
        kind: str = "auto",
        config: PipelineConfig | None = None,
        contexts: Sequence[str | None] | None = None,
        statement_top_k: int | None = None,
    ) -> list[MappingResult]:
        """Map several texts; their statements are embedded in shared batches. `contexts`, one
        per text or None, as for `map`; `statement_top_k` caps each statement's matches (default
        `top_k`), the profile keeping `top_k` per framework."""
        matchers = [self.matcher(name, config) for name in frameworks]
        return map_texts(texts, matchers, encoder=self.encoder, top_k=top_k, kind=kind,
                         crosswalks=self._crosswalks_for(frameworks), contexts=contexts,
                         statement_top_k=statement_top_k, readable=self.readable)

    @property
    def readable(self) -> Readable:
        """The languages a mapping reads: the model's (`Encoder.languages`; the bundled models read
        English only) and the frameworks' label language (`Settings.language`: a user who loads
        French labels means French text to be mapped onto them). Text in another language is not
        mapped (`statements.language`)."""
        encoder = self.encoder
        languages = frozenset(encoder.languages)
        if languages:
            languages |= {self.settings.language}
        model = "the bundled English model" if encoder.bundled and languages == {ENGLISH} else f"the model {encoder.name}"
        return Readable(languages, model)

    @_locked
    def _crosswalks_for(self, frameworks: Sequence[str]) -> Crosswalks:
        """The authored crosswalks between requested frameworks (ESCO groups -> Skills for Success),
        read through the source framework's groups. The computed crosswalk (`crosswalk`) is for
        export and concept detail only."""
        out = {}
        for source, target in CROSSWALK_PAIRS:
            if source in frameworks and target in frameworks:
                if (source, target) not in self._crosswalk_links:
                    authored = self.authored_crosswalk(source, target)
                    if authored is None:
                        continue
                    graph = self.graph(source)
                    links: dict[str, list[Relation]] = {}
                    for relation in authored.relations():
                        links.setdefault(relation.source, []).append(relation)
                    self._crosswalk_links[(source, target)] = GroupCrosswalk(source, links, graph.groups, graph.label)
                out[target] = self._crosswalk_links[(source, target)]
        return out

    def search(self, query: str, framework: str = "esco", *, top_k: int = 10) -> list[Match]:
        """Rank a framework's competencies for one short query."""
        return self.matcher(framework).rank([query], top_k=top_k)[0]

    def index_status(self, name: str) -> dict:
        """Whether a framework's index exists and fits the framework and model."""
        folder = self.index_folder(name)
        if not (folder / "manifest.json").is_file():
            return {"framework": name, "state": "missing", "folder": str(folder)}
        try:
            index = self.index(name)
        except IndexNotReady as exc:
            return {"framework": name, "state": "stale", "detail": exc.message, "folder": str(folder)}
        return {"framework": name, "state": "ready", "folder": str(folder), "manifest": index.manifest}
