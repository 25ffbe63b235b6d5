"""`lean-copilot serve` end to end on the real prelude Lean 4.35: an editor (pytest-lsp, VS Code or Neovim
capabilities) asks for the code action, runs its command, and the proof the scripted model proposed comes
back as `workspace/applyEdit` only after `lean --server` accepted it. Astral-plane identifiers on the target
line check the UTF-16 columns towards the editor (Lean's are UTF-16 too; the core counts code points)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from lean_copilot_py.testing.fake_openai import FakeOpenAI
from tests.real_lean import RealLean, prelude_file

from .conftest import CLIENTS, Start
from .test_lsp_fake_engine import raw_code_actions

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(120)]

SERVE = [sys.executable, "-m", "lean_copilot_py", "serve"]
REPO = str(Path(__file__).resolve().parents[2])
HEADER = "theorem 𝕜_zero (𝔵 : N) : Eq (N.add 𝔵 N.z) 𝔵 :="
TEXT = prelude_file("def 𝔸𝔹 : N := N.z", f"{HEADER} sorry")


def options(real_lean: RealLean, model_url: str, tokenizer: Path, cache: Path) -> dict[str, Any]:
    return {
        "leanCopilot": {
            "lean": {"server_command": real_lean.server_command(), "check_timeout_s": 30, "startup_timeout_s": 60},
            "model": {"backend": "openai", "endpoint": model_url, "name": "fake-model", "tokenizer": str(tokenizer)},
            "search": {"automation": [], "attempts": 1, "deadline_s": 60, "cache": False, "max_tokens": 2048},
            "paths": {"cache_dir": str(cache)},
            "inline": {"use_model": False},
        }
    }


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def serve_and_prove(start: Start, prelude_project: Path, real_lean: RealLean, tokenizer: Path,
                          final_code: str, client: str = "visual_studio_code"):
    path = prelude_project / "Prelude" / "Demo.lean"
    path.write_text(TEXT, encoding="utf-8")
    uri = path.as_uri()
    turns = [f"</think>\nHere it is:\n```lean4\n{final_code}\n```"]
    model = FakeOpenAI({"scripts": [turns]}, tokenizer_dir=tokenizer)
    await model.start()
    try:
        env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": REPO}
        init = options(real_lean, model.url, tokenizer, prelude_project.parent / "cache")
        editor = await start(init_options=init, command=SERVE, env=env, root=prelude_project, client=client)
        editor.open(uri, TEXT)
        line = TEXT.split("\n").index(f"{HEADER} sorry")
        character = utf16(f"{HEADER} ")  # on the `sorry`, counted as the editor counts
        actions = await raw_code_actions(editor, uri, line, character)
        prove = next(a for a in actions if a["command"]["command"] == "leanCopilot.prove")
        result = await asyncio.wait_for(editor.command("leanCopilot.prove", *prove["command"]["arguments"]), 90)
        return editor, uri, line, result, model
    finally:
        await model.stop()


@pytest.mark.parametrize("client", CLIENTS)
async def test_code_action_applies_the_proof_lean_accepted(
    start: Start, prelude_project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path, client: str
) -> None:
    editor, uri, line, result, model = await serve_and_prove(
        start, prelude_project, real_lean, tiny_tokenizer_dir, f"{HEADER} Eq.refl", client
    )
    assert result["status"] == "proved", result
    assert model.requests  # the proof came from the model, through the real checker
    assert editor.texts[uri] == TEXT.replace(f"{HEADER} sorry", f"{HEADER} Eq.refl")
    (applied,) = editor.applied
    edit = applied.edit
    edits = edit.document_changes[0].edits if edit.document_changes else edit.changes[uri]
    (only,) = edits
    # `𝕜` and `𝔵` are two UTF-16 units each: the edit replaces " sorry" where the editor sees it
    assert only.range == lsp.Range(lsp.Position(line, utf16(HEADER)), lsp.Position(line, utf16(f"{HEADER} sorry")))
    assert utf16(HEADER) == len(HEADER) + 4


async def test_a_proof_lean_refuses_is_never_applied(
    start: Start, prelude_project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    editor, uri, _line, result, _model = await serve_and_prove(
        start, prelude_project, real_lean, tiny_tokenizer_dir, f"{HEADER} 𝔸𝔹"
    )
    assert result["status"] == "failed", result
    assert editor.applied == []
    assert editor.texts[uri] == TEXT
    shown = [m.message for m in editor.client.messages] + [m.message for m in editor.message_requests]
    assert any("no verified proof of `𝕜_zero`" in m for m in shown), shown
