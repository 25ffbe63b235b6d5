"""The VS Code extension's compile (tsc strict) and unit tests (node:test), run from pytest so CI sees
them. Skips when the extension's node_modules are not installed (tests/e2e/install.sh vscode)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.code_server import EXTENSION_DIR

# Marked e2e: it needs what tests/e2e/install.sh installs, and runs in the suite's e2e pass.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("npm") is None or not (EXTENSION_DIR / "node_modules" / "typescript").exists(),
        reason="the extension's node_modules are not installed (tests/e2e/install.sh vscode)",
    ),
]


def test_extension_compiles_and_unit_tests_pass() -> None:
    proc = subprocess.run(["npm", "test", "--silent"], cwd=EXTENSION_DIR, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "# fail 0" in proc.stdout, proc.stdout[-4000:]
