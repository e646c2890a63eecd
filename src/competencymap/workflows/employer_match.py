"""Employers: which catalog credentials cover the competencies a job posting needs.

**Needs.** The posting is mapped (``kind="posting"``, its title as context) onto each requested
framework; its needs follow the rule of :mod:`competencymap.workflows.needs` (confident profile
entries per framework, best first, or the first framework's best few when it has none). Near
duplicates from one statement are one need: the profile keeps each as an entry grouped under the
better one, and the need lists them as ``related`` (see :mod:`competencymap.mapping.profile`). Entries that only asset lines name ("French is an asset")
are ``optional`` needs, kept apart: shown, never counted in a coverage share.

**Coverage rule.** A need is met by a credential when one of the credential's *accepted* tags is

- ``same``: the same competency (same IRI);
- ``broader``: the need's direct broader concept (a skill or a skill group);
- ``narrower``: a concept whose direct broader concept is the need;

Two more relations are shown as ``related`` but never count as meeting a need:

- ``sibling``: a concept sharing a direct broader concept with the need, when that shared
  parent is *not* a skill group (siblings under a skill such as "query languages", never
  under a big group such as "software and applications development and analysis");
- ``crosswalk``: linked to the need by a cross-framework mapping relation (the types in
  :data:`competencymap.model.framework.MAPPING_TYPES`: from the frameworks' own relations and the
  engine's computed ``CompetencyMap.crosswalk(source, target)``, e.g. ESCO to Skills for Success;
  a crosswalk the engine cannot compute is named in the report's notes).

When several tags meet a need, the strongest relation is reported, in the order above.

**Coverage share.** A credential's ``coverage`` is the sum of the scores of the required needs
it meets (same, broader or narrower) divided by the sum of the scores of all required needs (a
strongly evidenced need weighs more). Related links and optional needs are listed, not counted:
a credential with nothing else (coverage 0) is in ``related_credentials``, never among the
credentials that cover the posting.

**Stack.** The smallest stack is found by *greedy* weighted set cover: repeatedly take the
credential that meets the largest remaining need weight (ties: lower credential id). Greedy is
not optimal in general (it is within a factor ln(n) of the optimum); needs that no credential
meets are listed in ``uncovered_by_catalog``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from competencymap._common.errors import CompetencyMapError
from competencymap.mapping.lines import LineReport, account
from competencymap.mapping.results import Evidence, MappingResult
from competencymap.mapping.settings import PipelineConfig
from competencymap.model.framework import KIND_GROUP, MAPPING_TYPES, Competency, Framework, Relation
from competencymap.model.graph import FrameworkGraph
from competencymap.statements.segment import Statement
from competencymap.workflows.needs import FALLBACK_NEEDS, NEED_TOP_K, STATEMENT_TOP_K, pick_needs

if TYPE_CHECKING:
    from competencymap.catalog import AcceptedSnapshot, Catalog
    from competencymap.engine import CompetencyMap

RELATIONS = ("same", "broader", "narrower", "sibling", "crosswalk")  # strongest first
COUNTED = frozenset(("same", "broader", "narrower"))  # relations that meet a need; the others are "related"
_STRENGTH = {name: rank for rank, name in enumerate(RELATIONS)}


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """A competency a posting asks for, with the mapper's score and evidence."""

    iri: str
    label: str
    framework: str
    score: float
    evidence: tuple[Evidence, ...] = ()
    related: tuple[str, ...] = ()  # near duplicates grouped under this need
    optional: bool = False  # named only by lines that call it an asset
    support: int = 1  # statements behind it


@dataclass(frozen=True)
class Coverage:
    """A need met by one accepted tag; `relation` says how the tag relates to the need."""

    need: Need
    tag_iri: str
    tag_label: str
    relation: str  # same | broader | narrower | sibling | crosswalk


@dataclass(frozen=True)
class CredentialMatch:
    credential_id: int
    title: str
    covered: list[Coverage]  # required needs met (same, broader, narrower)
    uncovered: list[Need]  # required needs not met
    coverage: float  # share of the required need weight (sum of need scores) this credential meets
    related: list[Coverage] = field(default_factory=list)  # sibling or crosswalk links, and optional needs met


