"""`lean-copilot serve`: the language server over stdio.

We run pygls' message loop ourselves (instead of ``server.start_io``) to own the ending: on `exit`, stdin
EOF, SIGTERM/SIGHUP or the editor's death, every search is cancelled and the Engine (Lean server, model
server) is closed before the process leaves, so no child process outlives us.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async

from .app import CopilotServer, build_server
from .config import EngineFactory

log = logging.getLogger(__name__)


class _ThreadedStdin:
    """An async reader over a pipe, fed by a *daemon* thread.

    pygls' own reader blocks an executor thread in ``read``; Python joins executor threads at exit, so a
    server told to stop while the editor still holds the pipe open would hang. A daemon thread does not.
    """

    def __init__(self, stream: BinaryIO, loop: asyncio.AbstractEventLoop) -> None:
        self._reader = asyncio.StreamReader(limit=2**26, loop=loop)
        self._loop = loop
        self._fd = stream.fileno()
        threading.Thread(target=self._pump, name="lsp-stdin", daemon=True).start()

    def _pump(self) -> None:
        try:
            while chunk := os.read(self._fd, 1 << 16):
                self._loop.call_soon_threadsafe(self._reader.feed_data, chunk)
        except OSError as exc:
            log.info("stdin closed: %s", exc)
        finally:
            try:
                self._loop.call_soon_threadsafe(self._reader.feed_eof)
            except RuntimeError:  # the loop is already closed
                pass

    async def readline(self) -> bytes:
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""  # EOF mid-message: the loop treats b"" as the end


def _setup_logging(log_file: Path | None) -> None:
    handler: logging.Handler
    if log_file is not None:
        log_file.expanduser().parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file.expanduser(), encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # pygls logs every message body at INFO.
    logging.getLogger("pygls").setLevel(logging.WARNING)


def _take_stdout() -> BinaryIO:
    """The LSP channel is our private copy of fd 1; fd 1 itself then points at stderr, so a stray print or a
    child process (Lean, vllm) that inherits stdout can never corrupt the protocol stream."""
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return channel


async def serve(server: CopilotServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    loop = asyncio.get_running_loop()
    server.protocol.set_writer(StdoutWriter(stdout))
    stop = threading.Event()
    reader = _ThreadedStdin(stdin, loop)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, server.request_exit, 128 + sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    messages = loop.create_task(
        run_async(
            stop_event=stop,
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    )
    exit_requested = loop.create_task(server.wait_for_exit())
    try:
        await asyncio.wait({messages, exit_requested}, return_when=asyncio.FIRST_COMPLETED)
        if messages.done() and not exit_requested.done():
            log.info("the editor closed our stdin; shutting down")
            server.request_exit(0 if server.protocol._shutdown else 1)
    finally:
        stop.set()
        for task in (messages, exit_requested):
            task.cancel()
        await asyncio.gather(messages, exit_requested, return_exceptions=True)
        try:
            await asyncio.wait_for(server.aclose(), timeout=30)
        except Exception:
            log.exception("closing the server's engines failed")
    return server.exit_code or 0


def run_server(log_file: Path | None = None, *, engine_factory: EngineFactory | None = None) -> int:
    _setup_logging(log_file)
    # The engine thread parses streamed tokens; a short switch interval lets the LSP thread take the GIL
    # within ~1 ms instead of the default 5 ms per hand-over (code actions stay fast during searches).
    sys.setswitchinterval(0.0005)
    channel = _take_stdout()
    server = build_server(engine_factory)
    log.info("lean-copilot server starting (pid %s)", os.getpid())
    code = asyncio.run(serve(server, sys.stdin.buffer, channel))
    log.info("lean-copilot server exiting with %s", code)
    return code
