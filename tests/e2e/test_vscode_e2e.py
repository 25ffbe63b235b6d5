"""End to end in the real VS Code workbench (code-server in headless Chromium, driven with the keyboard
and mouse by tests/e2e/vscode/drive.mjs): our extension starts `lean-copilot serve` (fake Lean server, no
model) and a user's every action runs in one session, each on its own fixture file:

- Ctrl+. on a `sorry` offers the lean-copilot actions; Prove, Fill this sorry and Fill all sorries put
  exactly the verified proofs into the file;
- Ctrl+. on a proof Lean rejects offers "Repair this proof" (the server's own check finds the error,
  leanCopilot.server.checkDocuments: no Lean extension runs here), which puts the repaired proof in the file;
- a verified next tactic appears as ghost text (inline completion) while the user types; Tab accepts it;
- a search Lean never finishes shows "searching (1)" in the status bar; clicking the item cancels it,
  and nothing is applied;
- a search that ends in an error turns the item into the error state, which stays; clicking it restarts
  the server, back to idle.

Screenshots land in test-artifacts/vscode-e2e/<scenario>/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from dataclasses import dataclass

import pytest

from lean_copilot_py.testing.lean_script import read_log
from tests.e2e.code_server import DRIVER_DIR, build_vsix, code_server, missing_tools
from tests.e2e.fixture_project import (
    BROKEN,
    EXPECTED_FILLED_ALL,
    EXPECTED_FILLED_SORRY,
    EXPECTED_PROVED,
    EXPECTED_REPAIRED,
    FILL_ALL,
    FILL_SORRY,
    INLINE,
    INLINE_SUGGESTION,
    PROVE,
    REPAIR,
    REPAIR_BROKEN,
    REPO_ROOT,
    SLOW,
    Case,
    Project,
    make_project,
    server_command,
)

ARTIFACTS = REPO_ROOT / "test-artifacts" / "vscode-e2e"
WHY_NOT = missing_tools()

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or ""),
    pytest.mark.timeout(480),  # the first test also pays for the shared session
]

PROVE_ACTION = "Prove with lean-copilot"
FILL_SORRY_ACTION = "Fill this sorry with lean-copilot"
FILL_ALL_ACTION = "Fill all sorries in this file with lean-copilot"
REPAIR_ACTION = "Repair this proof with lean-copilot"

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
    # No Lean extension reports Lean's errors here: the server checks each file itself, for "Repair this proof".
    "leanCopilot.server.checkDocuments": True,
}

# name -> (kind, case, action); the order is the session's.
SCENARIOS: dict[str, tuple[str, Case, str]] = {
    "prove": ("quickfix", PROVE, PROVE_ACTION),
    "fill-sorry": ("quickfix", FILL_SORRY, FILL_SORRY_ACTION),
    "fill-all": ("quickfix", FILL_ALL, FILL_ALL_ACTION),
    "repair": ("quickfix", REPAIR, REPAIR_ACTION),
    "inline": ("inline", INLINE, ""),
    "cancel": ("cancel", SLOW, PROVE_ACTION),
    "error": ("error", BROKEN, PROVE_ACTION),
}


@dataclass(frozen=True)
class Session:
    project: Project
    out: dict
    code_server_log: str
    extension_log: str  # the Lean Copilot output channel (each command's outcome, the server's stderr)

    def scenario(self, name: str) -> tuple[dict, str]:
        result = self.out["scenarios"].get(name)
        context = (
            json.dumps(result if result is not None else self.out, indent=2)
            + f"\nscreenshots: {ARTIFACTS / name}\ncode-server log tail:\n{self.code_server_log[-1500:]}"
        )
        assert result is not None, context
        assert "failure" not in result, context
        return result, context


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    tmp_path = tmp_path_factory.mktemp("vscode")
    project = make_project(tmp_path / "project")
    vsix = build_vsix(tmp_path)
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    result_file = tmp_path / "result.json"
    state = tmp_path / "code-server"
    with code_server(state, vsix, project.root, USER_SETTINGS, project.env) as workbench:
        config = {
            "url": f"{workbench.url}/?folder={urllib.parse.quote(str(project.root))}",
            "result": str(result_file),
            "artifacts": str(ARTIFACTS),
            "timeoutMs": 90_000,
            "scenarios": [
                {
                    "name": name,
                    "kind": kind,
                    "file": str(project.root / case.file),
                    "fileName": case.file,
                    "line": case.line + 1,
                    "column": case.character + 1,
                    "action": action,
                    # The text that is gone once the action's edit is in (a `sorry`, the broken proof).
                    "gone": REPAIR_BROKEN if case is REPAIR else "sorry",
                }
                for name, (kind, case, action) in SCENARIOS.items()
            ],
        }
        proc = subprocess.run(
            ["node", str(DRIVER_DIR / "drive.mjs"), json.dumps(config)],
            cwd=DRIVER_DIR,
            capture_output=True,
            text=True,
            timeout=420,
        )
        log = workbench.log.read_text(encoding="utf-8", errors="replace")
    if not result_file.exists():
        pytest.fail(f"driver wrote no result (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}\n{log[-3000:]}")
    out = json.loads(result_file.read_text(encoding="utf-8"))
    extension_log = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(state.rglob("*Lean Copilot*.log"))
    )
    # Beside the screenshots, for whoever reads a failure.
    (ARTIFACTS / "result.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    (ARTIFACTS / "lean-copilot-output.log").write_text(extension_log, encoding="utf-8")
    assert "failure" not in out, json.dumps(out, indent=2) + log[-3000:]
    return Session(project, out, log, extension_log)


def lean_checked(project: Project, *needles: str) -> bool:
    """Whether the (fake) Lean server was sent a document holding every one of ``needles``."""
    opened = ("textDocument/didOpen", "textDocument/didChange")
    sent = [json.dumps(m["params"]) for m in read_log(project.fake_lean_log) if m.get("method") in opened]
    return any(all(n in text for n in needles) for text in sent)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("prove", EXPECTED_PROVED), ("fill-sorry", EXPECTED_FILLED_SORRY), ("fill-all", EXPECTED_FILLED_ALL)],
)
def test_quick_fix_puts_the_verified_proof_in_the_file(session: Session, name: str, expected: str) -> None:
    r, context = session.scenario(name)
    titles = " | ".join(r["quickFixEntries"])
    for title in (PROVE_ACTION, FILL_SORRY_ACTION, FILL_ALL_ACTION):
        assert title in titles, context
    assert r["diskText"] == expected, context
    assert r["statusAfter"]["icon"] == "check", context


def test_repair_this_proof_puts_the_repaired_proof_in_the_file(session: Session) -> None:
    r, context = session.scenario("repair")
    assert REPAIR_ACTION in " | ".join(r["quickFixEntries"]), context
    assert r["diskText"] == EXPECTED_REPAIRED, context
    assert r["statusAfter"]["icon"] == "check", context
    # Lean saw the user's broken proof (the server's whole-file check) before anything replaced it.
    assert lean_checked(session.project, "repair_swap", REPAIR_BROKEN)


def test_fill_all_reports_every_sorry_filled(session: Session) -> None:
    r, context = session.scenario("fill-all")
    # Once: the server shows it, and it is also the command's result.
    assert r["toasts"].count("lean-copilot: filled 2 of 2 sorries in Sorries.lean") == 1, context


def test_inline_suggestion_is_ghost_text_accepted_with_tab(session: Session) -> None:
    r, context = session.scenario("inline")
    # Shown as ghost text only: the document is unchanged but for what the user typed.
    assert r["ghostText"] == INLINE_SUGGESTION, context
    assert r["ghostTextAfter"].strip() == "", context
    assert r["diskText"] == INLINE.text() + f"  {INLINE_SUGGESTION}\n", context
    # Lean checked it before it was offered.
    assert lean_checked(session.project, "zero_add_comm", INLINE_SUGGESTION)


def test_clicking_the_status_item_cancels_a_slow_search(session: Session) -> None:
    r, context = session.scenario("cancel")
    # Observably running: Lean never finishes checking `omega` in this theorem.
    assert r["searching"]["text"] == "Lean Copilot: searching (1)", context
    assert r["stillSearching"]["icon"] == "sync", context
    assert lean_checked(session.project, "slow_swap", "omega")
    # Idle again soon after the click, long before the hung check's own timeout (20 s) could end it.
    assert r["idle"]["text"] == "Lean Copilot", context
    assert r["cancelTookS"] < 10, context
    # The server answered the Prove command with "cancelled" (the output channel logs every outcome).
    answer = r"leanCopilot\.prove \(s\d+\): cancelled — lean-copilot: `slow_swap`: cancelled"
    assert re.search(answer, session.extension_log), session.extension_log[-3000:]
    # Nothing applied; the user's text is intact, in the editor and on disk; no message about it.
    assert r["diskText"] == r["original"] == SLOW.text(), context
    assert r["editorText"].strip() == SLOW.text().strip(), context
    assert not r["dirty"], context
    assert not [t for t in r["toasts"] if "slow_swap" in t], context
    assert r["statusLater"]["icon"] == "check", context


def test_status_item_states_idle_searching_error(session: Session) -> None:
    ready = session.out["statusReady"]
    assert (ready["text"], ready["icon"], ready["errorKind"]) == ("Lean Copilot", "check", False), ready
    cancel, _ = session.scenario("cancel")
    assert (cancel["searching"]["icon"], cancel["searching"]["errorKind"]) == ("sync", False), cancel
    r, context = session.scenario("error")
    assert (r["error"]["text"], r["error"]["icon"], r["error"]["errorKind"]) == ("Lean Copilot", "error", True), context
    assert "could not search for `broken_swap`" in r["errorToast"], context
    # One notification (the server's, with its action), not a second one from the command's result.
    assert len(r["errorToasts"]) == 1 and "Show transcript" in r["toastButtons"], context
    assert r["transcriptTab"].endswith(".md") and "broken_swap" in r["transcriptText"], context
    # The error stays after the server's "idle" that follows the failed search.
    assert (r["errorLater"]["icon"], r["errorLater"]["errorKind"]) == ("error", True), context
    # Clicking the error item restarts the server: back to idle, and the user's file untouched.
    assert (r["restarted"]["icon"], r["restarted"]["errorKind"]) == ("check", False), context
    assert session.extension_log.count("lean-copilot server starting") >= 2, session.extension_log[-3000:]
    assert r["diskText"] == BROKEN.text() and not r["dirty"], context
