"""`competencymap model`: the embedding model and its derived files."""

from __future__ import annotations

import click

from competencymap.cli.common import echo_json, engine_options
from competencymap.encoding.onnx_export import export, read_manifest
from competencymap.engine import CompetencyMap


@click.group("model")
def model() -> None:
    """The embedding model: where it is, its checksum, its ONNX export."""


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
