"""The server under bad input, over raw bytes: every malformed request gets a JSON-RPC error answer (never
silence, never a traceback), a runaway frame is skipped with bounded memory, and the session goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from .raw import RawServer, code_action, frame, notification, request

PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS, METHOD_NOT_FOUND = -32700, -32600, -32602, -32601
TEXT = "theorem foo : True := by\n  sorry\n"


@pytest.fixture
async def server(tmp_path: Path, lean_file) -> AsyncIterator[RawServer]:
    srv = await RawServer.start(tmp_path)
    await srv.initialize(tmp_path)
    yield srv
    await srv.kill()


async def _still_serving(srv: RawServer, uri: str, msg_id: int) -> None:
    await srv.send(code_action(msg_id, uri, 1))
    titles = [a["title"] for a in (await srv.response(msg_id))["result"]]
    assert "Fill this sorry with lean-copilot" in titles


@pytest.mark.parametrize(
    ("message", "code", "answer_id"),
    [
        # params that do not fit the method
        ({"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": None}, INVALID_PARAMS, 7),
        ({"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": {"x": 1}}, INVALID_PARAMS, 7),
        # not JSON-RPC 2.0
        ({"jsonrpc": "1.0", "id": 7, "method": "textDocument/codeAction", "params": {}}, INVALID_REQUEST, 7),
        ({"id": 7, "method": "shutdown"}, INVALID_REQUEST, 7),
        ({"jsonrpc": "2.0", "id": 7, "method": 42}, INVALID_REQUEST, 7),
        ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "id": 7, "method": "x", "params": 3}, INVALID_REQUEST, 7),
        ([{"jsonrpc": "2.0", "id": 7, "method": "shutdown"}], INVALID_REQUEST, None),
        ("a string", INVALID_REQUEST, None),
        # not JSON at all
        (b"{not json", PARSE_ERROR, None),
        (b"\xff\xfe", PARSE_ERROR, None),
        (b"", PARSE_ERROR, None),
    ],
)
async def test_a_malformed_request_gets_an_error_answer(
    server: RawServer, lean_file, message: object, code: int, answer_id: object
) -> None:
    uri = lean_file(TEXT)
    await server.open(uri, TEXT)
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    await server.send(frame(body))
    answer = await server.response(answer_id)
    assert answer["error"]["code"] == code, answer
    assert "data" not in answer["error"] or answer["error"]["data"] is None
    assert "shutting down" not in answer["error"]["message"]  # the bad `shutdown`s above did not count
    await _still_serving(server, uri, 99)


async def test_a_notification_with_bad_params_is_not_answered(server: RawServer, lean_file) -> None:
    uri = lean_file(TEXT)
    await server.send(notification("textDocument/didOpen", {"textDocument": {"uri": 5}}))
    await server.open(uri, TEXT)
    await _still_serving(server, uri, 2)
    assert sorted(m["id"] for m in server.responses()) == [1, 2]  # initialize and the code action only


async def test_an_unknown_method_is_method_not_found(server: RawServer) -> None:
    await server.send(request(5, "no/suchMethod", {}))
    assert (await server.response(5))["error"]["code"] == METHOD_NOT_FOUND


async def test_an_internal_error_is_a_plain_message_without_traceback(server: RawServer, lean_file) -> None:
    uri = lean_file(TEXT)
    await server.open(uri, TEXT)
    # A uri that is a list cannot be looked up: the command handler raises TypeError.
    bad = {"command": "leanCopilot.prove", "arguments": [{"uri": [], "line": 0, "character": 0}]}
    await server.send(request(5, "workspace/executeCommand", bad))
    error = (await server.response(5))["error"]
    assert error["code"] == -32603
    assert error.get("data") is None
    assert "\n" not in error["message"] and "Traceback" not in error["message"] and "File " not in error["message"]
    assert "unhashable" in error["message"]  # still says what went wrong
    await _still_serving(server, uri, 6)


async def test_requests_after_shutdown_get_invalid_request(server: RawServer, lean_file) -> None:
    uri = lean_file(TEXT)
    await server.open(uri, TEXT)
    await server.send(request(2, "shutdown"))
    assert (await server.response(2))["result"] is None
    await server.send(code_action(3, uri, 1) + request(4, "shutdown") + notification("initialized", {}))
    for msg_id in (3, 4):
        error = (await server.response(msg_id))["error"]
        assert error["code"] == INVALID_REQUEST and "shutting down" in error["message"]
    await server.send(notification("exit"))
    assert await server.wait() == 0


async def test_a_runaway_header_line_is_skipped_with_bounded_memory(server: RawServer, lean_file) -> None:
    uri = lean_file(TEXT)
    await server.open(uri, TEXT)
    await _still_serving(server, uri, 2)
    proc = psutil.Process(server.proc.pid)
    before = proc.memory_info().rss
    size = 70 * 1024 * 1024
    await server.send(b"X" * size + b"\r\n")
    await _still_serving(server, uri, 3)
    # The line streamed through: it was never held in memory whole (nor anything near its size).
    assert proc.memory_info().rss - before < size // 2
    # Garbage that runs into the next frame's header (a body without its newline) loses only itself.
    await server.send(b"garbage" + code_action(4, uri, 1))
    assert (await server.response(4))["result"]


async def test_an_oversized_body_is_skipped_and_answered(server: RawServer, lean_file) -> None:
    uri = lean_file(TEXT)
    await server.open(uri, TEXT)
    size = 65 * 1024 * 1024
    await server.send(b"Content-Length: %d\r\n\r\n" % size)
    chunk = b" " * (1 << 20)
    for _ in range(size // len(chunk)):
        await server.send(chunk)
    answer = await server.response(None)
    assert answer["error"]["code"] == INVALID_REQUEST and "over the limit" in answer["error"]["message"]
    await _still_serving(server, uri, 2)


class _Capture:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        pass


async def test_after_stdin_ended_only_shutdown_and_exit_are_handled() -> None:
    from lean_copilot_py.server.app import build_server

    server = build_server()
    out = _Capture()
    server.protocol.set_writer(out)
    uri = "file:///p/A.lean"
    item = {"uri": uri, "languageId": "lean4", "version": 1, "text": TEXT}
    for body in (notification("textDocument/didOpen", {"textDocument": item}), code_action(3, uri, 1)):
        server.protocol.handle_frame(body.split(b"\r\n\r\n", 1)[1], lifecycle_only=True)
    await asyncio.sleep(0.05)
    assert out.sent == [] and server.docs.get(uri) is None and server.protocol.skipped_after_eof == 2
    server.protocol.handle_frame(json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode(), lifecycle_only=True)
    assert server.exit_code == 1  # exit without shutdown


async def test_a_failing_notification_shows_one_plain_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from lean_copilot_py.server.app import build_server

    server = build_server()
    out = _Capture()
    server.protocol.set_writer(out)

    def broken(params: object) -> None:
        raise RuntimeError("Lean server crashed (exit code -9)\n  File \"x.py\", line 1, in <module>")

    init = {"processId": None, "rootUri": None, "capabilities": {}}
    server.protocol.handle_frame(request(1, "initialize", init).split(b"\r\n\r\n", 1)[1])
    item = {"uri": "file:///p/A.lean", "languageId": "lean4", "version": 1, "text": TEXT}
    server.protocol.handle_frame(notification("textDocument/didOpen", {"textDocument": item}).split(b"\r\n\r\n", 1)[1])
    out.sent.clear()
    monkeypatch.setattr(server.docs, "change", broken)
    change = {"textDocument": {"uri": "file:///p/A.lean", "version": 2}, "contentChanges": [{"text": "x"}]}
    server.protocol.handle_frame(notification("textDocument/didChange", change).split(b"\r\n\r\n", 1)[1])
    (sent,) = [json.loads(b.split(b"\r\n\r\n", 1)[1]) for b in out.sent]
    assert sent["method"] == "window/showMessage"
    message = sent["params"]["message"]
    assert "Lean server crashed (exit code -9)" in message and "\n" not in message and "File " not in message
