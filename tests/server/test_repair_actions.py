""""Repair this proof with lean-copilot" end to end against a subprocess server with the scripted engine: offered
from the editor's diagnostics (and from the server's own check, server.check_documents), never for an error in
the statement or the imports; the command replaces only the proof; a proof Lean accepts as it is is left alone."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from lsprotocol import types as lsp

from .conftest import CLIENTS, Editor, Start

REPAIR_TITLE = "Repair this proof with lean-copilot"
# A term proof Lean rejects (the error lies after `:=`) and a sorry-free, fine theorem after it.
BROKEN = "theorem swap (a b : Nat) : a + b = b + a :=\n  Nat.add_comm b a\n\ntheorem ok : True := trivial\n"
BROKEN_ERROR = "type mismatch\n  Nat.add_comm b a\nhas type\n  b + a = a + b"
# Only the proof span (after `:=`) is replaced; a one-line term goes on the `:=` line (core.splice).
REPAIRED = "theorem swap (a b : Nat) : a + b = b + a := Nat.add_comm a b\n\ntheorem ok : True := trivial\n"


def diagnostic(line: int, start: int, end: int, message: str, *, source: str = "Lean 4",
               severity: lsp.DiagnosticSeverity = lsp.DiagnosticSeverity.Error) -> lsp.Diagnostic:
    return lsp.Diagnostic(range=lsp.Range(lsp.Position(line, start), lsp.Position(line, end)), message=message,
                          severity=severity, source=source)


PROOF_ERROR = diagnostic(1, 2, 18, BROKEN_ERROR)


async def actions_at(editor: Editor, uri: str, line: int, character: int,
                     diagnostics: list[lsp.Diagnostic] | None = None) -> list[dict[str, Any]]:
    """Raw JSON of the code actions (PROTOCOLS §6: the typed client mis-decodes CodeAction as Command)."""
    pos = lsp.Position(line, character)
    params = lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), range=lsp.Range(pos, pos),
                                  context=lsp.CodeActionContext(diagnostics=diagnostics or []))
    protocol = editor.client.protocol
    msg_id = f"raw-{id(params)}"
    fut = protocol.send_request(lsp.TEXT_DOCUMENT_CODE_ACTION, params, msg_id=msg_id)
    protocol._result_types.pop(msg_id, None)
    result = await asyncio.wrap_future(fut)
    return json.loads(json.dumps(result or [], default=lambda o: o._asdict() if hasattr(o, "_asdict") else str(o)))


def titled(actions: list[dict[str, Any]], title: str) -> dict[str, Any] | None:
    return next((a for a in actions if a["title"] == title), None)


@pytest.mark.parametrize("client", CLIENTS)
async def test_repair_action_from_the_editors_diagnostics_replaces_only_the_proof(
    start: Start, lean_file, client: str
) -> None:
    uri = lean_file(BROKEN)
    editor = await start({"proof": "Nat.add_comm a b"}, client=client)
    editor.open(uri, BROKEN)
    # Our own diagnostics and warnings never make a declaration a repair target.
    ours = diagnostic(1, 2, 18, "lean-copilot: something", source="lean-copilot")
    warning = diagnostic(1, 2, 18, "unused variable", severity=lsp.DiagnosticSeverity.Warning)
    assert titled(await actions_at(editor, uri, 0, 8, [ours, warning]), REPAIR_TITLE) is None
    assert titled(await actions_at(editor, uri, 0, 8), REPAIR_TITLE) is None  # no error known at all

    action = titled(await actions_at(editor, uri, 0, 8, [PROOF_ERROR, ours]), REPAIR_TITLE)
    assert action is not None and action["kind"] == "quickfix"
    assert action["command"]["command"] == "leanCopilot.repair"
    (arg,) = action["command"]["arguments"]
    assert (arg["uri"], arg["line"], arg["character"]) == (uri, 0, 8)
    assert [d["message"] for d in arg["diagnostics"]] == [BROKEN_ERROR]  # Lean's error, not ours
    # Not offered on the next (fine) theorem.
    assert titled(await actions_at(editor, uri, 3, 8, [PROOF_ERROR]), REPAIR_TITLE) is None

    result = await editor.command("leanCopilot.repair", arg)
    assert result["status"] == "proved", result
    assert editor.texts[uri] == REPAIRED
    call = await editor.wait_call("search")
    # The search got a repair target: the user's failing proof and Lean's error about it.
    assert call["decl"] == "swap" and call["repair"] == "\n  Nat.add_comm b a"
    assert call["repair_errors"] == [BROKEN_ERROR]
    token = f"lean-copilot/{result['searchId']}"
    begin = editor.client.progress_reports[token][0]
    assert begin.kind == "begin" and begin.title == "lean-copilot: repairing `swap`"


async def test_no_repair_for_a_statement_error_or_an_import_error(start: Start, lean_file) -> None:
    text = "import Mathlib.Nope\n\ntheorem t (n : Nat) : Foo n :=\n  rfl\n"
    uri = lean_file(text)
    editor = await start({"proof": "rfl"})
    editor.open(uri, text)
    statement = diagnostic(2, 22, 25, "unknown identifier 'Foo'")
    in_proof = diagnostic(3, 2, 5, "type mismatch")
    assert titled(await actions_at(editor, uri, 2, 8, [statement, in_proof]), REPAIR_TITLE) is None
    imports = diagnostic(0, 0, 19, "unknown module prefix 'Mathlib'\n\nNo directory 'Mathlib' or file")
    assert titled(await actions_at(editor, uri, 2, 8, [imports, in_proof]), REPAIR_TITLE) is None
    # ...while the proof error alone would offer it: the two above are refused for their own reason.
    assert titled(await actions_at(editor, uri, 2, 8, [in_proof]), REPAIR_TITLE) is not None

    # The explicit command (`:LeanCopilot repair`, the palette) says why, and nothing is searched or edited.
    at = {"uri": uri, "line": 2, "character": 8}
    raw = [{"range": {"start": {"line": d.range.start.line, "character": d.range.start.character},
                      "end": {"line": d.range.end.line, "character": d.range.end.character}},
            "severity": 1, "message": d.message} for d in (statement, in_proof)]
    said = await editor.command("leanCopilot.repair", {**at, "diagnostics": raw})
    assert said["status"] == "failed" and "statement has an error" in said["message"], said
    raw_import = [{**raw[1]}, {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 19}},
                               "severity": 1, "message": imports.message}]
    said = await editor.command("leanCopilot.repair", {**at, "diagnostics": raw_import})
    assert said["status"] == "failed" and "imports failed" in said["message"], said
    said = await editor.command("leanCopilot.repair", {**at, "diagnostics": "garbage"})
    assert said["status"] == "failed" and "no Lean errors known" in said["message"], said
    assert not [c for c in editor.calls() if c["call"] == "search"]
    assert editor.applied == [] and editor.texts[uri] == text


async def test_a_proof_lean_accepts_as_it_is_is_left_alone(start: Start, lean_file) -> None:
    uri = lean_file(BROKEN)
    editor = await start({"accepts_as_is": True})
    editor.open(uri, BROKEN)
    arg = titled(await actions_at(editor, uri, 1, 4, [PROOF_ERROR]), REPAIR_TITLE)["command"]["arguments"][0]
    result = await editor.command("leanCopilot.repair", arg)
    assert result["status"] == "nothing-to-repair", result
    assert "accepts the proof of `swap` as it is" in result["message"]
    assert editor.applied == [] and editor.texts[uri] == BROKEN


async def test_the_servers_own_check_offers_repair_and_typing_cancels_it(start: Start, lean_file) -> None:
    uri = lean_file(BROKEN)
    scenario = {"proof": "Nat.add_comm a b", "document_errors": {"Nat.add_comm b a": BROKEN_ERROR},
                "check_delay": 0.3}
    editor = await start(scenario, init_options={"server": {"check_documents": True, "check_delay_s": 0.05}})
    editor.open(uri, BROKEN)
    await editor.wait_call("check_document")
    # Typing while the check runs cancels it; the new text is checked instead.
    end = lsp.Position(3, 28)
    editor.replace(uri, end, end, "\n")
    await editor.wait_call("check_cancelled")
    await editor.wait_call("check_document", count=2)
    action = None
    for _ in range(100):  # the check of the new text takes check_delay
        action = titled(await actions_at(editor, uri, 0, 8), REPAIR_TITLE)
        if action is not None:
            break
        await asyncio.sleep(0.05)
    assert action is not None, editor.calls()
    assert action["command"]["arguments"][0]["diagnostics"] == []  # from the server's check alone
    result = await editor.command("leanCopilot.repair", *action["command"]["arguments"])
    assert result["status"] == "proved", result
    assert editor.texts[uri] == REPAIRED + "\n"
    # Never published: an editor with Lean's own extension would show each error twice.
    assert not editor.client.diagnostics.get(uri)


async def test_the_check_is_off_by_default(start: Start, lean_file) -> None:
    uri = lean_file(BROKEN)
    editor = await start({"document_errors": {"Nat.add_comm b a": BROKEN_ERROR}})
    editor.open(uri, BROKEN)
    await asyncio.sleep(1.5)  # the default delay is 1 s: a check would have started by now
    assert not [c for c in editor.calls() if c["call"] == "check_document"]
    assert titled(await actions_at(editor, uri, 0, 8), REPAIR_TITLE) is None