@dataclass(frozen=True)
class MatchReport:
    needs: list[Need]  # required needs, best first (optional ones are in `optional_needs`)
    credentials: list[CredentialMatch]  # credentials meeting at least one required need, best first
    stack: list[int]  # credential ids in greedy set-cover order
    stack_covered: list[str]  # IRIs of the needs the stack meets, in need order
    uncovered_by_catalog: list[Need]
    notes: list[str] = field(default_factory=list)  # e.g. a crosswalk that was not available
    optional_needs: list[Need] = field(default_factory=list)  # named only by asset lines; never counted
    language: str = ""  # the posting's main language ('' when not judged)
    not_read: list[Statement] = field(default_factory=list)  # statements in a language the model does not read
    related_credentials: list[CredentialMatch] = field(default_factory=list)  # only related links (coverage 0)
    lines: list[LineReport] = field(default_factory=list)  # every line of the posting and what became of it


def need_dict(need: Need) -> dict[str, Any]:
    """A need in JSON-ready form (evidence included)."""
    from competencymap.mapping.serialize import evidence_dict

    return {
        "iri": need.iri,
        "label": need.label,
        "framework": need.framework,
        "score": need.score,
        "optional": need.optional,
        "support": need.support,
        "related": list(need.related),
        "evidence": [evidence_dict(e) for e in need.evidence],
    }


@dataclass(frozen=True)
class Offer:
    """One credential's accepted tags: (competency IRI, label) pairs, one per IRI."""

    credential_id: int
    title: str
    tags: tuple[tuple[str, str], ...]
    frameworks: tuple[str, ...] = ()  # framework names the tags declare


# -- needs ----------------------------------------------------------------------------------------


def needs_from_result(result: MappingResult, frameworks: Sequence[str], *, fallback: int = FALLBACK_NEEDS) -> list[Need]:
    """The needs of a mapped posting (the rule of :mod:`competencymap.workflows.needs`), as :class:`Need`s."""
    return [
        Need(m.iri, m.label, m.framework, m.score, m.evidence, m.related, m.optional, m.support)
        for m in pick_needs(result.profile, frameworks, fallback=fallback)
    ]


def posting_needs(
    engine: CompetencyMap,
    text: str,
    frameworks: Sequence[str] = ("esco",),
    top_k: int = NEED_TOP_K,
    *,
    config: PipelineConfig | None = None,
    title: str = "",
) -> list[Need]:
    """What a posting asks for: confident profile entries per framework (see module docs); the
    posting's `title` is the mapping's context."""
    frameworks = list(frameworks)
    return needs_from_result(_posting_result(engine, text, frameworks, top_k, config, title), frameworks)


def _posting_result(engine: CompetencyMap, text: str, frameworks: list[str], top_k: int,
                    config: PipelineConfig | None, title: str) -> MappingResult:
    return engine.map(text, frameworks, top_k=top_k, kind="posting", config=config, context=title or None,
                      statement_top_k=min(top_k, STATEMENT_TOP_K))


# -- the coverage rule ----------------------------------------------------------------------------


