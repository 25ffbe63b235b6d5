"""End to end in real headless Neovim: the plugin (editor-clients/nvim) attaches `lean-copilot serve`
(with the fake Lean server, no model) to the fixture's Lean files and the user's actions run for real.

- prove_at_sorry.lua: `:LeanCopilot prove` (or `fill`, `fillsorry`) on the `sorry`; the buffer must then
  hold exactly the verified proof; also suggestions, :checkhealth and restart.
- drive.lua: scenarios typed key by key through nvim_input (mappings, insert mode, the command line):
  `:LeanCopilot repair` on a proof Lean rejects (the server's own check, server.check_documents, finds the
  error: no Lean plugin runs here) puts the repaired proof in the buffer;
  inline suggestions shown as virtual text (asked for with <C-l>, or by themselves with auto_trigger) and
  accepted with <C-l>; `:LeanCopilot fill` on a file with
  two sorries; `:LeanCopilot cancel` during a search Lean never finishes; a search that ends in an
  error, read from the statusline as a user configures it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lean_copilot_py.testing.lean_script import read_log
from tests.e2e.fixture_project import (
    BROKEN,
    EXPECTED_FILLED_ALL,
    EXPECTED_PROVED,
    EXPECTED_REPAIRED,
    FILL_ALL,
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

NVIM_DIR = Path(__file__).resolve().parent / "nvim"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim not installed (tests/e2e/install.sh nvim)"),
]


def run_nvim(tmp_path: Path, script: str, case: Case, extra_env: dict[str, str]) -> tuple[Project, dict]:
    project = make_project(tmp_path / "project")
    result_file = tmp_path / "result.json"
    env = {
        **os.environ,
        **project.env,
        **extra_env,
        "LEAN_COPILOT_REPO": str(REPO_ROOT),
        "LEAN_COPILOT_SERVER_CMD": json.dumps(server_command()),
        "LEAN_COPILOT_E2E_FILE": str(project.root / case.file),
        "LEAN_COPILOT_E2E_RESULT": str(result_file),
        "LEAN_COPILOT_E2E_LINE": str(case.line + 1),
        "LEAN_COPILOT_E2E_COL": str(case.character),
        # Neovim's state, data and cache (0.7 writes lsp.log to the cache) stay out of ~.
        "XDG_STATE_HOME": str(tmp_path / "nvim-state"),
        "XDG_DATA_HOME": str(tmp_path / "nvim-data"),
        "XDG_CACHE_HOME": str(tmp_path / "nvim-cache"),
    }
    proc = subprocess.run(
        ["nvim", "--headless", "--clean", "-u", str(NVIM_DIR / "minimal_init.lua"), "-c", f"luafile {NVIM_DIR / script}"],  # noqa: E501
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    if not result_file.exists():
        lsp_log = next((tmp_path / "nvim-cache").rglob("lsp.log"), None)
        log_tail = lsp_log.read_text(errors="replace")[-3000:] if lsp_log else ""
        pytest.fail(f"nvim wrote no result (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}\n{log_tail}")
    return project, json.loads(result_file.read_text(encoding="utf-8"))


def drive(tmp_path: Path, scenario: str, case: Case, **env: str) -> tuple[Project, dict, str]:
    project, out = run_nvim(tmp_path, "drive.lua", case, {"LEAN_COPILOT_E2E_SCENARIO": scenario, **env})
    context = json.dumps(out, indent=2)
    assert "lua_error" not in out, context
    assert out["filetype"] == "lean" and out["attached"], context
    return project, out, context


def lean_checked(project: Project, *needles: str) -> bool:
    """Whether the (fake) Lean server was sent a document holding every one of ``needles``."""
    opened = ("textDocument/didOpen", "textDocument/didChange")
    sent = [json.dumps(m["params"]) for m in read_log(project.fake_lean_log) if m.get("method") in opened]
    return any(all(n in text for n in needles) for text in sent)


def messages(out: dict) -> list[str]:
    return [m["msg"] for m in out["messages"]]


@pytest.mark.parametrize("command", ["prove", "fillsorry", "fill"])
def test_command_at_sorry_puts_the_verified_proof_in_the_buffer(tmp_path: Path, command: str) -> None:
    _, out = run_nvim(tmp_path, "prove_at_sorry.lua", PROVE, {"LEAN_COPILOT_E2E_COMMAND": command})
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


def test_inline_suggestion_is_virtual_text_accepted_with_ctrl_l(tmp_path: Path) -> None:
    project, out, context = drive(tmp_path, "inline", INLINE)
    assert out["mode_before"] == "i" and out["shown_line"] == "  ", context
    # Drawn as virtual text at the cursor, not put in the buffer.
    assert out["virtual_text"] == INLINE_SUGGESTION, context
    # The second <C-l> inserts it; the virtual text is gone; the user is still in insert mode, after it.
    assert out["accepted_line"] == "  " + INLINE_SUGGESTION, context
    assert out["virtual_text_after"] == "", context
    assert out["mode_after"] == "i", context
    assert out["typed_line"] == f"  {INLINE_SUGGESTION} -- done", context
    expected = INLINE.text() + f"  {INLINE_SUGGESTION} -- done\n"
    assert out["text"] == expected and not out["modified"], context
    assert (project.root / INLINE.file).read_text(encoding="utf-8") == expected, context
    # The suggestion was checked by (fake) Lean before it was offered.
    assert lean_checked(project, "zero_add_comm", INLINE_SUGGESTION)


def test_inline_suggestion_comes_by_itself_with_auto_trigger(tmp_path: Path) -> None:
    # The driver polls every 50 ms meanwhile, as LSP traffic keeps Neovim's loop busy in real use.
    _, out, context = drive(tmp_path, "inline_auto", INLINE, LEAN_COPILOT_E2E_AUTO="1")
    assert out["mode_before"] == "i" and out["shown_line"] == "  ", context
    assert out.get("virtual_text") == INLINE_SUGGESTION, context  # no key pressed for it
    assert out["accepted_line"] == "  " + INLINE_SUGGESTION and out["virtual_text_after"] == "", context
    assert out["text"] == INLINE.text() + f"  {INLINE_SUGGESTION}\n", context


def test_fill_all_sorries_fills_every_sorry(tmp_path: Path) -> None:
    _, out, context = drive(tmp_path, "fill_all", FILL_ALL)
    assert out["saw_searching"] and out["saw_searching"].startswith("lean-copilot: searching ("), context
    [res] = out["results"]
    assert res["result"]["status"] == "proved", context
    assert (res["result"]["proved"], res["result"]["total"]) == (2, 2), context
    assert out["text"] == EXPECTED_FILLED_ALL, context
    assert out["statuses"]["after"] == "lean-copilot: idle", context
    # Said once, though the server shows it and also returns it as the command's result.
    assert messages(out).count("lean-copilot: filled 2 of 2 sorries in Sorries.lean") == 1, context


def test_cancel_ends_a_slow_search_and_leaves_the_buffer_alone(tmp_path: Path) -> None:
    project, out, context = drive(tmp_path, "cancel", SLOW)
    # The search was observably running (Lean never finishes checking `omega` here) until cancelled.
    assert out["searching"] == "lean-copilot: searching (1)", context
    assert out["still_searching"] == "lean-copilot: searching (1)" and out["results_before_cancel"] == 0, context
    assert lean_checked(project, "slow_swap", "omega"), "Lean never got the check that hangs"
    # The server's answer to the prove command: cancelled; the statusline is idle again, well before the
    # hung check's own timeout (lean.check_timeout_s = 20) could have ended the search.
    [res] = out["results"]
    assert res["result"]["status"] == "cancelled", context
    assert out["idle"] == "lean-copilot: idle", context
    assert out["cancel_took_s"] < 10, context
    # Nothing applied, the user's text intact, in the buffer and on disk, also a few seconds later.
    assert out["text"] == out["text_after_wait"] == SLOW.text(), context
    assert not out["modified"], context
    assert (project.root / SLOW.file).read_text(encoding="utf-8") == SLOW.text()
    # Cancelling is what the user asked for: no warning about it.
    assert not [m for m in out["messages"] if m["level"] >= 3], context


def test_search_error_shows_in_the_statusline_until_restart(tmp_path: Path) -> None:
    _, out, context = drive(tmp_path, "error", BROKEN)
    [res] = out["results"]
    assert res["result"]["status"] == "error", context
    assert "Lean could not be used" in res["result"]["message"], context
    assert out["error_status"] == "lean-copilot: error", context
    # It stays: the server's "idle" right after the failed search does not hide it.
    assert out["statuses"]["error_later"] == "lean-copilot: error", context
    errors = [m["msg"] for m in out["messages"] if m["level"] == 4]
    assert len(errors) == 1 and "could not search for `broken_swap`" in errors[0], context
    assert ":LeanCopilot transcript" in errors[0], context
    # The command the message names opens the search's transcript.
    assert out["transcript"] and "/transcripts/" in out["transcript"], context
    assert "broken_swap" in out["transcript_text"], context
    assert out["restarted"] and out["after_restart"] == "lean-copilot: idle", context
    assert out["text"] == BROKEN.text() and not out["modified"], context


def test_repair_puts_the_repaired_proof_in_the_buffer(tmp_path: Path) -> None:
    project, out, context = drive(tmp_path, "repair", REPAIR, LEAN_COPILOT_E2E_CHECK="1")
    assert out["repair_result"]["status"] == "proved", context
    assert out["text"] == EXPECTED_REPAIRED and not out["modified"], context
    assert (project.root / REPAIR.file).read_text(encoding="utf-8") == EXPECTED_REPAIRED
    # Lean saw the user's broken proof (the server's whole-file check) before anything replaced it.
    assert lean_checked(project, "repair_swap", REPAIR_BROKEN)
    assert lean_checked(project, "repair_swap", "omega")
