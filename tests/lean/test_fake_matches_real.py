"""The fake Lean server says what Lean says: the same scenarios run on lean_copilot_py/testing/fake_lean.py and on
the real Lean 4.35 (`lean --server`, prelude files), and what each sent is reduced to its shape (methods, fields, key
sets, ordering facts, error codes and texts) and compared. Where the fake stays (tactic proofs, "Try this",
Mathlib-sized delays), this is what keeps it from drifting away from the real wire again.

The fake's verdicts come from a script that mirrors what real Lean decides for these texts; its "kill the
worker" is SIGUSR1 (every worker dies), the real one's is SIGKILL of the document's `lean --worker`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from lean_copilot_py.testing.lean_script import Diag, Rule, Script, fake_lean_command, write_script
from tests.real_lean import RealLean, make_prelude_project, prelude_file, slow_statement

from .wire import Message, Wire, is_response, session

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(180)]

DOC = prelude_file(
    "theorem add_zero' (a : N) : Eq (N.add a N.z) a := Eq.refl",
    "theorem bad : Eq N.one N.two := nope",
    "theorem uses : Eq True True := uses_propext",
    "#print axioms uses",
    "#print axioms nosuch",
)
SLOW = f"theorem slow : {slow_statement(16)} := Eq.refl"  # ~2 s on the real one; the fake's script: 1.5 s
LONG = [f"a_rather_long_axiom_name_{i}" for i in range(6)]
AXIOMS_DOC = prelude_file(
    *(f"axiom {a} : True" for a in LONG),
    "theorem long : True := " + "".join("(fun (_ : True) => " for _ in LONG) + "True.intro"
    + "".join(f") {a}" for a in LONG),
    "theorem mix : True := (fun (_ : Eq N.one N.two) (_ : Eq True True) (_ : Nonempty N → N) => True.intro) "
    "user_ax uses_propext Classical.choice",
    "#print axioms long",
    "#print axioms mix",
)
SCRIPT = Script(  # what the real Lean decides for the texts above, for the fake
    rules=[
        Rule(pattern=r"\bnope\b", diagnostics=[Diag("Unknown identifier `nope`", code="lean.unknownIdentifier")]),
        Rule(pattern=r"\bpropext \(fun", axioms=["propext"]),  # the fixture's `uses_propext`
        Rule(decl="slow", delay_s=1.5),
        Rule(pattern=r"a_rather_long", axioms=list(reversed(LONG))),  # the fake sorts them as Lean does
        Rule(pattern=r"user_ax uses_propext", axioms=["Classical.choice", "user_ax", "propext"]),
    ],
    default=Rule(),
)


@dataclass
class Side:
    name: str
    command: list[str]
    root: Path

    async def wait_busy(self, wire: Wire, uri: str) -> None:
        """Until the document's worker is elaborating the slow declaration."""
        if self.name == "fake":
            await asyncio.sleep(0.3)
            return
        for _ in range(400):
            worker = self._worker(wire, uri)
            if worker is not None and worker.cpu_times().user > 0.3:
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the real worker never got busy")

    def kill_worker(self, wire: Wire, uri: str) -> None:
        if self.name == "fake":
            os.kill(wire.proc.pid, signal.SIGUSR1)
            return
        worker = self._worker(wire, uri)
        assert worker is not None, "no real worker to kill"
        worker.kill()

    @staticmethod
    def _worker(wire: Wire, uri: str) -> psutil.Process | None:
        for proc in psutil.Process(wire.proc.pid).children(recursive=True):
            try:
                if "--worker" in proc.cmdline() and proc.cmdline()[-1] == uri:
                    return proc
            except psutil.Error:
                continue
        return None


@pytest.fixture
def sides(real_lean: RealLean, tmp_path: Path) -> dict[str, Side]:
    script = write_script(tmp_path / "script.json", SCRIPT)
    fake_root = make_prelude_project(tmp_path / "fake")
    real_root = make_prelude_project(tmp_path / "real")
    return {
        "fake": Side("fake", [*fake_lean_command(script), "--", "-Dserver.reportDelayMs=0"], fake_root),
        "real": Side("real", [*real_lean.server_command(), "-Dserver.reportDelayMs=0"], real_root),
    }