class CoverageRule:
    """Which accepted tags meet a need, under the rule in the module docstring.

    Built over the frameworks whose hierarchy matters (the needs' and the tags' frameworks)
    and the cross-framework mapping relations that apply. The relation is read from the need's
    side (:meth:`met_by`: its small neighbourhood); every caller asks it that way.
    """

    def __init__(self, frameworks: Iterable[Framework | FrameworkGraph], mappings: Iterable[Relation] = ()) -> None:
        graphs = [fw if isinstance(fw, FrameworkGraph) else FrameworkGraph(fw) for fw in frameworks]
        self.concepts = _Concepts(graphs)  # a competency is read from the first framework holding it
        self.children = _Children(graphs, self.concepts)
        self.partners: dict[str, set[str]] = {}
        for relation in mappings:
            if relation.type in MAPPING_TYPES and relation.source != relation.target:
                self.partners.setdefault(relation.source, set()).add(relation.target)
                self.partners.setdefault(relation.target, set()).add(relation.source)

    def met_by(self, need: str) -> dict[str, str]:
        """Every tag IRI that meets `need` -> the strongest relation ('same', 'broader', ...)."""
        out: dict[str, str] = {}

        def add(iri: str, relation: str) -> None:
            if iri not in out or _STRENGTH[relation] < _STRENGTH[out[iri]]:
                out[iri] = relation

        add(need, "same")
        concept = self.concepts.get(need)
        parents = concept.broader if concept is not None else ()
        for parent in parents:
            add(parent, "broader")  # the tag is the need's direct broader concept
        for child in self.children.get(need, ()):
            add(child, "narrower")
        for parent in parents:
            node = self.concepts.get(parent)
            if node is not None and node.kind != KIND_GROUP:
                for sibling in self.children.get(parent, ()):
                    add(sibling, "sibling")
        for partner in self.partners.get(need, ()):
            add(partner, "crosswalk")
        return out

    def relation(self, need_iri: str, tag_iri: str) -> str | None:
        """How the tag meets the need ('same', 'broader', ...), or None."""
        return self.met_by(need_iri).get(tag_iri)


class _Concepts:
    """IRI -> competency over several framework graphs (the first holding the IRI wins)."""

    def __init__(self, graphs: Sequence[FrameworkGraph]) -> None:
        self.graphs = list(graphs)

    def owner(self, iri: str) -> FrameworkGraph | None:
        return next((g for g in self.graphs if iri in g), None)

    def get(self, iri: str, default: Competency | None = None) -> Competency | None:
        owner = self.owner(iri)
        return owner.framework.competencies[iri] if owner is not None else default


class _Children:
    """IRI -> the competencies directly under it, over several framework graphs (each child as
    its own framework lists it)."""

    def __init__(self, graphs: Sequence[FrameworkGraph], concepts: _Concepts) -> None:
        self.graphs = list(graphs)
        self.concepts = concepts

    def get(self, iri: str, default: Sequence[str] = ()) -> Sequence[str]:
        out: list[str] = []
        for graph in self.graphs:
            out += [c for c in graph.children(iri) if c in graph and self.concepts.owner(c) is graph and c not in out]
        return out or default


def mapping_relations(
    engine: CompetencyMap, need_frameworks: Sequence[str], other_frameworks: Iterable[str]
) -> tuple[list[Relation], list[str]]:
    """Cross-framework mapping relations between the need frameworks and the others.

    The frameworks' own mapping relations (SKOS exactMatch, closeMatch...) plus, for each pair,
    the engine's ``engine.crosswalk(need, other)``. A crosswalk the engine cannot give is skipped
    and named in the returned notes.
    """
    relations: list[Relation] = []
    notes: list[str] = []
    names = list(dict.fromkeys([*need_frameworks, *other_frameworks]))
    for name in names:
        framework = _framework_or_none(engine, name)
        if framework is not None:
            relations += [r for r in framework.relations if r.type in MAPPING_TYPES]
    done: set[frozenset[str]] = set()
    for source in need_frameworks:
        for target in names:
            pair = frozenset((source, target))
            if target == source or pair in done:
                continue
            try:
                relations += list(engine.crosswalk(source, target))
                done.add(pair)
            except CompetencyMapError as exc:
                notes.append(f"crosswalk {source} -> {target} not used: {exc.line_text()}")
    return relations, notes


def _framework_or_none(engine: CompetencyMap, name: str) -> Framework | None:
    try:
        return engine.framework(name)
    except CompetencyMapError:
        return None


def tag_frameworks(engine: CompetencyMap, need_frameworks: Sequence[str], offers: Sequence[Offer]) -> list[str]:
    """Loadable frameworks named by tags the need frameworks do not already hold.

    A tag framework whose IRIs the need frameworks hold (e.g. a slice of ESCO) adds nothing;
    a tag in an unknown framework can still match by IRI ('same').
    """
    known = {iri for name in need_frameworks for iri in engine.framework(name).competencies}
    others: list[str] = []
    for offer in offers:
        if any(iri not in known for iri, _ in offer.tags):
            others += [name for name in offer.frameworks if name not in need_frameworks]
    return [name for name in dict.fromkeys(others) if _framework_or_none(engine, name) is not None]


