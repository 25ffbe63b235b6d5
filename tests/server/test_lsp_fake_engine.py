"""The LSP surface end to end against a subprocess server whose Engine is scripted (fake_engine.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from .conftest import CLIENTS, Editor, Start

PROVE_ME = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
TWO = "theorem a : 1 = 1 := by\n  sorry\n\ntheorem b (n : Nat) : n = n := by\n  intro\n  sorry\n"


async def raw_code_actions(editor: Editor, uri: str, line: int, character: int) -> list[dict]:
    """Raw JSON of the code actions (PROTOCOLS §6: the typed client mis-decodes CodeAction as Command)."""
    pos = lsp.Position(line, character)
    params = lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(pos, pos),
        context=lsp.CodeActionContext(diagnostics=[]),
    )
    protocol = editor.client.protocol
    msg_id = f"raw-{id(params)}"
    fut = protocol.send_request(lsp.TEXT_DOCUMENT_CODE_ACTION, params, msg_id=msg_id)
    protocol._result_types.pop(msg_id, None)  # no result type: the response stays raw JSON
    result = await asyncio.wrap_future(fut)
    return [_plain(a) for a in result or []]


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple) and not hasattr(obj, "_asdict"):
        return [_plain(v) for v in obj]
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    return obj


@pytest.mark.parametrize("client", CLIENTS)
async def test_prove_action_to_verified_edit(start: Start, lean_file, client: str) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start({"proof": "by\n  simp", "events": 3, "delay": 0.3}, client=client)
    editor.open(uri, PROVE_ME)

    actions = await raw_code_actions(editor, uri, 0, 10)
    titles = [a["title"] for a in actions]
    assert titles == ["Prove with lean-copilot", "Fill all sorries in this file with lean-copilot"]
    prove = actions[0]
    assert prove["kind"] == "quickfix"
    assert prove["command"]["command"] == "leanCopilot.prove"
    assert prove["command"]["arguments"] == [{"uri": uri, "line": 0, "character": 10}]

    result = await editor.command("leanCopilot.prove", *prove["command"]["arguments"])
    assert result["status"] == "proved", result
    assert editor.texts[uri] == "theorem foo (n : Nat) : n + 0 = n := by\n  simp\n"
    assert len(editor.applied) == 1
    edit = editor.applied[0].edit
    if client == "visual_studio_code":  # declares documentChanges: a versioned edit
        (doc_edit,) = edit.document_changes
        assert doc_edit.text_document.version == 1
        (only,) = doc_edit.edits
    else:
        (only,) = edit.changes[uri]
    assert only.range == lsp.Range(lsp.Position(0, 36), lsp.Position(1, 7))

    # work-done progress: created by the server, begin (cancellable) ... end
    token = f"lean-copilot/{result['searchId']}"
    reports = editor.client.progress_reports[token]
    assert reports[0].kind == "begin" and reports[0].cancellable is True
    assert any(r.kind == "report" and "sketches checked" in (r.message or "") for r in reports)
    assert reports[-1].kind == "end"
    # status: searching, then idle
    states = [s["state"] for s in editor.statuses]
    assert "searching" in states and states[-1] == "idle"


async def test_unicode_positions_are_utf16_on_the_wire(start: Start, lean_file) -> None:
    text = "theorem 𝔽oo (x : ℕ) : x = x /- 😀 -/ := by\n  sorry\n"
    uri = lean_file(text)
    editor = await start({"proof": "by\n  rfl"})
    editor.open(uri, text)
    # cursor after the emoji: UTF-16 column 36 is code-point column 34
    actions = await raw_code_actions(editor, uri, 0, 36)
    assert actions and actions[0]["title"] == "Prove with lean-copilot"
    result = await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 36})
    assert result["status"] == "proved"
    assert editor.texts[uri] == "theorem 𝔽oo (x : ℕ) : x = x /- 😀 -/ := by\n  rfl\n"


async def test_fill_sorry_and_helpers_in_one_edit(start: Start, lean_file) -> None:
    uri = lean_file(TWO)
    editor = await start({"proof": "rfl", "helpers": "lemma h : True := trivial"})
    editor.open(uri, TWO)
    actions = await raw_code_actions(editor, uri, 5, 3)
    assert [a["title"] for a in actions] == [
        "Prove with lean-copilot",
        "Fill this sorry with lean-copilot",
        "Fill all sorries in this file with lean-copilot",
    ]
    result = await editor.command("leanCopilot.fillSorry", {"uri": uri, "line": 5, "character": 3})
    assert result["status"] == "proved"
    assert editor.texts[uri] == (
        "theorem a : 1 = 1 := by\n  sorry\n\n"
        "lemma h : True := trivial\n\ntheorem b (n : Nat) : n = n := by\n  intro\n  rfl\n"
    )
    assert len(editor.applied) == 1  # helpers and proof: one WorkspaceEdit, one undo step


async def test_no_action_outside_targets_and_only_filter(start: Start, lean_file) -> None:
    text = "theorem done : 1 = 1 := rfl\n"
    uri = lean_file(text)
    editor = await start()
    editor.open(uri, text)
    assert await raw_code_actions(editor, uri, 0, 5) == []
    # a document in another language is not ours
    editor.open("file:///tmp/x.py", "sorry", language_id="python")
    assert await raw_code_actions(editor, "file:///tmp/x.py", 0, 1) == []


async def test_second_request_joins_the_running_search(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start({"delay": 0.6, "events": 3})
    editor.open(uri, PROVE_ME)
    arg = {"uri": uri, "line": 0, "character": 3}
    prove = editor.command("leanCopilot.prove", arg)
    first, second = await asyncio.gather(prove, editor.command("leanCopilot.prove", arg))
    assert first == second and first["status"] == "proved"
    assert len([c for c in editor.calls() if c["call"] == "search"]) == 1
    assert len(editor.applied) == 1


async def test_cancellation_three_ways(start: Start, lean_file, tmp_path: Path) -> None:
    editor = await start({"release_file": str(tmp_path / "never")})
    for n, how in enumerate(["command", "progress", "cancelRequest"], start=1):
        uri = lean_file(PROVE_ME, f"C{n}.lean")
        editor.open(uri, PROVE_ME)
        protocol = editor.client.protocol
        request_id = f"prove-{n}"
        fut = protocol.send_request(
            lsp.WORKSPACE_EXECUTE_COMMAND,
            lsp.ExecuteCommandParams(command="leanCopilot.prove", arguments=[{"uri": uri, "line": 0, "character": 3}]),
            msg_id=request_id,
        )
        await editor.wait_call("search", count=n)
        if how == "command":
            cancelled = await editor.command("leanCopilot.cancel", {"searchId": f"s{n}"})
            assert cancelled["cancelled"] == [f"s{n}"]
            assert (await asyncio.wrap_future(fut))["status"] == "cancelled"
        elif how == "progress":
            editor.client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=f"lean-copilot/s{n}"))
            assert (await asyncio.wrap_future(fut))["status"] == "cancelled"
        else:
            editor.client.cancel_request(lsp.CancelParams(id=request_id))
            with pytest.raises(Exception, match="cancel"):  # the client gets RequestCancelled
                await asyncio.wrap_future(fut)
        await editor.wait_call("search_cancelled", count=n)
        for _ in range(100):
            if editor.statuses and editor.statuses[-1]["state"] == "idle":
                break
            await asyncio.sleep(0.02)
        assert editor.statuses[-1] == {"state": "idle", "running": 0, "message": ""}, how
        assert editor.client.progress_reports[f"lean-copilot/s{n}"][-1].kind == "end"
    assert editor.applied == []


async def test_edit_elsewhere_during_search_reverifies_and_applies(start: Start, lean_file, tmp_path: Path) -> None:
    release = tmp_path / "release"
    uri = lean_file(PROVE_ME)
    editor = await start({"release_file": str(release), "proof": "by\n  simp"})
    editor.open(uri, PROVE_ME)
    task = asyncio.ensure_future(editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3}))
    await editor.wait_call("search")
    # the user adds a comment above the theorem while the search runs
    editor.replace(uri, lsp.Position(0, 0), lsp.Position(0, 0), "-- note 😀\n\n")
    await asyncio.sleep(0.1)
    release.touch()
    result = await task
    assert result["status"] == "proved", result
    verify = await editor.wait_call("verify")
    assert verify["line"] == 2  # re-checked at the target's new place
    assert editor.texts[uri] == "-- note 😀\n\ntheorem foo (n : Nat) : n + 0 = n := by\n  simp\n"


async def test_edit_inside_declaration_during_search_is_kept(start: Start, lean_file, tmp_path: Path) -> None:
    release = tmp_path / "release"
    uri = lean_file(PROVE_ME)
    editor = await start({"release_file": str(release)})
    editor.open(uri, PROVE_ME)
    task = asyncio.ensure_future(editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3}))
    await editor.wait_call("search")
    editor.replace(uri, lsp.Position(1, 2), lsp.Position(1, 7), "induction n")  # the user works on it
    await asyncio.sleep(0.1)
    release.touch()
    result = await task
    assert result["status"] == "changed"
    assert editor.applied == []
    assert editor.texts[uri] == "theorem foo (n : Nat) : n + 0 = n := by\n  induction n\n"
    assert any("changed" in m.message for m in editor.client.messages + editor.message_requests)


async def test_refused_edit_is_reported(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start()
    editor.refuse_edits = True
    editor.open(uri, PROVE_ME)
    result = await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    assert result["status"] == "changed" and "refused by test" in result["message"]
    assert editor.texts[uri] == PROVE_ME


async def test_failure_offers_transcript(start: Start, lean_file, tmp_path: Path) -> None:
    uri = lean_file(PROVE_ME)
    tdir = tmp_path / "transcripts"
    tdir.mkdir()
    editor = await start({"status": "failed", "reason": "8 attempts, no proof", "transcript_dir": str(tdir)})
    editor.answer = "Show transcript"
    editor.open(uri, PROVE_ME)
    result = await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    assert result["status"] == "failed" and "8 attempts, no proof" in result["message"]
    (request,) = editor.message_requests
    assert request.type == lsp.MessageType.Warning
    assert [a.title for a in request.actions] == ["Show transcript"]
    for _ in range(100):  # the user's click opens the transcript
        if editor.client.shown_documents:
            break
        await asyncio.sleep(0.02)
    assert editor.client.shown_documents[0].uri == (tdir / "fake-1.md").as_uri()
    shown = await editor.command("leanCopilot.showTranscript", {"searchId": result["searchId"]})
    assert shown["uri"] == (tdir / "fake-1.md").as_uri()
    assert len(editor.client.shown_documents) == 2
    assert editor.texts[uri] == PROVE_ME


async def test_lean_crash_mid_search_gives_a_clean_message(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start({"status": "raise"})
    editor.open(uri, PROVE_ME)
    result = await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    assert result["status"] == "error"
    assert "Lean server crashed" in result["message"] and "stack" not in result["message"]
    assert any(m.type == lsp.MessageType.Error and "Lean server crashed" in m.message for m in editor.client.messages)
    assert any(s["state"] == "error" for s in editor.statuses)
    # the server is still alive and serving
    assert await raw_code_actions(editor, uri, 0, 3)


async def test_model_down_says_only_automation_ran(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start({"status": "failed", "reason": "automation found nothing", "model_used": False})
    editor.open(uri, PROVE_ME)
    result = await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    assert result["status"] == "failed"
    assert "only the automation ran" in result["message"]
    assert any("only the automation ran" in m.message for m in editor.client.messages)


async def test_fill_all_sorries(start: Start, lean_file) -> None:
    uri = lean_file(TWO)
    editor = await start({"proof": "rfl"})
    editor.open(uri, TWO)
    result = await editor.command("leanCopilot.fillAllSorries", {"uri": uri})
    assert result["status"] == "proved" and result["proved"] == 2 and result["total"] == 2, result
    assert editor.texts[uri] == "theorem a : 1 = 1 := rfl\n\ntheorem b (n : Nat) : n = n := by\n  intro\n  rfl\n"
    # bottom-up: b first, then a
    assert [c["decl"] for c in editor.calls() if c["call"] == "search"] == ["b", "a"]


async def test_fill_all_sorries_when_the_editor_answers_before_its_did_change(start: Start, lean_file) -> None:
    # Neovim (didChange debounced) and at times VS Code answer applyEdit before the edit's didChange arrives.
    uri = lean_file(TWO)
    editor = await start({"proof": "rfl"})
    editor.echo_delay_s = 0.3
    editor.open(uri, TWO)
    result = await editor.command("leanCopilot.fillAllSorries", {"uri": uri})
    assert result["status"] == "proved" and result["proved"] == 2 and result["total"] == 2, result
    await asyncio.sleep(0.5)
    assert editor.texts[uri] == "theorem a : 1 = 1 := rfl\n\ntheorem b (n : Nat) : n = n := by\n  intro\n  rfl\n"
    assert [c["decl"] for c in editor.calls() if c["call"] == "search"] == ["b", "a"]


async def test_invalid_settings_show_a_warning_and_defaults_stay(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start(init_options={"leanCopilot": {"search": {"attempts": "many", "deadline_s": 5}, "bogus": {}}})
    await asyncio.sleep(0.2)
    warnings = [m.message for m in editor.client.messages if m.type == lsp.MessageType.Warning]
    assert any("search.attempts" in w for w in warnings), warnings
    assert any("bogus" in w for w in warnings), warnings
    editor.open(uri, PROVE_ME)
    await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    assert (await editor.wait_call("init"))["attempts"] == 8  # the default stayed in force

    # a configuration change replaces the engine for new searches (and closes the old one)
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"leanCopilot": {"search": {"attempts": 3}}})
    )
    await asyncio.sleep(0.1)
    other = lean_file(PROVE_ME, "Other.lean")
    editor.open(other, PROVE_ME)
    await editor.command("leanCopilot.prove", {"uri": other, "line": 0, "character": 3})
    assert (await editor.wait_call("init", count=2))["attempts"] == 3
    await editor.wait_call("aclose")


@pytest.mark.parametrize("client", CLIENTS)
async def test_inline_suggestions_and_custom_request(start: Start, lean_file, client: str) -> None:
    text = "theorem foo (n : Nat) : n + 0 = n := by\n  \n"
    uri = lean_file(text)
    editor = await start({"suggestions": ["simp", "omega", "simp"]}, client=client)
    editor.open(uri, text)
    items = await editor.client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Invoked),
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(1, 2),
        )
    )
    items = items.items if isinstance(items, lsp.InlineCompletionList) else items
    assert [i.insert_text for i in items] == ["simp", "omega"]
    assert items[0].range == lsp.Range(lsp.Position(1, 2), lsp.Position(1, 2))

    raw = await editor.client.protocol.send_request_async(
        "leanCopilot/suggestions", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
    )
    raw = _plain(raw)
    assert [i["insertText"] for i in raw["items"]] == ["simp", "omega"]
    assert raw["items"][0]["label"] == "simp"
    assert raw["items"][0]["range"]["start"] == {"line": 1, "character": 2}
    call = await editor.wait_call("suggest")
    assert call["budget_s"] == 8.0


async def test_typing_or_a_newer_request_cancels_a_stale_suggestion(start: Start, lean_file) -> None:
    text = "theorem foo (n : Nat) : n + 0 = n := by\n  \n"
    uri = lean_file(text)
    editor = await start({"suggest_delay": 5})
    editor.open(uri, text)
    where = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
    protocol = editor.client.protocol
    first = asyncio.ensure_future(protocol.send_request_async("leanCopilot/suggestions", where))
    await editor.wait_call("suggest")
    second = asyncio.ensure_future(protocol.send_request_async("leanCopilot/suggestions", where))
    with pytest.raises(Exception, match="cancel"):  # superseded by the newer request
        await asyncio.wait_for(first, 3)
    await editor.wait_call("suggest", count=2)
    editor.replace(uri, lsp.Position(1, 2), lsp.Position(1, 2), "s")
    with pytest.raises(Exception, match="cancel"):  # made stale by typing
        await asyncio.wait_for(second, 3)
    await editor.wait_call("suggest_cancelled", count=2)


async def test_inline_disabled_by_settings(start: Start, lean_file) -> None:
    text = "theorem foo (n : Nat) : n + 0 = n := by\n  \n"
    uri = lean_file(text)
    editor = await start(init_options={"inline": {"enabled": False}})
    editor.open(uri, text)
    raw = await editor.client.protocol.send_request_async(
        "leanCopilot/suggestions", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
    )
    assert _plain(raw) == {"items": []}
    assert not [c for c in editor.calls() if c["call"] in ("init", "suggest")]  # the engine never started