async def both(sides: dict[str, Side], scenario: Any, **kw: Any) -> dict[str, dict[str, Any]]:
    return {name: await scenario(side, **kw) for name, side in sides.items()}


def same(facts: dict[str, dict[str, Any]]) -> None:
    fake, real = facts["fake"], facts["real"]
    assert fake.keys() == real.keys()
    differ = {k: {"fake": fake[k], "real": real[k]} for k in real if fake[k] != real[k]}
    if differ:
        pytest.fail("the fake and the real Lean differ:\n" + json.dumps(differ, indent=1, ensure_ascii=False))


# --- shapes ---------------------------------------------------------------------------------------


def quirk(d: Message) -> bool:
    """Prelude-only noise: without Init, error recovery also logs "internal exception #3"."""
    return d["message"].startswith("internal exception")


def merged(wire: Wire, uri: str, version: int, start: int = 0) -> list[Message]:
    """The client's list for ``version`` after every publish (appends or replacements), by position: Lean
    elaborates declarations in parallel, so their messages arrive in no fixed order."""
    out: list[Message] = []
    for p in wire.published(uri, version, start):
        out = out + p["diagnostics"] if p.get("isIncremental") else list(p["diagnostics"])
    kept = [d for d in out if not quirk(d)]
    return sorted(kept, key=lambda d: (d["range"]["start"]["line"], d["range"]["start"]["character"]))


def diag_shape(d: Message) -> tuple[Any, ...]:
    return (tuple(sorted(d)), d["range"], d["fullRange"], d["severity"], d.get("code"), d["message"])


def publish_flags(pubs: list[Message]) -> dict[str, Any]:
    """A new worker's first two reports: the watchdog's empty reset and the worker's first list (which comes
    first varies on the real server, and the worker's may already hold messages), then the rest."""
    first_two = pubs[:2]
    return {
        "first_two": sorted(repr(p.get("isIncremental", "absent")) for p in first_two),
        "an_empty_reset_among_them": any("isIncremental" not in p and not p["diagnostics"] for p in first_two),
        "rest": sorted({repr(p.get("isIncremental", "absent")) for p in pubs[2:]}),
        "keys": sorted({tuple(sorted(p)) for p in pubs}),
    }


def progress_facts(wire: Wire, uri: str, version: int, text: str, start: int = 0) -> dict[str, Any]:
    prog = [p["processing"] for p in wire.progress(uri, version, start)]
    lines = text.split("\n")
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": len(lines) - 1, "character": len(lines[-1])}}
    spans = [s for p in prog for s in p]
    return {
        "first_is_whole_document": [s["range"] for s in prog[0]] == [whole],
        "ends_with_two_empty": prog[-2:] == [[], []],
        "several_spans_at_once": any(len(p) > 1 for p in prog),
        "zero_width_spans": any(s["range"]["start"] == s["range"]["end"] for s in spans),
        "kinds": sorted({s["kind"] for s in spans}),
        "keys": sorted({tuple(sorted(s)) for s in spans}),
    }


def term_span(text: str, line_prefix: str, token: str) -> dict[str, Any]:
    lines = text.split("\n")
    line = next(i for i, ln in enumerate(lines) if ln.startswith(line_prefix))
    col = len(lines[line][: lines[line].index(token)].encode("utf-16-le")) // 2
    return {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + len(token)}}


def at(span: dict[str, Any], uri: str) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": span["start"]}


def index_of(wire: Wire, pred: Any) -> int:
    return next(i for i, m in enumerate(wire.inbox) if pred(m))


# --- scenarios ------------------------------------------------------------------------------------


