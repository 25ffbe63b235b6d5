"""The fake Lean server on the wire, driven by a bare JSON-RPC client (no leanclient), so the dialect
other test suites rely on is pinned down: framing, initialize/registerCapability, incremental and
replacing diagnostics, progress, the barrier, stale goals, cancellation, crashes, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.lean_script import Diag, Rule, Script, fake_lean_command, proved, write_script

URI = "file:///proj/A.lean"


class Wire:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.inbox: list[dict[str, Any]] = []
        self.next_id = 0

    async def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.proc.stdin.drain()

    async def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = None
        while True:
            line = (await self.proc.stdout.readline()).strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        assert length is not None
        msg = json.loads(await self.proc.stdout.readexactly(length))
        self.inbox.append(msg)
        return msg

    async def until(self, pred) -> dict[str, Any]:
        async with asyncio.timeout(5.0):  # a fake that stops answering fails the test, not hangs it
            while True:
                msg = await self.read()
                if pred(msg):
                    return msg

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        rid = self.next_id
        await self.send({"id": rid, "method": method, "params": params})
        return await self.until(lambda m: m.get("id") == rid and "method" not in m)

    def published(self, version: int | None = None) -> list[dict[str, Any]]:
        return [
            m["params"]
            for m in self.inbox
            if m.get("method") == "textDocument/publishDiagnostics"
            and (version is None or m["params"]["version"] == version)
        ]


@contextlib.asynccontextmanager
async def fake(script_path: Path, *, incremental: bool = True) -> AsyncIterator[Wire]:
    proc = await asyncio.create_subprocess_exec(
        *fake_lean_command(script_path),
        "--",
        "-Dserver.reportDelayMs=0",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    wire = Wire(proc)
    try:
        caps = {"lean": {"incrementalDiagnosticSupport": True}} if incremental else {}
        init = await wire.request("initialize", {"processId": None, "rootUri": "file:///proj", "capabilities": caps})
        assert init["result"]["serverInfo"]["name"] == "Lean 4 Server"
        assert init["result"]["capabilities"]["textDocumentSync"]["change"] == 2
        await wire.send({"method": "initialized", "params": {}})
        reg = await wire.until(lambda m: m.get("method") == "client/registerCapability")
        await wire.send({"id": reg["id"], "result": None})
        yield wire
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def open_doc(wire: Wire, text: str, version: int = 1) -> None:
    await wire.send(
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": URI, "languageId": "lean4", "version": version, "text": text},
                "dependencyBuildMode": "never",
            },
        }
    )


async def change_doc(wire: Wire, text: str, version: int) -> None:
    await wire.send(
        {
            "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": URI, "version": version}, "contentChanges": [{"text": text}]},
        }
    )


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
        Rule(pattern="first_thing", diagnostics=[Diag("first error")]),
        Rule(pattern="second_thing", diagnostics=[Diag("a note", severity="info")], axioms=["propext"]),
    ]
    return write_script(script_path, Script(rules=rules))


@pytest.mark.parametrize("incremental", [True, False])
async def test_diagnostics_arrive_in_several_notifications(script, incremental):
    async with fake(script, incremental=incremental) as wire:
        await open_doc(wire, DOC)
        assert (await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1}))["result"] == {}
        pubs = wire.published(1)
        assert len(pubs) >= 3
        if incremental:
            assert pubs[0]["isIncremental"] is False and all(p["isIncremental"] is True for p in pubs[1:])
            merged = [d for p in pubs for d in p["diagnostics"]]
        else:
            assert all("isIncremental" not in p for p in pubs)
            merged = pubs[-1]["diagnostics"]
        messages = [d["message"] for d in merged]
        assert messages == ["first error", "a note", "'two' depends on axioms: [propext]"]
        first = merged[0]
        assert first["source"] == "Lean 4" and first["severity"] == 1 and "fullRange" in first
        assert first["range"]["start"] == {"line": 3, "character": 2}
        audit = merged[2]
        assert audit["range"]["start"]["line"] == 8 and audit["severity"] == 3
        progress = [m["params"] for m in wire.inbox if m.get("method") == "$/lean/fileProgress"]
        assert progress[-1]["processing"] == [] and any(p["processing"] for p in progress)


async def test_unsolved_goals_tag_and_plain_goal(script_path):
    write_script(script_path, Script(goals={"g": "x : Nat\n⊢ x = x"}))
    text = "import Std\n\ntheorem g (x : Nat) : x = x := by\n  skip\n"
    async with fake(script_path) as wire:
        await open_doc(wire, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        (diag,) = [d for p in wire.published(1) for d in p["diagnostics"]]
        assert diag["leanTags"] == [1] and diag["message"] == "unsolved goals\nx : Nat\n⊢ x = x"
        pos = {"textDocument": {"uri": URI}, "position": {"line": 3, "character": 2}}
        goal = (await wire.request("$/lean/plainGoal", pos))["result"]
        assert goal["goals"] == ["x : Nat\n⊢ x = x"] and goal["rendered"].startswith("```lean")
        outside = {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}
        assert (await wire.request("$/lean/plainGoal", outside))["result"] is None


async def test_goal_before_the_barrier_is_stale(script_path):
    write_script(script_path, Script(rules=[proved("fast"), Rule(pattern="slow", delay_s=1.5, unsolved=True)]))
    text = "import Std\n\ntheorem g : True := by\n  fast\n"
    async with fake(script_path) as wire:
        await open_doc(wire, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        await change_doc(wire, text.replace("fast", "slow"), 2)
        pos = {"textDocument": {"uri": URI}, "position": {"line": 3, "character": 6}}
        stale = (await wire.request("$/lean/plainGoal", pos))["result"]
        assert stale == {"goals": [], "rendered": "no goals"}  # version 1's answer
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 2})
        fresh = (await wire.request("$/lean/plainGoal", pos))["result"]
        assert fresh["goals"] == ["⊢ True"]


async def test_newer_change_supersedes_and_cancel_answers(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="stuck", hang=True), proved("ok")]))
    text = "import Std\n\ntheorem g : True := by\n  stuck\n"
    async with fake(script_path) as wire:
        await open_doc(wire, text)
        await wire.send({"id": 99, "method": "textDocument/waitForDiagnostics", "params": {"uri": URI, "version": 1}})
        await wire.send({"method": "$/cancelRequest", "params": {"id": 99}})
        cancelled = await wire.until(lambda m: m.get("id") == 99)
        assert cancelled["error"]["code"] == -32800
        await change_doc(wire, text.replace("stuck", "ok"), 2)
        done = await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 2})
        assert done["result"] == {}
        assert wire.published(2)[-1]["diagnostics"] == []


async def test_crash_answers_32902_until_did_change(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="boom", crash=True), proved("ok")]))
    text = "import Std\n\ntheorem g : True := by\n  boom\n"
    async with fake(script_path) as wire:
        await open_doc(wire, text)
        first = await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        assert first["error"]["code"] == -32902
        again = await wire.request(
            "$/lean/plainGoal", {"textDocument": {"uri": URI}, "position": {"line": 3, "character": 2}}
        )
        assert again["error"]["code"] == -32902
        await change_doc(wire, text.replace("boom", "ok"), 2)
        assert (await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 2}))["result"] == {}


async def test_unknown_request_and_shutdown(script):
    async with fake(script) as wire:
        unknown = await wire.request("textDocument/semanticTokens/full", {"textDocument": {"uri": URI}})
        assert unknown["error"]["code"] == -32601
        assert (await wire.request("shutdown", {}))["result"] is None
        await wire.send({"method": "exit"})
        assert await asyncio.wait_for(wire.proc.wait(), 5) == 0
        assert wire.proc.stderr is not None
        assert b"fake-lean" in await wire.proc.stderr.read()  # it chatters on stderr like Lean


async def test_range_changes_and_utf16_columns(script_path):
    write_script(script_path, Script(rules=[Rule(pattern="bad", diagnostics=[Diag("here")])]))
    text = "import Std\n\ntheorem g : True := by\n  ok\n"
    async with fake(script_path) as wire:
        await open_doc(wire, text)
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 1})
        # insert "𝕜 bad" (𝕜 is two UTF-16 units) before `ok`
        edit = {"range": {"start": {"line": 3, "character": 2}, "end": {"line": 3, "character": 2}}, "text": "𝕜 bad "}
        await wire.send(
            {
                "method": "textDocument/didChange",
                "params": {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [edit]},
            }
        )
        await wire.request("textDocument/waitForDiagnostics", {"uri": URI, "version": 2})
        (diag,) = [d for p in wire.published(2) for d in p["diagnostics"]]
        assert diag["range"]["start"] == {"line": 3, "character": 5}  # 2 + 2 (𝕜) + 1 (space)
