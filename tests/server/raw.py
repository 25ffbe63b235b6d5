"""`lean-copilot serve` (with the fake engine) as a bare subprocess spoken to in raw bytes: for what an LSP
library client would never send (bad frames, odd framing of shutdown/exit, a client that dies)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from .conftest import FAKE_SERVER, clean_env


def frame(msg: Any) -> bytes:
    body = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def request(msg_id: Any, method: str, params: Any = None) -> bytes:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        msg["params"] = params
    return frame(msg)


def notification(method: str, params: Any = None) -> bytes:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return frame(msg)


class RawServer:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.received: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read_all())

    @classmethod
    async def start(cls, tmp_path: Path, scenario: dict[str, Any] | None = None, log: Path | None = None) -> RawServer:
        env = clean_env(tmp_path, LCP_FAKE_SCENARIO=json.dumps(scenario or {}),
                        LCP_FAKE_LOG=str(log or tmp_path / "engine.jsonl"))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(FAKE_SERVER), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=env, limit=2**27,
        )
        return cls(proc)

    async def _read_all(self) -> None:
        # Read continuously, as an editor does: a server whose output is not read would block on the pipe.
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while (line := await out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line or length is None:
                return
            self.received.append(json.loads(await out.readexactly(length)))
            self._arrived.set()

    async def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def responses(self, msg_id: Any = ...) -> list[dict[str, Any]]:
        return [m for m in self.received if "method" not in m and (msg_id is ... or m.get("id") == msg_id)]

    async def response(self, msg_id: Any, within: float = 20.0) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while not (found := self.responses(msg_id)):
                self._arrived.clear()
                await self._arrived.wait()
            return found[0]

        return await asyncio.wait_for(wait(), within)

    async def initialize(self, root: Path) -> None:
        params = {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}
        await self.send(request(1, "initialize", params))
        await self.response(1)
        await self.send(notification("initialized", {}))

    async def open(self, uri: str, text: str, version: int = 1) -> None:
        item = {"uri": uri, "languageId": "lean4", "version": version, "text": text}
        await self.send(notification("textDocument/didOpen", {"textDocument": item}))

    async def wait(self, within: float = 20.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), within)
        await asyncio.wait_for(self._reader, 5)
        return code

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()


def code_action(msg_id: int, uri: str, line: int) -> bytes:
    at = {"line": line, "character": 2}
    return request(msg_id, "textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}})
