"""`lean-copilot serve`: the language server over stdio.

We run the message loop ourselves (instead of pygls' ``server.start_io``) to own the reading and the
ending. Reading (server/framing.py): a bad frame is skipped with an error answer instead of ending the
session, and memory stays bounded whatever the client sends. Ending: on `exit`, stdin EOF,
SIGTERM/SIGHUP or the editor's death, every search is cancelled and the Engine (Lean server, model
server) is closed before the process leaves, so no child process outlives us. Promptly: between two
messages the loop lets signals and `exit` in, and once stdin has ended, work a dead client left queued is
dropped (only `shutdown`/`exit`, which decide the exit code, are still handled).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO, NoReturn

from ..engine.port import EngineFactory
from .app import CopilotServer, build_server
from .framing import StdinFrames, ThreadedWriter
from .protocol import CopilotProtocol

log = logging.getLogger(__name__)


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


async def _dispatch(frames: StdinFrames, protocol: CopilotProtocol) -> None:
    while (frame := await frames.get()) is not None:
        try:
            protocol.handle_frame(frame, lifecycle_only=frames.eof)
        except Exception:  # one message's bug must not end the session
            log.exception("handling a message failed")
        # A queue of ready messages never suspends the loop by itself: let signals, `exit` and tasks in.
        await asyncio.sleep(0)
    if protocol.skipped_after_eof:
        log.info("stdin ended; %d queued message(s) were not handled", protocol.skipped_after_eof)


async def serve(server: CopilotServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    loop = asyncio.get_running_loop()
    writer = ThreadedWriter(stdout)
    server.protocol.set_writer(writer)
    frames = StdinFrames(stdin, loop)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, server.request_exit, 128 + sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    messages = loop.create_task(_dispatch(frames, server.protocol))
    exit_requested = loop.create_task(server.wait_for_exit())
    try:
        await asyncio.wait({messages, exit_requested}, return_when=asyncio.FIRST_COMPLETED)
        if messages.done() and not exit_requested.done():
            log.info("the editor closed our stdin; shutting down")
            server.request_exit(0 if server.protocol.shutdown_requested else 1)
    finally:
        frames.close()
        for task in (messages, exit_requested):
            task.cancel()
        await asyncio.gather(messages, exit_requested, return_exceptions=True)
        try:
            await asyncio.wait_for(server.aclose(), timeout=30)
        except Exception:
            log.exception("closing the server's engines failed")
        for _ in range(3):  # the `shutdown` answer is sent from callbacks of the close just awaited
            await asyncio.sleep(0)
        await asyncio.to_thread(writer.flush, 2.0)
        writer.close()
    return server.exit_code or 0


def run_server(log_file: Path | None = None, *, engine_factory: EngineFactory | None = None) -> NoReturn:
    _setup_logging(log_file)
    # The engine thread parses streamed tokens; a short switch interval lets the LSP thread take the GIL
    # within ~1 ms instead of the default 5 ms per hand-over (code actions stay fast during searches).
    sys.setswitchinterval(0.0005)
    channel = _take_stdout()
    server = build_server(engine_factory)
    log.info("lean-copilot server starting (pid %s)", os.getpid())
    code = asyncio.run(serve(server, sys.stdin.buffer, channel))
    log.info("lean-copilot server exiting with %s", code)
    logging.shutdown()
    sys.stderr.flush()
    # Nothing is left to clean up: searches are cancelled, the engines and their children closed, our output
    # flushed. The interpreter's own teardown would free every object one by one, and a large document's
    # index is millions of them: seconds of exit for nothing (4 s measured for three 1 MB versions).
    os._exit(code)
