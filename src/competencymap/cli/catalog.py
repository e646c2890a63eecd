"""`competencymap catalog ...`: the micro-credential catalog from the command line.

Mirrors the catalog API: list, show, import (Open Badges 3.0, CTDL or the tag CSV; or the bundled
samples with their reviewed tags), suggest,
accept/reject and export (Open Badges 3.0, CTDL, CSV), on the database of the settings
(`COMPETENCYMAP_DATABASE_URL`, else SQLite under the home folder) or `--database`.
"""

from __future__ import annotations

import getpass
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import click
import orjson

from competencymap._common.config import Settings, load_settings
from competencymap._common.errors import CompetencyMapError
from competencymap.catalog import Catalog, Credential, NotFound, Tag
from competencymap.cli.options import DATA, HOME
from competencymap.exports import (
    credential_to_achievement,
    credential_to_ctdl,
    credential_to_openbadge_credential,
    tags_to_csv,
)
from competencymap.exports.readers import (
    ImportedCredential,
    apply_tags_csv,
    read_document,
    store_credential,
)
from competencymap.workflows.tagging import suggest_and_store

EXPORT_FORMATS = ("openbadges", "openbadges-credential", "ctdl", "csv")
LIST_FORMATS = ("table", "jsonl", "json")


class _State:
    """Settings and catalog for one command, opened only when a command needs them."""

    def __init__(self, *, home: Path | None, data: Path | None, database: str | None) -> None:
        self.overrides = {"home": home, "data": data}
        self.database = database

    @cached_property
    def settings(self) -> Settings:
        return load_settings(**self.overrides)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.database or self.settings.database_url)


pass_state = click.make_pass_decorator(_State)


@click.group()
@HOME
@DATA
@click.option("--database", help="SQLAlchemy URL of the catalog (default: COMPETENCYMAP_DATABASE_URL or "
                                 "SQLite under the home folder).")
@click.pass_context
def catalog(ctx: click.Context, home: Path | None, data: Path | None, database: str | None) -> None:
    """Micro-credentials, their competency tags and their standard exports."""
    ctx.obj = _State(home=home, data=data, database=database)


# -- list / show ------------------------------------------------------------------------------


@catalog.command("list")
@click.option("--format", "fmt", default="table", show_default=True, help="table, jsonl or json.")
@click.option("--search", help="Case-insensitive text in title or issuer.")
@click.option("--limit", default=100, show_default=True, type=int)
@click.option("--offset", default=0, show_default=True, type=int)
@pass_state
def list_command(state: _State, fmt: str, search: str | None, limit: int, offset: int) -> None:
    """List credentials in id order."""
    _choice(fmt, LIST_FORMATS, "list format")
    credentials = state.catalog.list_credentials(limit=limit, offset=offset, search=search)
    if fmt == "jsonl":
        for credential in credentials:
            click.echo(orjson.dumps(credential.model_dump(mode="json")).decode())
        return
    if fmt == "json":
        _echo_json([c.model_dump(mode="json") for c in credentials])
        return
    rows: list[tuple[Any, ...]] = [("ID", "TITLE", "ISSUER", "OUTCOMES", "ACCEPTED", "SUGGESTED")]
    for credential in credentials:
        counts = Counter(t.state for t in state.catalog.list_tags(credential.id))
        rows.append((credential.id, credential.title, credential.issuer, len(credential.learning_outcomes),
                     counts["accepted"], counts["suggested"]))
    _echo_table(rows)
    total = state.catalog.count_credentials(search=search)
    if total > len(credentials):
        click.echo(f"({len(credentials)} of {total}; use --offset/--limit for more)", err=True)


@catalog.command("show")
@click.argument("credential_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (credential and tags).")
@pass_state
def show_command(state: _State, credential_id: int, as_json: bool) -> None:
    """Show one credential with its outcomes and tags."""
    credential = state.catalog.get_credential(credential_id)
    tags = state.catalog.list_tags(credential_id)
    if as_json:
        _echo_json({"credential": credential.model_dump(mode="json"), "tags": [t.model_dump(mode="json") for t in tags]})
        return
    click.echo(f"{credential.id}  {credential.title}  ({credential.issuer})")
    uid = getattr(credential, "uid", None)
    if uid:
        click.echo(f"  uid: {uid}")
    click.echo(f"  {credential.duration_hours:g} hours, {credential.delivery_mode}, {credential.credit}, "
               f"{credential.language}; assessment: {credential.assessment_type}")
    by_outcome: dict[int | None, list[Tag]] = {}
    for tag in tags:
        by_outcome.setdefault(tag.outcome_id, []).append(tag)
    for tag in by_outcome.get(None, []):
        click.echo(_tag_line(tag, indent="  "))
    for outcome in credential.learning_outcomes:
        click.echo(f"  {outcome.position}. {outcome.text}")
        for tag in by_outcome.get(outcome.id, []):
            click.echo(_tag_line(tag, indent="      "))


