"""No child process outlives the server: after shutdown/exit, after the editor dies (stdin EOF), on SIGTERM.

The fake engine starts a real sleeping child process when it is created (as the real Engine starts Lean
and the model server); the server must close the engine, and the engine's child with it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from . import raw
from .conftest import FAKE_SERVER, Start, clean_env


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def _gone(pid: int, within: float = 10.0) -> bool:
    for _ in range(int(within / 0.05)):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def _child_pid(log: Path) -> int:
    for line in log.read_text().splitlines():
        call = json.loads(line)
        if call["call"] == "init":
            return int(call["child"])
    raise AssertionError("the engine was never created")


async def test_shutdown_closes_the_engine_and_its_children(start: Start, lean_file) -> None:
    text = "theorem foo : True := by\n  \n"
    uri = lean_file(text)
    editor = await start({"child": True})
    editor.open(uri, text)
    await editor.client.protocol.send_request_async(
        "leanCopilot/suggestions", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
    )
    pid = _child_pid(editor.log_path)
    assert _alive(pid)
    await editor.client.shutdown_session()
    assert await _gone(pid)
    assert editor.client._server is not None and editor.client._server.returncode == 0
    assert [c["call"] for c in editor.calls()].count("aclose") == 1


def _frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _read(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    length = 0
    while (line := await proc.stdout.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(await proc.stdout.readexactly(length))


async def _until_response(proc: asyncio.subprocess.Process, msg_id: int) -> dict[str, Any]:
    while True:
        msg = await asyncio.wait_for(_read(proc), 20)
        if msg.get("id") == msg_id and "method" not in msg:
            return msg


@pytest.mark.parametrize("how", ["stdin-eof", "sigterm"])
async def test_editor_death_leaves_no_child(tmp_path: Path, lean_file, how: str) -> None:
    text = "theorem foo : True := by\n  \n"
    uri = lean_file(text)
    log = tmp_path / "engine.jsonl"
    env = clean_env(tmp_path, LCP_FAKE_SCENARIO=json.dumps({"child": True}), LCP_FAKE_LOG=str(log))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(FAKE_SERVER), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
    )
    assert proc.stdin is not None
    try:
        init = {"processId": os.getpid(), "rootUri": tmp_path.as_uri(), "capabilities": {}}
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
        await _until_response(proc, 1)
        item = {"uri": uri, "languageId": "lean4", "version": 1, "text": text}
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}}))
        where = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "leanCopilot/suggestions", "params": where}))
        reply = await _until_response(proc, 2)
        assert [i["insertText"] for i in reply["result"]["items"]] == ["simp", "omega"]
        pid = _child_pid(log)
        assert _alive(pid)
        if how == "stdin-eof":
            proc.stdin.close()
        else:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
        assert await _gone(pid)
        assert code == (1 if how == "stdin-eof" else 128 + signal.SIGTERM)  # no `shutdown` came first
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_stdout_is_reserved_for_the_protocol() -> None:
    # Nothing but LSP frames may reach fd 1: the server moves fd 1 to stderr for everything else.
    import subprocess

    code = (
        "import sys, os\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from lean_copilot_py.server import main\n"
        "ch = main._take_stdout()\n"
        "print('stray print')\n"
        "os.system('echo child output')\n"
        "ch.write(b'FRAME')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert out.stdout == b"FRAME"
    assert b"stray print" in out.stderr and b"child output" in out.stderr


SHUTDOWN = raw.request(2, "shutdown")
EXIT = raw.notification("exit")


def _bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


@pytest.mark.parametrize(
    "writes",
    [
        pytest.param([SHUTDOWN + EXIT], id="one-write"),
        pytest.param([SHUTDOWN + EXIT, "eof"], id="one-write-then-eof"),
        pytest.param([SHUTDOWN, EXIT], id="exit-before-the-answer"),
        pytest.param([SHUTDOWN, "answer", EXIT], id="exit-after-the-answer"),
        pytest.param([SHUTDOWN, "answer", "eof"], id="shutdown-then-eof"),
        pytest.param(_bytewise(SHUTDOWN + EXIT), id="byte-by-byte"),
        pytest.param([SHUTDOWN + EXIT[:7], EXIT[7:30], EXIT[30:]], id="exit-split-mid-frame"),
    ],
)
async def test_exit_code_is_0_after_shutdown_however_framed(tmp_path: Path, lean_file, writes: list) -> None:
    text = "theorem foo : True := by\n  \n"
    uri = lean_file(text)
    log = tmp_path / "engine.jsonl"
    srv = await raw.RawServer.start(tmp_path, {"child": True}, log)
    try:
        await srv.initialize(tmp_path)
        await srv.open(uri, text)
        where = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
        await srv.send(raw.request(9, "leanCopilot/suggestions", where))  # the engine starts its child
        await srv.response(9)
        child = _child_pid(log)
        for w in writes:
            if w == "eof":
                srv.close_stdin()
            elif w == "answer":
                await srv.response(2)
            else:
                await srv.send(w)
        assert await srv.wait() == 0
        assert srv.responses(2) == [{"jsonrpc": "2.0", "id": 2, "result": None}]  # shutdown was answered
        assert await _gone(child)
        assert [c["call"] for c in json_lines(log)].count("aclose") == 1
    finally:
        await srv.kill()


async def test_exit_without_shutdown_is_1_even_in_one_write(tmp_path: Path) -> None:
    srv = await raw.RawServer.start(tmp_path)
    try:
        await srv.initialize(tmp_path)
        await srv.send(raw.request(3, "no/such", {}) + EXIT)
        assert await srv.wait() == 1
    finally:
        await srv.kill()


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _big_version(i: int, lines: int = 15_000) -> str:
    # ~1 MB: indexing one version of it (lexing every line) costs about a second.
    body = "".join(f"theorem t{i}_{k} (a : N) : Eq a a := by\n  sorry\n\n" for k in range(lines // 3))
    return body


@pytest.mark.parametrize("how", ["stdin-eof", "sigterm"])
async def test_queued_work_does_not_delay_the_exit(tmp_path: Path, lean_file, how: str) -> None:
    """A client that queued expensive requests (every code action on a new 1 MB version costs an index
    build) and then died: the server does not index the versions queued behind it and exits, leaving no
    child."""
    uri = lean_file("theorem foo : True := by\n  \n")
    log = tmp_path / "engine.jsonl"
    srv = await raw.RawServer.start(tmp_path, {"child": True}, log)
    try:
        await srv.initialize(tmp_path)
        await srv.open(uri, "theorem foo : True := by\n  \n")
        where = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}
        await srv.send(raw.request(9, "leanCopilot/suggestions", where))
        await srv.response(9)
        child = _child_pid(log)
        queued = 30  # about 30 s of work before this was fixed
        batch = b"".join(
            raw.notification("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": 2 + i},
                "contentChanges": [{"text": _big_version(i)}]}) + raw.code_action(100 + i, uri, 1)
            for i in range(queued)
        )
        await srv.send(batch)
        await srv.response(100)  # the server is busy with the queue now
        t0 = asyncio.get_running_loop().time()
        if how == "stdin-eof":
            srv.close_stdin()
        else:
            srv.proc.send_signal(signal.SIGTERM)
        code = await srv.wait(within=60)
        took = asyncio.get_running_loop().time() - t0
        assert code == (1 if how == "stdin-eof" else 128 + signal.SIGTERM)
        # Worked on = answered with actions, which took indexing that version (an empty answer is about
        # a version the client had already replaced: no index is built for it).
        worked = [m for m in srv.responses() if isinstance(m.get("id"), int) and m["id"] >= 100 and m.get("result")]
        assert len(worked) < queued // 2, f"{len(worked)} of {queued} queued requests were worked on ({took:.1f} s)"
        assert await _gone(child)
    finally:
        await srv.kill()
