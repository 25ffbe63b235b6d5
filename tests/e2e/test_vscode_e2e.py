"""End to end in the real VS Code workbench (code-server in headless Chromium, driven with the
keyboard by tests/e2e/vscode/drive.mjs): our extension starts `lean-copilot serve` (fake Lean server,
no model), Ctrl+. on the fixture's `sorry` offers the lean-copilot actions, choosing one puts exactly
the verified proof into the file. Screenshots land in test-artifacts/vscode-e2e/."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from tests.e2e.code_server import DRIVER_DIR, build_vsix, code_server, missing_tools
from tests.e2e.fixture_project import (
    EXPECTED_PROVED,
    LEAN_FILE,
    REPO_ROOT,
    SORRY_CHARACTER,
    SORRY_LINE,
    make_project,
    server_command,
)

ARTIFACTS = REPO_ROOT / "test-artifacts" / "vscode-e2e"
WHY_NOT = missing_tools()

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]

USER_SETTINGS = {
    # Without these a Restricted Mode dialog, a welcome page or AI chat panels get in the way.
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "chat.disableAIFeatures": True,
    "workbench.tips.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.ignoreRecommendations": True,
    "telemetry.telemetryLevel": "off",
    "files.autoSave": "off",
    "leanCopilot.server.command": server_command(),
}


@pytest.mark.timeout(420)
@pytest.mark.parametrize(
    ("action", "shots"),
    [("Prove with lean-copilot", "prove"), ("Fill this sorry with lean-copilot", "fill-sorry")],
)
def test_quick_fix_puts_the_verified_proof_in_the_file(tmp_path: Path, action: str, shots: str) -> None:
    project = make_project(tmp_path / "project")
    vsix = build_vsix(tmp_path)
    artifacts = ARTIFACTS / shots
    if artifacts.exists():
        shutil.rmtree(artifacts)
    result_file = tmp_path / "result.json"
    with code_server(tmp_path / "code-server", vsix, project.root, USER_SETTINGS, project.env) as workbench:
        config = {
            "url": f"{workbench.url}/?folder={urllib.parse.quote(str(project.root))}",
            "file": str(project.lean_file),
            "fileName": LEAN_FILE,
            "line": SORRY_LINE + 1,
            "column": SORRY_CHARACTER + 1,
            "action": action,
            "result": str(result_file),
            "artifacts": str(artifacts),
            "timeoutMs": 90_000,
        }
        proc = subprocess.run(
            ["node", str(DRIVER_DIR / "drive.mjs"), json.dumps(config)],
            cwd=DRIVER_DIR,
            capture_output=True,
            text=True,
            timeout=360,
        )
        log = workbench.log.read_text(encoding="utf-8", errors="replace")
    if not result_file.exists():
        pytest.fail(f"driver wrote no result (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}\n{log[-3000:]}")
    out = json.loads(result_file.read_text(encoding="utf-8"))
    context = json.dumps(out, indent=2) + f"\nscreenshots: {artifacts}\ncode-server log tail:\n{log[-2000:]}"
    assert "error" not in out, context
    titles = " | ".join(out["quickFixEntries"])
    for title in (
        "Prove with lean-copilot",
        "Fill this sorry with lean-copilot",
        "Fill all sorries in this file with lean-copilot",
    ):
        assert title in titles, context
    assert out["diskText"] == EXPECTED_PROVED, context