async def initialize_and_elaborate(side: Side, incremental: bool) -> dict[str, Any]:
    uri = (side.root / "Prelude" / "Doc.lean").as_uri()
    facts: dict[str, Any] = {}
    async with session(side.command, side.root, incremental=incremental) as (wire, init):
        result = init["result"]
        facts["capabilities"] = sorted(result["capabilities"])
        facts["sync"] = result["capabilities"]["textDocumentSync"]
        facts["server"] = result["serverInfo"]["name"]
        reg = await wire.until(lambda m: m.get("method") == "client/registerCapability")
        facts["register"] = {k: reg[k] for k in ("id", "params")}

        await wire.open(uri, DOC)
        barrier = await wire.request("textDocument/waitForDiagnostics", {"uri": uri, "version": 1}, within=60)
        facts["barrier"] = {k: v for k, v in barrier.items() if k in ("result", "error")}
        await asyncio.sleep(0.2)  # anything of version 1 still to come would arrive now
        pubs = wire.published(uri, 1)
        facts["v1_flags"] = publish_flags(pubs) if incremental else sorted({repr(p.get("isIncremental", "absent"))
                                                                             for p in pubs})
        facts["v1_diagnostics"] = [diag_shape(d) for d in merged(wire, uri, 1)]
        facts["v1_progress"] = progress_facts(wire, uri, 1, DOC)
        answered = index_of(wire, lambda m: is_response(m, barrier["id"]))
        facts["barrier_after_everything"] = all(
            i < answered for i, m in enumerate(wire.inbox)
            if m.get("method") in ("textDocument/publishDiagnostics", "$/lean/fileProgress"))

        # a change after `bad`: the version's first report is a replacement that keeps `bad`'s message (Lean
        # reuses the commands before the change); an incremental client then gets the rest as appends
        mark = wire.mark()
        changed = DOC.replace(":= uses_propext", ":= (uses_propext)")
        await wire.change(uri, changed, 2)
        await wire.request("textDocument/waitForDiagnostics", {"uri": uri, "version": 2}, within=60)
        first = wire.published(uri, 2, mark)[0]
        facts["v2_first_flag"] = repr(first.get("isIncremental", "absent"))
        if incremental:  # (later messages may already be in it too: Lean reports as it goes)
            facts["v2_first_keeps_bad"] = "Unknown identifier `nope`" in [d["message"] for d in first["diagnostics"]]
        facts["v2_diagnostics"] = [diag_shape(d) for d in merged(wire, uri, 2, mark)]

        span = term_span(changed, "theorem add_zero'", "Eq.refl")
        goal = await wire.request("$/lean/plainTermGoal", at(span, uri))
        facts["term_goal"] = goal.get("result")
        facts["expected_term_goal"] = {"goal": "a : N\n⊢ Eq (a.add N.z) a", "range": span}
        facts["unknown_method"] = (await wire.request("foo/bar", {}))["error"]
        never = (side.root / "Never.lean").as_uri()
        err = (await wire.request("textDocument/waitForDiagnostics", {"uri": never, "version": 1}))["error"]
        facts["never_opened"] = {**err, "message": err["message"].replace(never, "<uri>")}
        goal_err = (await wire.request("$/lean/plainGoal", at(span, never)))["error"]
        facts["never_opened_goal"] = {**goal_err, "message": goal_err["message"].replace(never, "<uri>")}

        mark = wire.mark()
        facts["shutdown"] = (await wire.request("shutdown", None)).get("result", "missing")
        facts["shutdown_publish"] = [{**p, "uri": p["uri"] == uri} for p in wire.published(start=mark)]
        await wire.notify("exit", None)
        facts["exit_code"] = await asyncio.wait_for(wire.proc.wait(), 10)
    return facts


