"""End to end in real headless Neovim: the plugin (editor-clients/nvim) attaches `lean-copilot serve`
(with the fake Lean server, no model) to the fixture's Lean file, `:LeanCopilot prove` (or `fill`,
`fillsorry`) on the `sorry`, and the buffer must then hold exactly the verified proof."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.fixture_project import (
    EXPECTED_PROVED,
    REPO_ROOT,
    SORRY_CHARACTER,
    SORRY_LINE,
    make_project,
    server_command,
)

NVIM_DIR = Path(__file__).resolve().parent / "nvim"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim not installed (tests/e2e/install.sh nvim)"),
]


def run_nvim(project_dir: Path, result_file: Path, command: str = "prove") -> dict:
    project = make_project(project_dir)
    env = {
        **os.environ,
        **project.env,
        "LEAN_COPILOT_REPO": str(REPO_ROOT),
        "LEAN_COPILOT_SERVER_CMD": json.dumps(server_command()),
        "LEAN_COPILOT_E2E_COMMAND": command,
        "LEAN_COPILOT_E2E_FILE": str(project.lean_file),
        "LEAN_COPILOT_E2E_RESULT": str(result_file),
        "LEAN_COPILOT_E2E_LINE": str(SORRY_LINE + 1),
        "LEAN_COPILOT_E2E_COL": str(SORRY_CHARACTER),
        "XDG_STATE_HOME": str(project_dir.parent / "nvim-state"),  # the LSP log lands here, not in ~
        "XDG_DATA_HOME": str(project_dir.parent / "nvim-data"),
    }
    proc = subprocess.run(
        [
            "nvim",
            "--headless",
            "--clean",
            "-u",
            str(NVIM_DIR / "minimal_init.lua"),
            "-c",
            f"luafile {NVIM_DIR / 'prove_at_sorry.lua'}",
        ],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    if not result_file.exists():
        pytest.fail(f"nvim wrote no result (rc={proc.returncode})\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return json.loads(result_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("command", ["prove", "fillsorry", "fill"])
def test_command_at_sorry_puts_the_verified_proof_in_the_buffer(tmp_path: Path, command: str) -> None:
    out = run_nvim(tmp_path / "project", tmp_path / "result.json", command)
    context = json.dumps(out, indent=2)
    assert "lua_error" not in out, context
    assert out["filetype"] == "lean", context
    assert out["attached"], "the lean-copilot client never attached\n" + context
    assert out["finished"], "no answer to leanCopilot.prove\n" + context
    assert out.get("error") in (None, {}), context
    assert out["result"]["status"] == "proved", context
    assert out["text"] == EXPECTED_PROVED, context
    assert out.get("suggestions_error") in (None, {}), context
    assert out["health_ok"], context
    assert "lean-copilot" in out.get("health", ""), context
    assert out["restarted"], "no new client after :LeanCopilot restart\n" + context
