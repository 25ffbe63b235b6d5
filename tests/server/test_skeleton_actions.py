"""A failed search's verified skeleton (SearchResult.skeleton) is offered apart from proofs: as a button on the
failure message and as a code action on its declaration while it still applies; inserting it refuses a changed
text; it is never applied as if it were a proof."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp

from .conftest import Start
from .test_repair_actions import BROKEN, PROOF_ERROR, actions_at, titled

PROVE_ME = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n\ntheorem bar : True := by\n  sorry\n"
SKELETON = "by\n  induction n with\n  | zero => rfl\n  | succ k ih => sorry"
GOAL = "k : Nat\nih : k + 0 = k\n⊢ k + 1 + 0 = k + 1"
TITLE = "Insert verified skeleton (1 sorry left)"
WITH_SKELETON = (
    "theorem foo (n : Nat) : n + 0 = n := by\n  induction n with\n  | zero => rfl\n  | succ k ih => sorry\n\n"
    "theorem bar : True := by\n  sorry\n"
)
SCENARIO = {"status": "failed", "reason": "8 attempts, no proof", "skeleton": SKELETON, "skeleton_goals": [GOAL]}


async def test_failure_message_offers_the_skeleton_and_the_button_inserts_it(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start(SCENARIO)
    editor.answer = TITLE
    editor.open(uri, PROVE_ME)
    result = await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    # The search failed: no proof was applied, the result says so and names what the skeleton leaves.
    assert result["status"] == "failed", result
    assert result["skeleton"] == "1 sorry left: ⊢ k + 1 + 0 = k + 1" and result["skeletonTitle"] == TITLE
    assert "no verified proof of `foo`" in result["message"] and "skeleton is kept (not a proof)" in result["message"]
    (request,) = editor.message_requests
    assert [a.title for a in request.actions] == [TITLE]
    assert "1 sorry left: ⊢ k + 1 + 0 = k + 1" in request.message
    said = "inserted the verified skeleton of `foo`: 1 sorry left"
    for _ in range(200):  # the user's click inserts it, and the server says so
        if editor.applied and any(said in m.message for m in editor.client.messages):
            break
        await asyncio.sleep(0.02)
    assert editor.texts[uri] == WITH_SKELETON
    (edit,) = editor.applied
    assert edit.label == "lean-copilot: skeleton of `foo`"
    assert any(said in m.message for m in editor.client.messages)
    # Inserted once: the action is gone, and the command finds nothing more to insert.
    assert titled(await actions_at(editor, uri, 0, 3), TITLE) is None


@pytest.mark.parametrize("how", ["code action", "command at the cursor"])
async def test_code_action_while_it_applies_and_a_changed_text_refuses_the_insert(
    start: Start, lean_file, how: str
) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start(SCENARIO)
    editor.open(uri, PROVE_ME)
    await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    action = titled(await actions_at(editor, uri, 1, 2), TITLE)
    assert action is not None and action["command"]["command"] == "leanCopilot.insertSkeleton"
    assert titled(await actions_at(editor, uri, 3, 2), TITLE) is None  # not on another declaration
    # An edit after the declaration: the skeleton still applies (offered, and insertable).
    end = lsp.Position(4, 7)
    editor.replace(uri, end, end, "\n-- later")
    assert titled(await actions_at(editor, uri, 1, 2), TITLE) is not None
    # An edit before it: it no longer does. No action, and the insert refuses; the text stays the user's.
    editor.replace(uri, lsp.Position(0, 0), lsp.Position(0, 0), "-- a comment\n")
    assert titled(await actions_at(editor, uri, 2, 2), TITLE) is None
    before = editor.texts[uri]
    if how == "code action":
        refused = await editor.command("leanCopilot.insertSkeleton", *action["command"]["arguments"])
    else:
        refused = await editor.command("leanCopilot.insertSkeleton", {"uri": uri, "line": 2, "character": 2})
    assert refused["status"] in ("changed", "failed"), refused
    assert editor.applied == [] and editor.texts[uri] == before


async def test_insert_after_an_edit_below_the_declaration(start: Start, lean_file) -> None:
    uri = lean_file(PROVE_ME)
    editor = await start(SCENARIO)
    editor.open(uri, PROVE_ME)
    await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    end = lsp.Position(4, 7)
    editor.replace(uri, end, end, "\n-- later")
    done = await editor.command("leanCopilot.insertSkeleton", {"uri": uri})
    assert done["status"] == "skeleton", done
    assert done["message"] == "lean-copilot: inserted the verified skeleton of `foo`: 1 sorry left: ⊢ k + 1 + 0 = k + 1"
    assert editor.texts[uri] == WITH_SKELETON + "-- later\n"
    # Never re-verified (it was), never through the proof path.
    assert not [c for c in editor.calls() if c["call"] == "verify"]


async def test_a_failed_repair_offers_its_skeleton_too(start: Start, lean_file) -> None:
    uri = lean_file(BROKEN)
    editor = await start({**SCENARIO, "skeleton": "by\n  sorry\n  exact Nat.add_comm a b"})
    editor.open(uri, BROKEN)
    arg = titled(await actions_at(editor, uri, 0, 8, [PROOF_ERROR]), "Repair this proof with lean-copilot")
    assert arg is not None
    result = await editor.command("leanCopilot.repair", *arg["command"]["arguments"])
    assert result["status"] == "failed" and result["skeletonTitle"] == TITLE, result
    assert titled(await actions_at(editor, uri, 0, 8), TITLE) is not None
    assert editor.applied == [] and editor.texts[uri] == BROKEN


async def test_text_typed_onto_the_end_of_the_declaration_refuses_the_insert(start: Start, lean_file) -> None:
    # Everything before the declaration's old end is unchanged, but the declaration itself grew (a tactic line
    # typed after its last one): the skeleton was not verified for that declaration, so it is neither offered
    # nor inserted (inserting would leave the typed line after it: a declaration Lean never checked).
    uri = lean_file(PROVE_ME)
    editor = await start(SCENARIO)
    editor.open(uri, PROVE_ME)
    await editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 3})
    end = lsp.Position(1, 7)
    editor.replace(uri, end, end, "\n  exact foo")
    assert titled(await actions_at(editor, uri, 1, 2), TITLE) is None
    before = editor.texts[uri]
    refused = await editor.command("leanCopilot.insertSkeleton", {"uri": uri})
    assert refused["status"] in ("changed", "failed"), refused
    assert editor.applied == [] and editor.texts[uri] == before