def coverage_rule(
    engine: CompetencyMap, need_frameworks: Sequence[str], offers: Sequence[Offer], extra: Sequence[str] = ()
) -> tuple[CoverageRule, list[Relation], list[str]]:
    """The rule over the need frameworks, `extra` frameworks and the frameworks the tags name,
    with the mapping relations it uses and notes on crosswalks that were not available."""
    others = [n for n in dict.fromkeys([*extra, *tag_frameworks(engine, need_frameworks, offers)]) if n not in need_frameworks]
    others = [n for n in others if _framework_or_none(engine, n) is not None]
    graphs = [engine.graph(name) for name in [*need_frameworks, *others]]  # the engine's, built once
    relations, notes = mapping_relations(engine, need_frameworks, others)
    return CoverageRule(graphs, relations), relations, notes


# -- the catalog side -----------------------------------------------------------------------------


def catalog_offers(catalog: Catalog) -> list[Offer]:
    """Every credential with at least one accepted tag, in id order (one query, one transaction:
    a credential deleted meanwhile is simply absent)."""
    return offers_from_snapshot(catalog.accepted_snapshot())


def offers_from_snapshot(snapshot: AcceptedSnapshot) -> list[Offer]:
    return [
        Offer(
            credential.credential_id,
            credential.title,
            tuple((t.competency_iri, t.label) for t in credential.tags),
            tuple(dict.fromkeys(t.framework for t in credential.tags)),
        )
        for credential in snapshot.credentials
        if credential.tags
    ]


Holders = dict[str, tuple[tuple[int, int, str], ...]]  # tag IRI -> (offer position, tag position, label)


def tag_holders(offers: Sequence[Offer]) -> Holders:
    """Per accepted tag IRI, the offers holding it (position in `offers`, position among the
    offer's tags, the tag's label), in offer order."""
    holders: dict[str, list[tuple[int, int, str]]] = {}
    for offer_at, offer in enumerate(offers):
        for tag_at, (iri, label) in enumerate(offer.tags):
            holders.setdefault(iri, []).append((offer_at, tag_at, label))
    return {iri: tuple(items) for iri, items in holders.items()}


@dataclass(frozen=True)
class CatalogCoverage:
    """The catalog's accepted tags prepared for matching needs in `frameworks`: the coverage rule
    and, per tag IRI, the credentials holding it. Valid for one catalog `version`; build it with
    :func:`catalog_coverage` and reuse it until the version changes."""

    version: int
    frameworks: tuple[str, ...]
    offers: tuple[Offer, ...]
    rule: CoverageRule
    notes: tuple[str, ...]
    holders: Holders

    def match(self, needs: Sequence[Need]) -> MatchReport:
        """Credentials against needs: per-credential coverage (each need met by the credential's
        strongest tag; ties: its first such tag), a greedy stack, the gaps."""
        best: dict[int, dict[str, tuple[int, int, str, str]]] = {}  # offer -> need -> (strength, tag pos, iri, label)
        for need in needs:
            for tag_iri, relation in self.rule.met_by(need.iri).items():
                strength = _STRENGTH[relation]
                for offer_at, tag_at, label in self.holders.get(tag_iri, ()):
                    found = best.setdefault(offer_at, {}).get(need.iri)
                    if found is None or (strength, tag_at) < found[:2]:
                        best[offer_at][need.iri] = (strength, tag_at, tag_iri, label)
        matches = []
        for offer_at, met in best.items():
            offer = self.offers[offer_at]
            links = [Coverage(n, met[n.iri][2], met[n.iri][3], RELATIONS[met[n.iri][0]]) for n in needs if n.iri in met]
            matches.append(_credential(offer, needs, links))
        return _report(needs, matches, self.notes)


