"""`lean-copilot serve` with the real Engine, over the scripted fake Lean server (lean_copilot_py/testing/fake_lean.py).

The model side points at a closed port with an unloadable tokenizer (HF offline): the model server is
"down", so only the automation portfolio runs — which is also what these tests check the user is told.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

from lean_copilot_py.testing.lean_script import Rule, Script, fake_lean_command, proved, write_script

from .conftest import Start

PROVE_ME = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
SERVE = [sys.executable, "-m", "lean_copilot_py", "serve"]
REPO = str(Path(__file__).resolve().parents[2])


def options(tmp_path: Path, script: Script) -> dict[str, Any]:
    script_path = write_script(tmp_path / "script.json", script)
    return {
        "leanCopilot": {
            "lean": {"server_command": fake_lean_command(script_path), "check_timeout_s": 10, "startup_timeout_s": 20},
            "model": {"backend": "openai", "endpoint": "http://127.0.0.1:9/v1", "name": "no/such-model"},
            "search": {"automation": ["rfl", "omega"], "attempts": 1, "deadline_s": 30, "cache": False},
            "paths": {"cache_dir": str(tmp_path / "cache")},
            "inline": {"use_model": False, "budget_s": 10},
        }
    }


async def serve(start: Start, tmp_path: Path, script: Script) -> Any:
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": REPO}
    return await start(init_options=options(tmp_path, script), command=SERVE, env=env)


async def test_automation_proof_through_fake_lean_is_applied(start: Start, lean_file, tmp_path: Path) -> None:
    uri = lean_file(PROVE_ME)
    editor = await serve(start, tmp_path, Script(rules=[proved(r"\bomega\b")], default=Rule(unsolved=True)))
    editor.open(uri, PROVE_ME)
    result = await asyncio.wait_for(editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 8}), 60)
    assert result["status"] == "proved", result
    assert editor.texts[uri] == "theorem foo (n : Nat) : n + 0 = n := by\n  omega\n"


async def test_model_down_and_nothing_proves(start: Start, lean_file, tmp_path: Path) -> None:
    uri = lean_file(PROVE_ME)
    editor = await serve(start, tmp_path, Script(default=Rule(unsolved=True)))
    editor.open(uri, PROVE_ME)
    result = await asyncio.wait_for(editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 8}), 60)
    assert result["status"] == "failed", result
    assert "only the automation ran" in result["message"]
    assert editor.applied == [] and editor.texts[uri] == PROVE_ME
    shown = [m.message for m in editor.client.messages] + [m.message for m in editor.message_requests]
    assert any("only the automation ran" in m for m in shown), shown


async def test_lean_server_dies_mid_search(start: Start, lean_file, tmp_path: Path) -> None:
    uri = lean_file(PROVE_ME)
    script = Script(rules=[Rule(pattern=r"\bomega\b", exit_server=True)], default=Rule(unsolved=True))
    editor = await serve(start, tmp_path, script)
    editor.open(uri, PROVE_ME)
    result = await asyncio.wait_for(editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 8}), 60)
    assert result["status"] in ("failed", "error"), result
    assert "Traceback" not in result["message"] and len(result["message"].splitlines()) == 1
    assert editor.texts[uri] == PROVE_ME
    # still serving: code actions answer from text alone
    actions = await editor.client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(lsp.Position(0, 8), lsp.Position(0, 8)),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions


async def test_inline_suggestions_verified_by_fake_lean(start: Start, lean_file, tmp_path: Path) -> None:
    text = "theorem foo (n : Nat) : n + 0 = n := by\n  \n"
    uri = lean_file(text)
    editor = await serve(start, tmp_path, Script(rules=[proved(r"\bomega\b")], default=Rule(unsolved=True)))
    editor.open(uri, text)
    raw = await asyncio.wait_for(
        editor.client.protocol.send_request_async(
            "leanCopilot/suggestions", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
        ),
        60,
    )
    items = raw["items"] if isinstance(raw, dict) else raw.items
    texts = [i["insertText"] if isinstance(i, dict) else i.insertText for i in items]
    assert "omega" in texts, texts
