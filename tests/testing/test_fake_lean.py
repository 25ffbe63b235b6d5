"""The fake Lean server on the wire, driven by a bare JSON-RPC client (no leanclient), so the dialect other
test suites rely on is pinned down, as real Lean 4.35 speaks it (docs/PROTOCOLS.md, "Measured on a real
Lean 4.35.0 server"; tests/lean/test_fake_matches_real.py runs the shared scenarios on both): framing,
initialize/registerCapability, resets and incremental diagnostics, progress, the barrier, goals during
elaboration, cancellation, crashes, closed files, refresh requests, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lean_copilot_py.testing.lean_script import Diag, Rule, Script, fake_lean_command, proved, write_script
from tests.lean.wire import Wire, is_response, session

URI = "file:///proj/A.lean"


@contextlib.asynccontextmanager
async def fake(script_path: Path, *, incremental: bool = True) -> AsyncIterator[Wire]:
    command = [*fake_lean_command(script_path), "--", "-Dserver.reportDelayMs=0"]
    async with session(command, script_path.parent, incremental=incremental) as (wire, init):
        assert init["result"]["serverInfo"]["name"] == "Lean 4 Server"
        assert init["result"]["capabilities"]["textDocumentSync"]["change"] == 2
        yield wire


def plain_goal(line: int, character: int, uri: str = URI) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def done(wire: Wire, version: int, start: int = 0) -> bool:
    return any(p["processing"] == [] for p in wire.progress(URI, version, start))


DOC = """import Std

theorem one : True := by
  first_thing

theorem two (n : Nat) : n = n := by
  second_thing

