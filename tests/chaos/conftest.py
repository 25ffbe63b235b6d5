"""Chaos fixtures: reuse the server tests' pytest-lsp harness (`start`, `lean_file`); the tokenizer folder is the
session's (`tiny_tokenizer_dir`, tests/conftest.py)."""

from __future__ import annotations

from tests.server.conftest import lean_file, start  # noqa: F401 (fixtures re-exported for this package)
