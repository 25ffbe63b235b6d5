"""The Neovim plugin's pure parts (config, roots, commands, status) checked in headless Neovim."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.fixture_project import REPO_ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim not installed (tests/e2e/install.sh nvim)"),
]


def test_plugin_unit_checks(tmp_path: Path) -> None:
    env = {**os.environ, "LEAN_COPILOT_REPO": str(REPO_ROOT), "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.run(
        ["nvim", "--headless", "--clean", "-c", f"luafile {REPO_ROOT / 'tests/e2e/nvim/unit.lua'}"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