# -- import ---------------------------------------------------------------------------------------


@catalog.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True,
              help="auto, openbadges (Achievement or OpenBadgeCredential JSON), ctdl (JSON-LD) or csv (tag CSV).")
@click.option("--issuer", help="Issuer, when the document names none.")
@click.option("--duration-hours", type=float, help="Learner hours, when the document states none.")
@click.option("--delivery-mode", type=click.Choice(["online", "in_person", "hybrid"]), help="When not stated.")
@click.option("--credit", type=click.Choice(["credit", "non_credit"]), help="When not stated.")
@click.option("--assessment", help="Assessment type, when not stated.")
@click.option("--credential", "credential_id", type=int, help="csv: apply the rows to this credential.")
@click.option("--by", "decided_by", help="Who the imported decisions are recorded as (default: import of FILE).")
@pass_state
def import_command(state: _State, path: Path, fmt: str, issuer: str | None, duration_hours: float | None,
                   delivery_mode: str | None, credit: str | None, assessment: str | None,
                   credential_id: int | None, decided_by: str | None) -> None:
    """Read a credential (Open Badges 3.0 or CTDL JSON) into the catalog, or apply a tag CSV.

    Alignments become accepted tags on the credential; its outcomes can then be tagged with
    `catalog suggest`. A tag CSV (as `catalog export --format csv` writes it) sets the state of
    each row's tag on the credential it names."""
    defaults = {"issuer": issuer, "duration_hours": duration_hours, "delivery_mode": delivery_mode,
                "credit": credit, "assessment_type": assessment}
    result = read_document(path, format=fmt, defaults=defaults)
    who = decided_by or f"import of {path.name}"[:200]
    if isinstance(result, ImportedCredential):
        credential, tags = store_credential(state.catalog, result, decided_by=who)
        for note in result.notes:
            click.echo(f"note: {path}: {note}", err=True)
        click.echo(f"imported credential {credential.id} from {result.format}: {credential.title} — "
                   f"{len(credential.learning_outcomes)} outcomes, {len(tags)} accepted tags")
        return
    applied = apply_tags_csv(state.catalog, result, decided_by=who, path=str(path), credential_id=credential_id)
    counts = Counter(t.state for t in applied)
    ids = sorted({t.credential_id for t in applied})
    click.echo(f"applied {len(applied)} tag rows to credential {', '.join(map(str, ids)) or '-'}: "
               + ", ".join(f"{counts[s]} {s}" for s in ("accepted", "rejected", "suggested")))


@catalog.command("import-samples")
@pass_state
def import_samples_command(state: _State) -> None:
    """Store the sample credentials of the data folder with their reviewed tags (accepted)."""
    from competencymap.catalog.samples import import_sample_catalog

    imported = import_sample_catalog(state.catalog, state.settings.data)
    reviewers = sorted({t.decided_by or "" for t in imported.tags})
    click.echo(f"imported {len(imported.credentials)} sample credentials and {len(imported.tags)} accepted tags"
               + (f" (decided by {', '.join(reviewers)})" if reviewers else ""))


# -- suggest / accept / reject -----------------------------------------------------------------


@catalog.command("suggest")
@click.argument("credential_id", type=int)
@click.option("--framework", "frameworks", multiple=True, help="Framework(s) to suggest from (default: esco and sfs).")
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--min-score", type=float, help="Keep only matches scoring at least this.")
@click.option("--confident-only", is_flag=True, help="Keep only matches above the confidence threshold.")
@click.option("--model", help="Embedding model (default: settings).")
@pass_state
def suggest_command(state: _State, credential_id: int, frameworks: tuple[str, ...], top_k: int,
                    min_score: float | None, confident_only: bool, model: str | None) -> None:
    """Map every outcome and store the best competencies as suggested tags (decisions are kept)."""
    from competencymap.cli.options import framework_names
    from competencymap.engine import CompetencyMap

    names = framework_names(frameworks) if frameworks else ["esco", "sfs"]
    engine = CompetencyMap(state.settings.with_(model=model), on_status=lambda m: click.echo(m, err=True))
    credential = state.catalog.get_credential(credential_id)
    tags = suggest_and_store(engine, state.catalog, credential, frameworks=names, top_k=top_k, min_score=min_score,
                             confident_only=confident_only)
    for tag in tags:
        click.echo(_tag_line(tag))
    click.echo(f"{len(tags)} suggestions for credential {credential_id} ({', '.join(names)})", err=True)


