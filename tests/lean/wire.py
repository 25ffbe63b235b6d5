"""A bare JSON-RPC client for a Lean language server over stdio (no leanclient), for tests that pin down
the wire itself: every message is kept with the time it arrived, and the server's own requests
(registerCapability, the refresh requests) are answered with null, as an editor would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

Message = dict[str, Any]


class Wire:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.inbox: list[Message] = []
        self.sent: list[Message] = []
        self.next_id = 0
        self.stderr = bytearray()  # the server's chatter (drained, so a full pipe never blocks it)
        self.started = time.monotonic()
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read_loop())

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, msg: Message) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}, ensure_ascii=False).encode()
        self.sent.append({**msg, "_t": self.now()})
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.proc.stdin.drain()

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"method": method, "params": params})

    async def send_request(self, method: str, params: Any) -> int:
        self.next_id += 1
        await self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    async def request(self, method: str, params: Any, within: float = 10.0) -> Message:
        return await self.response(await self.send_request(method, params), within)

    async def response(self, req_id: int, within: float = 10.0) -> Message:
        return await self.until(lambda m: is_response(m, req_id), within)

    async def open(self, uri: str, text: str, version: int = 1) -> None:
        await self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "lean4", "version": version, "text": text},
             "dependencyBuildMode": "never"},
        )

    async def change(self, uri: str, text: str, version: int) -> None:
        await self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    async def close(self, uri: str) -> None:
        await self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    # -- receiving -------------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self.started

    def mark(self) -> int:
        return len(self.inbox)

    async def until(self, pred: Callable[[Message], bool], within: float = 10.0, start: int = 0) -> Message:
        """The first message from ``start`` on that satisfies ``pred`` (waiting for it up to ``within`` s)."""
        async with asyncio.timeout(within):  # a server that stops answering fails the test, not hangs it
            seen = start
            while True:
                for msg in self.inbox[seen:]:
                    if pred(msg):
                        return msg
                seen = len(self.inbox)
                if self._reader.done():
                    raise AssertionError(f"the server closed its output (exit {self.proc.returncode})")
                self._arrived.clear()
                await self._arrived.wait()

    async def silent(self, pred: Callable[[Message], bool], seconds: float, start: int | None = None) -> bool:
        """True when no message satisfying ``pred`` arrives (from ``start``, default: now) for ``seconds``."""
        begin = self.mark() if start is None else start
        await asyncio.sleep(seconds)
        return not any(pred(m) for m in self.inbox[begin:])

    def published(self, uri: str | None = None, version: int | None = None, start: int = 0) -> list[Message]:
        return [m["params"] for m in self.inbox[start:] if m.get("method") == "textDocument/publishDiagnostics"
                and (uri is None or m["params"]["uri"] == uri)
                and (version is None or m["params"].get("version") == version)]

    def progress(self, uri: str | None = None, version: int | None = None, start: int = 0) -> list[Message]:
        return [m["params"] for m in self.inbox[start:] if m.get("method") == "$/lean/fileProgress"
                and (uri is None or m["params"]["textDocument"]["uri"] == uri)
                and (version is None or m["params"]["textDocument"]["version"] == version)]

    def server_requests(self, start: int = 0) -> list[Message]:
        return [m for m in self.inbox[start:] if "method" in m and "id" in m]

    async def _read_loop(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = await out.readline()
                if not line:
                    self._arrived.set()
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length is None:
                continue
            msg = json.loads(await out.readexactly(length))
            msg["_t"] = self.now()
            self.inbox.append(msg)
            if "method" in msg and "id" in msg:  # the server's request: acknowledge it, as editors do
                with contextlib.suppress(ConnectionError):
                    await self.send({"id": msg["id"], "result": None})
            self._arrived.set()


def is_response(msg: Message, req_id: int) -> bool:
    """A response to our request ``req_id`` (the server's own requests may use the same integer ids)."""
    return msg.get("id") == req_id and "method" not in msg


@contextlib.asynccontextmanager
async def session(
    command: Sequence[str], root: Path, *, incremental: bool = True, initialized: bool = True
) -> AsyncIterator[tuple[Wire, Message]]:
    """Start ``command`` in ``root``, `initialize` it (declaring incremental diagnostics or not) and yield the
    wire with the initialize response. The process is killed afterwards (with its process group)."""
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=root, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    wire = Wire(proc)
    drain = asyncio.ensure_future(_drain(proc, wire.stderr))
    try:
        caps = {"lean": {"incrementalDiagnosticSupport": True}} if incremental else {}
        init = await wire.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": caps},
                                  within=30)
        if initialized:
            await wire.notify("initialized", {})
        yield wire, init
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        wire._reader.cancel()
        drain.cancel()


async def _drain(proc: asyncio.subprocess.Process, into: bytearray) -> None:
    assert proc.stderr is not None
    while chunk := await proc.stderr.read(65536):
        into.extend(chunk)
