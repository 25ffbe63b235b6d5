"""A minimal LSP client over a subprocess's stdio, for timing requests to `lean-copilot serve`.

Deliberately small (framing, request/response matching, answering the server's own requests with a
neutral result): the benchmark needs exact send/receive timestamps and nothing else. The package's
server is the only place that speaks LSP through a library.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any

# What we answer to server->client requests (anything else gets null).
_ANSWERS: dict[str, Any] = {"workspace/applyEdit": {"applied": True}, "workspace/configuration": []}


class LspClient:
    def __init__(self, cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.cmd, self.env, self.cwd = list(cmd), env, cwd
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._drain: asyncio.Task[None] | None = None
        self.notifications: list[tuple[float, str, Any]] = []
        self.server_requests: list[str] = []
        self.server_request_times: list[tuple[float, str]] = []  # (time.monotonic(), method)
        self.stderr_tail = b""

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self.env, cwd=self.cwd, limit=2**24,
        )
        self._reader = asyncio.create_task(self._read())
        self._drain = asyncio.create_task(self._drain_stderr())  # an undrained stderr pipe blocks the server

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(1 << 16):
            self.stderr_tail = (self.stderr_tail + chunk)[-8192:]  # kept for error messages

    def _write(self, msg: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        try:
            while True:
                length = 0
                while (line := await out.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if not line:
                    break
                msg = json.loads(await out.readexactly(length))
                self._dispatch(msg)
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    tail = self.stderr_tail.decode(errors="replace")[-2000:]
                    fut.set_exception(ConnectionError(f"the server closed its stdout; stderr ends:\n{tail}"))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "method" in msg and "id" in msg:  # a request from the server: answer it at once
            self.server_requests.append(msg["method"])
            self.server_request_times.append((time.monotonic(), msg["method"]))
            self._write({"jsonrpc": "2.0", "id": msg["id"], "result": _ANSWERS.get(msg["method"])})
        elif "method" in msg:
            self.notifications.append((time.monotonic(), msg["method"], msg.get("params")))
        else:
            fut = self._pending.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                if "error" in msg:
                    fut.set_exception(RuntimeError(f"LSP error: {msg['error']}"))
                else:
                    fut.set_result(msg.get("result"))

    def request_future(self, method: str, params: Any) -> asyncio.Future[Any]:
        rid = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        self._write({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return fut

    async def request(self, method: str, params: Any, timeout: float = 60.0) -> Any:  # noqa: ASYNC109
        return await asyncio.wait_for(self.request_future(method, params), timeout)

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            await self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), timeout=30)
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for task in (self._reader, self._drain):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