async def slow_version(side: Side) -> dict[str, Any]:
    """A version that takes a while: a cancelled barrier, a goal request during elaboration, refreshes."""
    uri = (side.root / "Prelude" / "Slow.lean").as_uri()
    fast = prelude_file("theorem t : Eq N.one N.one := Eq.refl")
    slow = prelude_file(SLOW)
    facts: dict[str, Any] = {}
    async with session(side.command, side.root) as (wire, _init):
        await wire.open(uri, fast)
        await wire.request("textDocument/waitForDiagnostics", {"uri": uri, "version": 1}, within=60)
        mark = wire.mark()
        await wire.change(uri, slow, 2)
        barrier = await wire.send_request("textDocument/waitForDiagnostics", {"uri": uri, "version": 2})
        span = term_span(slow, "theorem slow", "Eq.refl")
        goal = await wire.send_request("$/lean/plainTermGoal", at(span, uri))
        await asyncio.sleep(0.2)
        await wire.notify("$/cancelRequest", {"id": barrier})
        facts["not_answered_at_once"] = await wire.silent(lambda m: is_response(m, barrier), 0.3)
        cancelled = await wire.response(barrier, within=60)
        facts["cancelled"] = cancelled.get("error")
        done = index_of(wire, lambda m: m.get("method") == "$/lean/fileProgress"
                        and m["params"]["textDocument"]["version"] == 2 and m["params"]["processing"] == [])
        facts["cancel_answered_after_the_version_finished"] = wire.inbox.index(cancelled) > done
        answer = await wire.response(goal, within=60)
        facts["goal_keys"] = sorted(answer.get("result") or {})
        facts["goal_range"] = (answer.get("result") or {}).get("range") == span
        first_v2 = index_of(wire, lambda m: m.get("method") == "textDocument/publishDiagnostics"
                            and m["params"].get("version") == 2)
        facts["goal_answered_from_the_new_version"] = wire.inbox.index(answer) > first_v2
        requests = [m for m in wire.server_requests(mark)]
        facts["refresh_ids_from_0"] = [m["id"] for m in requests] == list(range(len(requests)))
        methods = {m["method"] for m in requests}
        facts["refresh_methods"] = "workspace/inlayHint/refresh" in methods and methods <= {
            "workspace/inlayHint/refresh", "workspace/semanticTokens/refresh"}  # semantic tokens every ~2 s
        facts["refresh_keys"] = sorted({tuple(sorted(k for k in m if k != "_t")) for m in requests})
        facts["progress"] = progress_facts(wire, uri, 2, slow, mark)
    return facts


async def crashes(side: Side) -> dict[str, Any]:
    """A worker killed mid-elaboration, then one killed while idle, then didClose with requests pending."""
    uri = (side.root / "Prelude" / "Crash.lean").as_uri()
    fast = prelude_file("theorem t : Eq N.one N.one := Eq.refl")
    slow = prelude_file(SLOW)
    facts: dict[str, Any] = {}
    async with session(side.command, side.root) as (wire, _init):
        await wire.open(uri, fast)
        await wire.request("textDocument/waitForDiagnostics", {"uri": uri, "version": 1}, within=60)
        await wire.change(uri, slow, 2)
        barrier = await wire.send_request("textDocument/waitForDiagnostics", {"uri": uri, "version": 2})
        await side.wait_busy(wire, uri)
        mark = wire.mark()
        side.kill_worker(wire, uri)
        crashed = await wire.response(barrier, within=30)
        facts["pending_error"] = {**crashed["error"], "message": crashed["error"]["message"].replace(uri, "<uri>")}
        fatal = await wire.until(lambda m: m.get("method") == "$/lean/fileProgress"
                                 and any(s["kind"] == 2 for s in m["params"]["processing"]), start=mark)
        facts["fatal_progress"] = [(s["kind"], s["range"]) for s in fatal["params"]["processing"]]
        lines = slow.split("\n")
        facts["fatal_covers"] = {"start": {"line": 0, "character": 0},
                                 "end": {"line": len(lines) - 1, "character": len(lines[-1])}}
        queued = await wire.send_request("$/lean/plainTermGoal", at(term_span(slow, "theorem slow", "Eq.refl"), uri))
        facts["later_request_queues"] = await wire.silent(lambda m: is_response(m, queued), 0.5)
        facts["nothing_published_after_the_crash"] = wire.published(uri, start=wire.inbox.index(fatal)) == []
        mark = wire.mark()
        await wire.change(uri, fast, 3)  # starts a new worker
        facts["queued_answered_after_did_change"] = "result" in await wire.response(queued, within=30)
        await wire.request("textDocument/waitForDiagnostics", {"uri": uri, "version": 3}, within=30)
        facts["new_worker_flags"] = publish_flags(wire.published(uri, 3, mark))

        mark = wire.mark()
        side.kill_worker(wire, uri)  # idle this time
        await wire.until(lambda m: m.get("method") == "$/lean/fileProgress", start=mark)
        queued = await wire.send_request("$/lean/plainTermGoal", at(term_span(fast, "theorem t", "Eq.refl"), uri))
        await asyncio.sleep(0.5)
        facts["idle_kill_messages"] = [  # (a refresh request the watchdog may still send is not about the kill)
            (m.get("method"), [s["kind"] for s in m["params"]["processing"]]) for m in wire.inbox[mark:]
            if not m.get("method", "").startswith("workspace/")]
        mark = wire.mark()
        await wire.close(uri)
        closed = await wire.response(queued)
        facts["pending_at_did_close"] = {**closed["error"], "message": closed["error"]["message"].replace(uri, "<uri>")}
        await wire.until(lambda m: m.get("method") == "textDocument/publishDiagnostics", start=mark)
        facts["did_close_publish"] = [{**p, "uri": p["uri"] == uri} for p in wire.published(start=mark)]
    return facts