@catalog.command("accept")
@click.argument("credential_id", type=int)
@click.argument("tags", nargs=-1)
@click.option("--all-confident", is_flag=True, help="Accept every suggested tag marked confident.")
@click.option("--by", "decided_by", help="Who decides (default: your user name).")
@pass_state
def accept_command(state: _State, credential_id: int, tags: tuple[str, ...], all_confident: bool,
                   decided_by: str | None) -> None:
    """Accept tags, given by tag id or competency IRI."""
    _decide(state, credential_id, tags, "accepted", decided_by, everything=all_confident, confident=True)


@catalog.command("reject")
@click.argument("credential_id", type=int)
@click.argument("tags", nargs=-1)
@click.option("--all-suggested", is_flag=True, help="Reject every tag still suggested.")
@click.option("--by", "decided_by", help="Who decides (default: your user name).")
@pass_state
def reject_command(state: _State, credential_id: int, tags: tuple[str, ...], all_suggested: bool,
                   decided_by: str | None) -> None:
    """Reject tags, given by tag id or competency IRI."""
    _decide(state, credential_id, tags, "rejected", decided_by, everything=all_suggested, confident=False)


def _decide(state: _State, credential_id: int, refs: tuple[str, ...], new_state: str, decided_by: str | None,
            *, everything: bool, confident: bool) -> None:
    existing = state.catalog.list_tags(credential_id)
    chosen = _resolve(existing, refs, credential_id)
    if everything:
        chosen += [t for t in existing if t.state == "suggested" and (not confident or t.evidence.get("confident"))]
    if not chosen:
        raise CompetencyMapError("no tags given: name tag ids or competency IRIs"
                                 + (", or use --all-confident" if confident else ", or use --all-suggested"))
    who = decided_by or _user()
    done = {}
    for tag in chosen:
        if tag.id not in done:
            done[tag.id] = state.catalog.set_tag_state(tag.id, new_state, who)
    for tag in done.values():
        click.echo(_tag_line(tag))


def _resolve(existing: list[Tag], refs: tuple[str, ...], credential_id: int) -> list[Tag]:
    by_id = {t.id: t for t in existing}
    chosen = []
    for ref in refs:
        if ref.isdigit():
            if int(ref) not in by_id:
                raise NotFound(f"tag {ref} not found in credential {credential_id}")
            chosen.append(by_id[int(ref)])
        else:
            matching = [t for t in existing if t.competency_iri == ref]
            if not matching:
                raise NotFound(f"no tag of {ref} in credential {credential_id}")
            chosen += matching
    return chosen


def _user() -> str:
    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):  # no user name in this environment (no login, no passwd entry)
        return "cli"


# -- export --------------------------------------------------------------------------------------


@catalog.command("export")
@click.argument("credential_id", type=int)
@click.option("--format", "fmt", default="openbadges", show_default=True,
              help="openbadges (Achievement), openbadges-credential (unsigned OpenBadgeCredential), ctdl or csv.")
@click.option("--issuer-url", help="openbadges: http(s) URL of the issuer profile; ids become URLs under it.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@pass_state
def export_command(state: _State, credential_id: int, fmt: str, issuer_url: str | None, output: Path | None) -> None:
    """Export a credential with its accepted tags in a standard format."""
    text = export_text(state.catalog, credential_id, fmt, issuer_url=issuer_url)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8", newline="")
        click.echo(f"wrote {output}", err=True)


def export_text(catalog_: Catalog, credential_id: int, fmt: str, *, issuer_url: str | None = None) -> str:
    """The credential in one of EXPORT_FORMATS, as text."""
    _choice(fmt, EXPORT_FORMATS, "export format")
    credential: Credential = catalog_.get_credential(credential_id)
    if fmt == "csv":
        return tags_to_csv(credential, catalog_.list_tags(credential_id))
    accepted = catalog_.accepted_competencies(credential_id)
    if fmt == "openbadges":
        doc = credential_to_achievement(credential, accepted, issuer_url=issuer_url)
    elif fmt == "openbadges-credential":
        doc = credential_to_openbadge_credential(credential, accepted, issuer_url=issuer_url)
    else:
        doc = credential_to_ctdl(credential, accepted)
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"


# -- helpers ---------------------------------------------------------------------------------------


def _choice(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise CompetencyMapError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")


def _tag_line(tag: Tag, indent: str = "") -> str:
    score = "" if tag.score is None else f"{tag.score:.3f}"
    mark = "*" if tag.evidence.get("confident") else " "
    return f"{indent}[{tag.id}] {tag.state:<9} {score:>6}{mark} {tag.framework:<5} {tag.label}  <{tag.competency_iri}>"


def _echo_json(value: object) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _echo_table(rows: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())

