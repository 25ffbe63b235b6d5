"""Chaos fixtures: reuse the server tests' pytest-lsp harness (`start`, `lean_file`) and add a tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import lean_file, start  # noqa: F401 (fixtures re-exported for this package)


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Only the tokenizer: the random-weight model is not needed for the fake OpenAI server.
    from lean_copilot_py.testing.tiny_tokenizer import build_tiny_tokenizer

    path = tmp_path_factory.mktemp("tiny-tokenizer")
    build_tiny_tokenizer().save_pretrained(path)
    return path