#print axioms two
"""


@pytest.fixture
def script(script_path: Path) -> Path:
    rules = [
        Rule(pattern="first_thing", diagnostics=[Diag("first error", code="lean.unknownIdentifier")]),
        Rule(pattern="second_thing", diagnostics=[Diag("a note", severity="info")], axioms=["propext"]),
    ]
    return write_script(script_path, Script(rules=rules))


async def test_registers_leans_file_watchers(script) -> None:
    async with fake(script) as wire:
        reg = await wire.until(lambda m: m.get("method") == "client/registerCapability")
        assert reg["id"] == "register_lean_watcher"
        (registration,) = reg["params"]["registrations"]
        assert registration["method"] == "workspace/didChangeWatchedFiles"
        globs = [w["globPattern"] for w in registration["registerOptions"]["watchers"]]
        assert globs == ["**/*.lean", "**/*.ilean"]


@pytest.mark.parametrize("incremental", [True, False])
async def test_diagnostics_arrive_in_several_notifications(script, incremental):
    async with fake(script, incremental=incremental) as wire:
        await wire.open(URI, DOC)
        assert (await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1}))["result"] == {}
        pubs = wire.published(URI, 1)
        # a new worker: the watchdog's reset (no isIncremental), then the worker's own reports
        assert pubs[0]["diagnostics"] == [] and "isIncremental" not in pubs[0]
        if incremental:
            assert pubs[1]["isIncremental"] is False and all(p["isIncremental"] is True for p in pubs[2:])
            merged = [d for p in pubs for d in p["diagnostics"]]
        else:
            assert all("isIncremental" not in p for p in pubs)
            merged = pubs[-1]["diagnostics"]
        assert len(pubs) >= 4
        messages = [d["message"] for d in merged]
        assert messages == ["first error", "a note", "'two' depends on axioms: [propext]"]
        first = merged[0]
        assert first["source"] == "Lean 4" and first["severity"] == 1 and first["code"] == "lean.unknownIdentifier"
        assert first["range"]["start"] == {"line": 3, "character": 2} and first["fullRange"] == first["range"]
        audit = merged[2]
        assert audit["range"] == {"start": {"line": 8, "character": 0}, "end": {"line": 8, "character": 6}}
        assert audit["severity"] == 3 and "code" not in audit
        progress = wire.progress(URI, 1)
        assert progress[0]["processing"][0]["range"]["start"] == {"line": 0, "character": 0}
        assert progress[0]["processing"][0]["range"]["end"] == {"line": 9, "character": 0}  # the whole document
        assert [p["processing"] for p in progress[-2:]] == [[], []]
        assert any(len(p["processing"]) > 1 for p in progress)


async def test_a_change_reuses_the_commands_before_it(script_path):
    """The first report of a new version holds the unchanged commands' messages (Lean keeps their
    snapshots), and only the changed command onwards is elaborated again."""
    once = Rule(pattern="first_thing", diagnostics=[Diag("first error")], max_hits=1)  # a second judging shows
    write_script(script_path, Script(rules=[once, proved("second_thing")]))
    async with fake(script_path) as wire:
        await wire.open(URI, DOC)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        mark = wire.mark()
        await wire.change(URI, DOC.replace("second_thing", "second_thing -- edited"), 2)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 2})
        pubs = wire.published(URI, 2, mark)
        assert pubs[0]["isIncremental"] is False
        assert [d["message"] for d in pubs[0]["diagnostics"]] == ["first error"]
        assert all(p["isIncremental"] is True for p in pubs[1:])
        assert wire.progress(URI, 2, mark)[0]["processing"][1]["range"]["start"]["line"] == 5  # from `two` on


async def test_audit_unknown_constant_and_long_axiom_lists(script_path):
    many = [f"an_axiom_with_a_rather_long_name_{i}" for i in range(5)]
    write_script(script_path, Script(rules=[proved("ok", axioms=["propext", "Quot.sound", "user_ax"]),
                                           proved("many", axioms=many)], default=Rule()))
    text = ("import Std\n\ntheorem a : True := ok\n\ntheorem b : True := many\n\n#print axioms a\n\n"
            "#print axioms b\n\n#print axioms nosuch\n")
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        a, b, unknown = [d for p in wire.published(URI, 1) for d in p["diagnostics"]]
        assert a["message"] == "'a' depends on axioms: [propext, user_ax, Quot.sound]"  # Lean's Name order
        assert b["message"] == "'b' depends on axioms: [" + ",\n ".join(many) + "]"  # too long for one line
        assert unknown["message"] == "Unknown constant `nosuch`" and unknown["code"] == "lean.unknownIdentifier"
        assert unknown["range"] == {"start": {"line": 10, "character": 14}, "end": {"line": 10, "character": 20}}


async def test_unsolved_goals_tag_and_plain_goal(script_path):
    write_script(script_path, Script(goals={"g": "x : Nat\n⊢ x = x"}))
    text = "import Std\n\ntheorem g (x : Nat) : x = x := by\n  skip\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        (diag,) = [d for p in wire.published(URI, 1) for d in p["diagnostics"]]
        assert diag["leanTags"] == [1] and diag["message"] == "unsolved goals\nx : Nat\n⊢ x = x"
        goal = (await wire.request("$/lean/plainGoal", plain_goal(3, 2)))["result"]
        assert goal["goals"] == ["x : Nat\n⊢ x = x"] and goal["rendered"].startswith("```lean")
        assert (await wire.request("$/lean/plainGoal", plain_goal(0, 0)))["result"] is None


async def test_term_goal_range_is_the_terms_span_with_field_notation(script_path):
    write_script(script_path, Script(default=Rule()))
    text = "prelude\n\ntheorem add_zero (a : N) : Eq (N.add a N.z) a := Eq.refl\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        col = text.split("\n")[2].index("Eq.refl")
        goal = (await wire.request("$/lean/plainTermGoal", plain_goal(2, col + 3)))["result"]
        assert goal == {"goal": "a : N\n⊢ Eq (a.add N.z) a",
                        "range": {"start": {"line": 2, "character": col}, "end": {"line": 2, "character": col + 7}}}


async def test_goal_during_elaboration_waits_for_the_new_version(script_path):
    write_script(script_path, Script(rules=[proved("fast"), Rule(pattern="slow", delay_s=1.0, unsolved=True)]))
    text = "import Std\n\ntheorem g : True := by\n  fast\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        mark = wire.mark()
        await wire.change(URI, text.replace("fast", "slow"), 2)
        answer = await wire.request("$/lean/plainGoal", plain_goal(3, 6))
        assert answer["result"]["goals"] == ["⊢ True"]  # version 2's goal, never version 1's "no goals"
        assert any(p.get("version") == 2 and p["diagnostics"] for p in wire.published(URI, 2, mark))


async def test_cancelled_barrier_is_answered_when_its_version_finishes(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="slow", delay_s=1.0), Rule(pattern="stuck", hang=True),
                                            proved("ok")]))
    text = "import Std\n\ntheorem g : True := by\n  slow\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        rid = await wire.send_request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        await wire.notify("$/cancelRequest", {"id": rid})
        assert await wire.silent(lambda m: is_response(m, rid), 0.3)  # not at once, as the fake used to
        cancelled = await wire.response(rid)
        assert cancelled["error"] == {"code": -32800, "message": ""}
        assert done(wire, 1)  # ... but once version 1 is elaborated
        # a version that never finishes is superseded by the next didChange
        await wire.change(URI, text.replace("slow", "stuck"), 2)
        await wire.change(URI, text.replace("slow", "ok"), 3)
        assert (await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 3}))["result"] == {}


async def test_crash_pending_get_32902_then_requests_queue_until_did_change(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="boom", crash=True), proved("ok")]))
    text = "import Std\n\ntheorem g : True := by\n  boom\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        first = await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        assert first["error"] == {
            "code": -32902, "message": f"Server process for {URI} crashed, likely due to a stack overflow or a bug."}
        fatal = await wire.until(lambda m: m.get("method") == "$/lean/fileProgress" and m["params"]["processing"]
                                 and m["params"]["processing"][0]["kind"] == 2)
        assert fatal["params"]["processing"][0]["range"]["start"] == {"line": 0, "character": 0}
        assert not any(p["diagnostics"] for p in wire.published(URI))  # no made-up diagnostic
        goal = await wire.send_request("$/lean/plainGoal", plain_goal(3, 4))  # after the tactic
        barrier = await wire.send_request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        assert await wire.silent(lambda m: is_response(m, goal) or is_response(m, barrier), 0.5)
        mark = wire.mark()
        await wire.change(URI, text.replace("boom", "ok"), 2)  # starts a new worker
        assert (await wire.response(goal))["result"] == {"goals": [], "rendered": "no goals"}  # the new version's
        assert (await wire.response(barrier))["result"] == {}
        assert "isIncremental" not in wire.published(URI, 2, mark)[0]  # the watchdog's reset for the new worker


async def test_idle_worker_killed_shows_only_fatal_progress(script_path):
    write_script(script_path, Script(rules=[proved("ok")]))
    text = "import Std\n\ntheorem g : True := by\n  ok\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        mark = wire.mark()
        os.kill(wire.proc.pid, signal.SIGUSR1)  # the fake's "kill every worker"
        fatal = await wire.until(lambda m: m.get("method") == "$/lean/fileProgress", start=mark)
        assert fatal["params"]["processing"][0]["kind"] == 2
        goal = await wire.send_request("$/lean/plainGoal", plain_goal(3, 4))
        assert await wire.silent(lambda m: is_response(m, goal), 0.5)
        assert [m.get("method") for m in wire.inbox[mark:]] == ["$/lean/fileProgress"]
        await wire.change(URI, text, 2)
        assert (await wire.response(goal))["result"] == {"goals": [], "rendered": "no goals"}


async def test_closed_and_never_opened_files(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="stuck", hang=True)]))
    async with fake(script_path) as wire:
        never = await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        assert never["error"] == {"code": -32801, "message": f"Cannot process request to closed file '{URI}'"}
        await wire.open(URI, "import Std\n\ntheorem g : True := by\n  stuck\n")
        rid = await wire.send_request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        goal = await wire.send_request("$/lean/plainGoal", plain_goal(3, 2))
        await wire.until(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"].get("isIncremental") is False)  # the worker is at `g` now
        mark = wire.mark()
        await wire.close(URI)
        for req in (rid, goal):
            closed = await wire.response(req)
            assert closed["error"] == {"code": -32801, "message": f"The file worker for {URI} has been terminated."}
        await wire.until(lambda m: m.get("method") == "textDocument/publishDiagnostics", start=mark)
        assert wire.published(URI, start=mark) == [{"uri": URI, "version": 1, "diagnostics": []}]


async def test_refresh_requests_while_busy(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="slow", delay_s=2.2)]))
    async with fake(script_path) as wire:
        await wire.open(URI, "import Std\n\ntheorem g : True := by\n  slow\n")
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        requests = [m for m in wire.server_requests() if m["method"] != "client/registerCapability"]
        assert [m["id"] for m in requests] == list(range(len(requests)))  # integers from 0
        methods = [m["method"] for m in requests]
        assert methods.count("workspace/inlayHint/refresh") >= 3
        assert "workspace/semanticTokens/refresh" in methods
        mark = wire.mark()
        assert await wire.silent(lambda m: "method" in m and "id" in m, 0.7, mark)  # idle: no more


async def test_unknown_request_and_shutdown(script):
    async with fake(script) as wire:
        unknown = await wire.request("foo/bar", {})
        assert unknown["error"] == {"code": -32601, "message": "No request handler found for 'foo/bar'"}
        await wire.open(URI, DOC)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        mark = wire.mark()
        assert (await wire.request("shutdown", None))["result"] is None
        assert wire.published(URI, start=mark) == [{"uri": URI, "version": 1, "diagnostics": []}]
        await wire.notify("exit", None)
        assert await asyncio.wait_for(wire.proc.wait(), 5) == 0
        await asyncio.sleep(0.1)
        assert b"fake-lean" in wire.stderr  # it chatters on stderr like Lean


async def test_range_changes_and_utf16_columns(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="bad", diagnostics=[Diag("here")])]))
    text = "import Std\n\ntheorem g : True := by\n  ok\n"
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        # insert "𝕜 bad" (𝕜 is two UTF-16 units) before `ok`
        edit = {"range": {"start": {"line": 3, "character": 2}, "end": {"line": 3, "character": 2}}, "text": "𝕜 bad "}
        await wire.notify(
            "textDocument/didChange", {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [edit]}
        )
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 2})
        (diag,) = [d for p in wire.published(URI, 2) for d in p["diagnostics"]]
        assert diag["range"]["start"] == {"line": 3, "character": 5}  # 2 + 2 (𝕜) + 1 (space)


async def test_a_declaration_that_is_an_earlier_one_elaborates_like_it(script_path):
    """`theorem c : type_of% @s := @t` (the checker's statement check): no message of its own and `t`'s
    axioms, as in Lean, even under a rule that would fail any theorem; `sorryAx` when `t` had an error."""
    write_script(script_path, Script(rules=[proved("simp", axioms=["propext"]), Rule(pattern="nope",
                 diagnostics=[Diag("unknown tactic")])], default=Rule(unsolved=True)))
    text = ("import Std\n\naxiom s : 1 = 1\n\ntheorem t : 1 = 1 := by\n  simp\n\n"
            "theorem c : type_of% @s := @t\n\n#print axioms c\n\n"
            "theorem u : 1 = 1 := by\n  nope\n\ntheorem d : type_of% @s := (@u)\n\n#print axioms d\n")
    async with fake(script_path) as wire:
        await wire.open(URI, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        messages = [d["message"] for p in wire.published(URI, 1) for d in p["diagnostics"]]
        assert messages == ["'c' depends on axioms: [propext]", "unknown tactic", "'d' depends on axioms: [sorryAx]"]