def catalog_coverage(engine: CompetencyMap, catalog: Catalog, frameworks: Sequence[str]) -> CatalogCoverage:
    """Read the catalog once (one query) and index its accepted tags for needs in `frameworks`."""
    snapshot = catalog.accepted_snapshot()
    offers = offers_from_snapshot(snapshot)
    rule, _, notes = coverage_rule(engine, list(frameworks), offers)
    return CatalogCoverage(
        version=snapshot.version,
        frameworks=tuple(frameworks),
        offers=tuple(offers),
        rule=rule,
        notes=tuple(notes),
        holders=tag_holders(offers),
    )


# -- matching -------------------------------------------------------------------------------------


def _weight(need: Need) -> float:
    return max(need.score, 1e-6)


def _credential(offer: Offer, needs: Sequence[Need], links: Sequence[Coverage]) -> CredentialMatch:
    """A credential's links to the needs split by the rule: required needs met (counted in the
    share), and the rest (related relations, optional needs) shown apart."""
    covered = [c for c in links if c.relation in COUNTED and not c.need.optional]
    related = [c for c in links if c not in covered]
    met = {c.need.iri for c in covered}
    required = [n for n in needs if not n.optional]
    total = sum(_weight(n) for n in required)
    share = sum(_weight(c.need) for c in covered) / total if total else 0.0
    uncovered = [n for n in required if n.iri not in met]
    return CredentialMatch(offer.credential_id, offer.title, covered, uncovered, round(share, 4), related)


def greedy_stack(matches: Sequence[CredentialMatch]) -> list[int]:
    """Greedy weighted set cover: credential ids, each adding the most uncovered need weight."""
    remaining = {c.need.iri: _weight(c.need) for m in matches for c in m.covered}
    met = {m.credential_id: {c.need.iri for c in m.covered} for m in matches}
    stack: list[int] = []
    while remaining:
        gains = [(sum(remaining.get(i, 0.0) for i in iris), -cid) for cid, iris in met.items() if cid not in stack]
        if not gains:
            break
        gain, negative_id = max(gains)
        if gain <= 0:
            break
        stack.append(-negative_id)
        for iri in met[-negative_id]:
            remaining.pop(iri, None)
    return stack


def _report(needs: Sequence[Need], matches: list[CredentialMatch], notes: Sequence[str]) -> MatchReport:
    """Credentials meeting a required need (best share first), and apart those with related links
    only (they cover nothing); the greedy stack over required needs; the required needs no
    credential meets."""
    order = sorted(matches, key=lambda m: (-m.coverage, -len(m.covered), -len(m.related), m.credential_id))
    matches = [m for m in order if m.covered]
    stack = greedy_stack(matches)
    in_stack = set(stack)
    stack_met = {c.need.iri for m in matches if m.credential_id in in_stack for c in m.covered}
    any_met = {c.need.iri for m in matches for c in m.covered}
    required = [n for n in needs if not n.optional]
    return MatchReport(
        needs=required,
        credentials=matches,
        stack=stack,
        stack_covered=[n.iri for n in required if n.iri in stack_met],
        uncovered_by_catalog=[n for n in required if n.iri not in any_met],
        notes=list(notes),
        optional_needs=[n for n in needs if n.optional],
        related_credentials=[m for m in order if not m.covered and m.related],
    )


def match_posting(
    engine: CompetencyMap,
    catalog: Catalog,
    text: str,
    *,
    frameworks: Sequence[str] = ("esco",),
    top_k: int = NEED_TOP_K,
    config: PipelineConfig | None = None,
    coverage: CatalogCoverage | None = None,
    title: str = "",
) -> MatchReport:
    """A posting's needs against every credential's accepted tags (see module docs).

    Pass a `coverage` built by :func:`catalog_coverage` for the same frameworks to skip reading
    the catalog (a service keeps one per catalog version); the posting's `title` is context."""
    frameworks = list(frameworks)
    result = _posting_result(engine, text, frameworks, top_k, config, title)
    if coverage is None or list(coverage.frameworks) != frameworks:
        coverage = catalog_coverage(engine, catalog, frameworks)
    report = coverage.match(needs_from_result(result, frameworks))
    return replace(report, language=result.language, not_read=list(result.not_read), lines=account(result))