async def axiom_lists(side: Side) -> dict[str, Any]:
    uri = (side.root / "Prelude" / "Axioms.lean").as_uri()
    async with session(side.command, side.root) as (wire, _init):
        await wire.open(uri, AXIOMS_DOC)
        await wire.request("textDocument/waitForDiagnostics", {"uri": uri, "version": 1}, within=60)
        return {"audits": [diag_shape(d) for d in merged(wire, uri, 1) if d["severity"] == 3]}


# --- the comparisons ------------------------------------------------------------------------------


@pytest.mark.parametrize("incremental", [True, False], ids=["incremental", "replacing"])
async def test_initialize_diagnostics_progress_goals_and_errors(sides: dict[str, Side], incremental: bool) -> None:
    facts = await both(sides, initialize_and_elaborate, incremental=incremental)
    same(facts)
    real = facts["real"]
    assert real["register"]["id"] == "register_lean_watcher"
    if incremental:  # the watchdog's reset and the worker's first report, then appends
        assert real["v1_flags"]["first_two"] == ["'absent'", "False"] and real["v1_flags"]["an_empty_reset_among_them"]
        assert real["v1_flags"]["rest"] == ["True"]
        assert real["v2_first_flag"] == "False" and real["v2_first_keeps_bad"]
    else:
        assert real["v1_flags"] == ["'absent'"]
    assert real["term_goal"] == real["expected_term_goal"]
    assert real["never_opened"] == {"code": -32801, "message": "Cannot process request to closed file '<uri>'"}
    assert [d[-1] for d in real["v1_diagnostics"]] == [
        "Unknown identifier `nope`", "'uses' depends on axioms: [propext]", "Unknown constant `nosuch`"]


async def test_slow_version_cancel_goal_and_refresh_requests(sides: dict[str, Side]) -> None:
    facts = await both(sides, slow_version)
    same(facts)
    real = facts["real"]
    assert real["cancelled"] == {"code": -32800, "message": ""}
    assert real["cancel_answered_after_the_version_finished"] and real["goal_answered_from_the_new_version"]
    assert real["refresh_methods"] and real["refresh_ids_from_0"]


async def test_worker_crashes_and_closed_files(sides: dict[str, Side]) -> None:
    facts = await both(sides, crashes)
    same(facts)
    real = facts["real"]
    assert real["pending_error"] == {
        "code": -32902, "message": "Server process for <uri> crashed, likely due to a stack overflow or a bug."}
    assert real["later_request_queues"] and real["queued_answered_after_did_change"]
    assert real["idle_kill_messages"] == [("$/lean/fileProgress", [2])]
    assert real["pending_at_did_close"] == {"code": -32801, "message": "The file worker for <uri> has been terminated."}


async def test_print_axioms_order_and_wrapping(sides: dict[str, Side]) -> None:
    facts = await both(sides, axiom_lists)
    same(facts)
    long, mix = (d[-1] for d in facts["real"]["audits"])
    assert long == "'long' depends on axioms: [" + ",\n ".join(LONG) + "]"
    assert mix == "'mix' depends on axioms: [propext, user_ax, Classical.choice]"
