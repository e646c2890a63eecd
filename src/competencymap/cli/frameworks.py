"""`competencymap frameworks ...`: list, load, stats, show, export."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import click
import orjson

from competencymap._common.config import Settings, load_settings
from competencymap.cli.options import DATA, HOME
from competencymap.frameworks.store import FrameworkStore
from competencymap.model.framework import (
    KIND_COMPONENT,
    KIND_GROUP,
    MAPPING_TYPES,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    REL_SKILL_ESSENTIAL,
    REL_SKILL_OPTIONAL,
    Framework,
)
from competencymap.workflows.concept_serialize import concept_dict
from competencymap.workflows.concepts import concept_detail

EXPORT_SUFFIXES = {"turtle": ".ttl", "ntriples": ".nt", "rdfxml": ".rdf", "case": ".case.json"}
UNLISTED = "(withdrawn or unknown)"  # shown for an IRI that relations name but that is no concept


class _State:
    """Settings and store for one command, made only when a command needs them."""

    def __init__(self, *, home: Path | None, data: Path | None, language: str | None) -> None:
        self.overrides = {"home": home, "data": data, "language": language}
        self.language = language  # given on the command line: wins over a registered language

    def get(self, name: str) -> Framework:
        return self.store.get(name, language=self.language)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(**self.overrides)

    @cached_property
    def store(self) -> FrameworkStore:
        return FrameworkStore(self.settings, on_load=lambda message: click.echo(message, err=True))


pass_state = click.make_pass_decorator(_State)


@click.group()
@HOME
@DATA
@click.option("--language", help="Label language (default: the language a user framework was "
                                 "registered with, else settings, usually en).")
@click.pass_context
def frameworks(ctx: click.Context, home: Path | None, data: Path | None, language: str | None) -> None:
    """Load and inspect competency frameworks."""
    ctx.obj = _State(home=home, data=data, language=language)


# -- list -------------------------------------------------------------------------------


@frameworks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_command(state: _State, as_json: bool) -> None:
    """List bundled and registered frameworks (without loading them)."""
    rows = state.store.describe()
    if as_json:
        _echo_json(rows)
        return
    header = ("NAME", "KIND", "LANG", "CACHED", "SKILLS", "COMPONENTS", "GROUPS", "OCCUPATIONS", "RELATIONS",
              "SOURCE")
    table = [header]
    for row in rows:
        counts = row["counts"] or {}
        components = (counts.get("competencies_by_kind") or {}).get(KIND_COMPONENT, 0) if counts else None
        skills = counts["competencies"] - components if counts else None
        table.append((
            row["name"],
            "bundled" if row["bundled"] else "user",
            row["language"],
            "yes" if row["cached"] else ("no" if row["available"] else "missing"),
            _count(skills),
            _count(components),
            _count(counts.get("skill_groups")),
            _count(counts.get("occupations")),
            _count(counts.get("relations")),
            row["path"],
        ))
    _echo_table(table)


# -- load -------------------------------------------------------------------------------


@frameworks.command("load")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--language", help="Label language to load (default: settings, usually en).")
@click.option("--name", help="Name to register the framework under (default: from the file).")
@pass_state
def load_command(state: _State, path: Path, language: str | None, name: str | None) -> None:
    """Load a framework file or folder, cache it and register it."""
    framework = state.store.add(path, language=language, name=name)
    counts = summary_counts(framework)
    parts = [f"{counts['skills']:,} skills"]
    if counts["components"]:
        parts.append(f"{counts['components']:,} components")
    parts += [
        f"{counts['skill_groups']:,} skill groups",
        f"{counts['occupations']:,} occupations",
        f"{counts['relations']:,} relations",
    ]
    click.echo(f"{framework.id} ({framework.language}): {framework.title} — " + ", ".join(parts))


# -- stats ------------------------------------------------------------------------------


@frameworks.command("stats")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON keyed by framework name.")
@pass_state
def stats_command(state: _State, names: tuple[str, ...], as_json: bool) -> None:
    """Counts per framework (default: all bundled and registered frameworks)."""
    store = state.store
    chosen = list(names) or store.names()
    for name in chosen:
        store.entry(name)  # fail on an unknown name before loading anything
    result = {name: summary_counts(state.get(name)) for name in chosen}
    if as_json:
        _echo_json(result)
        return
    for name, counts in result.items():
        _echo_stats(name, counts)


def summary_counts(framework: Framework) -> dict:
    """Framework.stats() plus the plain headline numbers `frameworks stats` reports."""
    counts = framework.stats()
    kinds = counts["competencies_by_kind"]
    relation_types = counts["relations_by_type"]
    counts["skills"] = counts["competencies"] - kinds.get(KIND_COMPONENT, 0)
    counts["components"] = kinds.get(KIND_COMPONENT, 0)
    counts["occupation_skill_relations"] = (
        relation_types.get(REL_ESSENTIAL, 0) + relation_types.get(REL_OPTIONAL, 0)
    )
    counts["skill_skill_relations"] = (
        relation_types.get(REL_SKILL_ESSENTIAL, 0) + relation_types.get(REL_SKILL_OPTIONAL, 0)
    )
    counts["mappings"] = sum(relation_types.get(t, 0) for t in MAPPING_TYPES)
    if counts["components"]:
        counts["components_per_skill"] = _components_per_skill(framework)
    return counts


def _components_per_skill(framework: Framework) -> dict[str, int]:
    skills = [c for c in framework.competencies.values() if c.kind not in (KIND_GROUP, KIND_COMPONENT)]
    per_iri = {c.iri: 0 for c in skills}
    for component in framework.competencies.values():
        if component.kind == KIND_COMPONENT:
            for parent in component.broader:
                if parent in per_iri:
                    per_iri[parent] += 1
    labels = [c.pref_label for c in skills]
    unique = len(set(labels)) == len(labels)
    return {(c.pref_label if unique else c.iri): per_iri[c.iri] for c in skills}


def _echo_stats(name: str, counts: dict) -> None:
    click.echo(f"{name}: {counts['title']}" + (f" (version {counts['version']})" if counts["version"] else ""))
    lines = [
        ("skills", counts["skills"]),
        ("components", counts["components"]),
        ("skill groups", counts["skill_groups"]),
        ("occupations", counts["occupations"]),
        ("occupation-skill relations", counts["occupation_skill_relations"]),
        ("skill-skill relations", counts["skill_skill_relations"]),
        ("mappings", counts["mappings"]),
        ("alternative labels", counts["alt_labels"]),
        ("broader links", counts["broader_links"]),
        ("levels", counts["levels"]),
    ]
    for label, value in lines:
        click.echo(f"  {label + ':':<28}{value:>10,}")
    for title, mapping in (
        ("competencies by kind", counts["competencies_by_kind"]),
        ("occupations by kind", counts["occupations_by_kind"]),
        ("relations by type", counts["relations_by_type"]),
        ("components per skill", counts.get("components_per_skill") or {}),
    ):
        if mapping:
            click.echo(f"  {title}:")
            for key, value in mapping.items():
                click.echo(f"    {key + ':':<26}{value:>10,}")
    click.echo(f"  {'languages:':<28}{', '.join(counts['languages']):>10}")


# -- show -------------------------------------------------------------------------------


@frameworks.command("show")
@click.argument("iri")
@click.option("--framework", "framework_name", help="Look only in this framework.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="Longest list to print in full (0 = no limit).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def show_command(state: _State, iri: str, framework_name: str | None, limit: int, as_json: bool) -> None:
    """Show one competency or occupation by its IRI.

    An IRI that is no concept of any framework but that a framework's relations name (as the
    withdrawn occupation of ESCO v1.1.1) is shown with those relations, marked as not listed.
    The JSON is `concept_dict`, the shape of the API's GET /competencies/{iri}.
    """
    from competencymap.engine import CompetencyMap

    store = state.store
    names = [framework_name] if framework_name else store.names()
    for name in names:
        store.entry(name)
    engine = CompetencyMap(state.settings)
    engine.store = store
    detail = concept_detail(engine, iri, framework_name, within=names, crosswalk=False)
    details = concept_dict(detail, limit or None)
    if as_json:
        _echo_json(details)
    else:
        _echo_details(details)


def _echo_details(d: dict) -> None:
    in_framework, kind_of = d.get("in_framework", True), d.get("type", "competency")
    if not in_framework:
        click.echo(f"{UNLISTED}  <{d['iri']}>")
        click.echo(f"  framework: {d['framework']}   type: {kind_of}   named only by relations: "
                   f"not a concept of {d['framework']}")
    else:
        click.echo(f"{d['pref_label']}  <{d['iri']}>")
        click.echo(f"  framework: {d['framework']}   type: {kind_of}   kind: {d['kind']}   status: {d['status']}")
    for key in ("code", "isco_group", "reuse_level"):
        if d.get(key):
            click.echo(f"  {key.replace('_', ' ')}: {d[key]}")
    if d["alt_labels"]:
        click.echo("  alternative labels: " + "; ".join(d["alt_labels"]))
    if d["hidden_labels"]:
        click.echo("  hidden labels: " + "; ".join(d["hidden_labels"]))
    if d["description"]:
        click.echo(f"  description: {d['description']}")
    if d.get("scope_note"):
        click.echo(f"  scope note: {d['scope_note']}")
    if d["broader"]:
        click.echo("  broader: " + " < ".join(f"{_label(b)} <{b['iri']}>" for b in d["broader"]))
    for lv in d["levels"]:
        click.echo(f"  level {lv['rank']}: {lv['label']}" + (f" — {lv['description']}" if lv["description"] else ""))
    related, what = (d["occupations"], "for") if "occupations" in d else (d["skills"], "skills")
    groups = [("narrower", d["narrower"]), (f"essential {what}", related["essential"]),
              (f"optional {what}", related["optional"])]
    for title, group in groups:
        if group["count"]:
            _echo_group(title, [f"{_label(item)} <{item['iri']}>" for item in group["items"]], group["count"])
    lines = [f"{m['type']} {'to' if m['direction'] == 'outgoing' else 'from'} {_label(m['concept'])} "
             f"<{m['concept']['iri']}>" + (f" [{m['concept']['framework']}]" if m["concept"]["framework"] else "")
             for m in d["mappings"]]
    if lines:
        _echo_group("mappings", lines, len(lines))


def _echo_group(title: str, lines: list[str], count: int) -> None:
    click.echo(f"  {title} ({count:,}):")
    for line in lines:
        click.echo(f"    - {line}")
    if count > len(lines):
        click.echo(f"    ... and {count - len(lines):,} more")


def _label(ref: dict) -> str:
    """A referenced concept's label, or a mark for an IRI no framework lists."""
    return ref["label"] or UNLISTED


