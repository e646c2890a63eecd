"""Options and output helpers shared by the commands that need the whole CompetencyMap."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson

from competencymap._common.config import BACKENDS, load_settings
from competencymap.cli.options import DATA, HOME
from competencymap.engine import CompetencyMap


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --home/--data/--model/--language/--backend and pass a ready `CompetencyMap` as `engine`."""

    @HOME
    @DATA
    @click.option("--model", help="Embedding model: a name or a local sentence-transformers folder "
                                  "(default: COMPETENCYMAP_MODEL or esco-minilm-l6, the stock all-MiniLM-L6-v2 adapted to ESCO; all-MiniLM-L6-v2 selects the stock model).")
    @click.option("--language", help="Framework label language (default: en).")
    @click.option("--backend", type=click.Choice(BACKENDS),
                  help="What runs the model (default: COMPETENCYMAP_BACKEND or onnx-int8).")
    @functools.wraps(command)
    def wrapper(home: Path | None, data: Path | None, model: str | None, language: str | None,
                backend: str | None, **kwargs: Any) -> Any:
        settings = load_settings(home=home, data=data, model=model, language=language, backend=backend)
        engine = CompetencyMap(settings, on_status=lambda message: click.echo(message, err=True))
        return command(engine=engine, **kwargs)

    return wrapper


def echo_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
