"""Suite-wide markers and fixtures: `lean` needs a full Lean toolchain, `gpu` a CUDA device (both skip with
the reason); `real_lean` is the prelude-only real Lean 4.35 (tests/real_lean.py), which runs everywhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.real_lean import RealLean, RealLeanUnavailable, build_real_lean, make_prelude_project


@pytest.fixture(scope="session")
def real_lean() -> RealLean:
    """The real Lean 4.35 (prelude only). CI must have it: there a missing wheel or compiler fails the test."""
    try:
        return build_real_lean()
    except RealLeanUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"real Lean unavailable in CI: {exc}")
        pytest.skip(f"real Lean unavailable: {exc}")


@pytest.fixture
def prelude_project(tmp_path: Path) -> Path:
    """A fresh copy of tests/fixtures/prelude_project (lakefile.toml, lean-toolchain v4.35.0, Prelude/Basic.lean)."""
    return make_prelude_project(tmp_path / "prelude_project")


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the tiny tokenizer (lean_copilot_py/models/tiny_tokenizer.py): what the fake model server
    loads and what the client side reads, so token ids agree on both sides. Built once per session."""
    from lean_copilot_py.models.tiny_tokenizer import build_tiny_tokenizer

    path = tmp_path_factory.mktemp("tiny-tokenizer")
    build_tiny_tokenizer().save_pretrained(path)
    return path


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_lake = shutil.which("lake") is None
    no_gpu: bool | None = None
    for item in items:
        if no_lake and item.get_closest_marker("lean"):
            item.add_marker(pytest.mark.skip(reason="needs a Lean toolchain: `lake` is not on PATH (install elan)"))
        if item.get_closest_marker("gpu"):
            if no_gpu is None:
                no_gpu = not _cuda_available()
            if no_gpu:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)"))