# -- export -----------------------------------------------------------------------------


@frameworks.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_SUFFIXES)), default="turtle",
              show_default=True, help="RDF serialization, or case (a CASE 1.1 CFPackage, JSON).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: <name>-<language>.<ext> in the current folder).")
@click.option("--crosswalk-from", "crosswalk_from",
              help="case: add the computed crosswalk from this framework as CFAssociations (default for sfs: "
                   "esco, when both indexes are built; '' for none).")
@pass_state
def export_command(state: _State, name: str, fmt: str, output: Path | None, crosswalk_from: str | None) -> None:
    """Write a framework as SKOS RDF or as a CASE 1.1 package."""
    framework = state.get(name)
    output = output or Path(f"{framework.id}-{framework.language}{EXPORT_SUFFIXES[fmt]}")
    if fmt == "case":
        from competencymap.cli.crosswalk import write_case_package

        written = write_case_package(state.settings, state.store, framework, output, crosswalk_from)
    else:
        from competencymap.frameworks.rdf_export import export_framework

        written = export_framework(framework, output, format=fmt)
    click.echo(f"wrote {written}")


# -- helpers ----------------------------------------------------------------------------


def _echo_json(value: object) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _count(value: object) -> str:
    return "-" if value is None else f"{value:,}"


def _echo_table(rows: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
