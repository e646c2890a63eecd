"""The public API: every name in `competencymap.__all__` resolves, and importing the package
loads none of the heavy parts (the model, FAISS, the web framework)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import competencymap


def test_every_public_name_resolves() -> None:
    assert sorted(competencymap.__all__) == sorted(competencymap._PUBLIC)
    for name in competencymap.__all__:
        assert getattr(competencymap, name) is not None, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NotAThing"):
        competencymap.NotAThing  # type: ignore[attr-defined]  # noqa: B018 - the attribute access is the test


def test_importing_the_package_stays_light() -> None:
    code = "import sys, competencymap; print(sorted({'torch', 'faiss', 'fastapi', 'onnxruntime'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
