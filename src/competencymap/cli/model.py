"""`competencymap model`: the embedding model and its derived files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from competencymap._common.checksum import file_sha256
from competencymap._common.config import STOCK_MODEL
from competencymap.catalog.repository import Catalog
from competencymap.cli.common import echo_json, engine_options
from competencymap.encoding.encoder import Encoder
from competencymap.encoding.onnx_export import export, read_manifest
from competencymap.encoding.training import ADAPTER_FILE, Pair, TrainSettings, read_pairs, train, write_pairs
from competencymap.engine import CompetencyMap
from competencymap.workflows.training_pairs import (
    SKILLSKAPE,
    catalog_decisions,
    decision_pairs,
    esco_pairs,
    skillskape_pairs,
)


@click.group("model")
def model() -> None:
    """The embedding model: where it is, its checksum, its ONNX export, and adapting it (pairs, train)."""


@model.command("info")
@engine_options
def info_command(engine: CompetencyMap) -> None:
    """Where the model is, its verified sha256, the backend and the ONNX export's manifest."""
    encoder = engine.encoder
    echo_json({
        "model": encoder.name, "folder": str(encoder.folder), "sha256": encoder.checksum,
        "backend": encoder.backend, "dimension": encoder.dimension, "max_seq_length": encoder.max_seq_length,
        "onnx_folder": str(encoder.onnx_folder()), "onnx_manifest": read_manifest(encoder.onnx_folder()),
    })


@model.command("export")
@click.option("--force", is_flag=True, help="Export again even when a verified export exists.")
@engine_options
def export_command(engine: CompetencyMap, force: bool) -> None:
    """Export the verified model to ONNX (fp32 and int8) once; later runs check it against its manifest."""
    encoder = engine.encoder
    folder = encoder.onnx_folder()
    if force or read_manifest(folder) is None:
        click.echo(f"exporting {encoder.name} to ONNX under {folder}", err=True)
        export(encoder.folder, encoder.checksum, folder)
    encoder.encode(["check"])  # loads the chosen backend, verifying its file
    click.echo(f"{encoder.name}: ONNX export verified in {folder}", err=True)


@model.command("pairs")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the pairs (JSON lines: anchor, positive, key, also, group).")
@click.option("--esco/--no-esco", default=True, help="ESCO's own labels, descriptions and occupations.")
@click.option("--skillskape/--no-skillskape", default=True, help="SkillSkape's training sentences (bundled, MIT).")
@click.option("--catalog", "from_catalog", is_flag=True,
              help="Also the designers' decisions in the catalog: accepted tags as pairs, rejected ones as wrong answers.")
@click.option("--seed", type=int, default=13, show_default=True, help="Chooses which alternative labels are used.")
@engine_options
def pairs_command(engine: CompetencyMap, out: Path, esco: bool, skillskape: bool, from_catalog: bool, seed: int) -> None:
    """Write training pairs for `model train` from what ESCO teaches (and, with --catalog, from your catalog)."""
    framework = engine.framework("esco")
    pairs: list[Pair] = esco_pairs(framework, seed=seed) if esco else []
    if skillskape:
        sentences, unmatched = skillskape_pairs(engine.settings.data / SKILLSKAPE, framework)
        click.echo(f"SkillSkape: {len(sentences)} pairs ({unmatched} labels matched no ESCO skill)", err=True)
        pairs += sentences
    if from_catalog:
        with Catalog.from_settings(engine.settings) as catalog:
            decided = list(decision_pairs(catalog_decisions(catalog)))
        click.echo(f"catalog: {len(decided)} pairs from accepted tags", err=True)
        pairs += decided
    if not pairs:
        raise click.UsageError("no pairs: every source was left out")
    count = write_pairs(pairs, out)
    click.echo(f"{count} pairs written to {out} (sha256 {file_sha256(out)})", err=True)


@model.command("train")
@click.option("--pairs", "pairs_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Training pairs (JSON lines, as `model pairs` writes them).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the adapter (adapter.safetensors, adapter.json); use it with --model OUT.")
@click.option("--seed", type=int, default=TrainSettings.seed, show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=TrainSettings.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(2), default=TrainSettings.batch_size, show_default=True)
@click.option("--rank", type=click.IntRange(1), default=TrainSettings.rank, show_default=True, help="LoRA rank.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=TrainSettings.learning_rate,
              show_default=True)
@click.option("--threads", type=click.IntRange(0), default=2, show_default=True,
              help="Torch threads (the result is reproducible for the same thread count).")
@click.option("--limit", type=click.IntRange(0), default=0, help="Train on this many pairs only (0: all).")
def train_command(pairs_path: Path, out: Path, seed: int, epochs: int, batch_size: int, rank: int,
                  learning_rate: float, threads: int, limit: int) -> None:
    """Adapt the stock all-MiniLM-L6-v2 to your pairs: a LoRA adapter, deterministic for a seed.

    The shipped esco-minilm-l6 comes from `model pairs --out pairs.jsonl` then
    `model train --pairs pairs.jsonl --out DIR` with the defaults (about 40 minutes on two cores)."""
    from tqdm import tqdm

    base = Encoder(STOCK_MODEL)  # verified by its sha256
    pairs = read_pairs(pairs_path)
    settings = TrainSettings(seed=seed, epochs=epochs, batch_size=batch_size, rank=rank, alpha=2.0 * rank,
                             learning_rate=learning_rate, threads=threads, limit=limit)
    click.echo(f"training a rank-{rank} adapter for {STOCK_MODEL} on {len(pairs)} pairs", err=True)
    with tqdm(desc="training", unit="batch", file=sys.stderr) as bar:
        def progress(step: int, total: int, loss: float) -> None:
            bar.total = total
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")

        report = train(base.folder, base.checksum, pairs, out, settings, pairs_sha256=file_sha256(pairs_path),
                       on_progress=progress)
    click.echo(f"{report.steps} steps in {report.seconds:.0f} s; adapter in {out} "
               f"(sha256 {file_sha256(out / ADAPTER_FILE)}); use it with --model {out}", err=True)
