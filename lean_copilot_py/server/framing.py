"""LSP's base protocol over a pipe (`Content-Length` headers, then a JSON body), read and written by daemon
threads so that neither a silent client nor a flooding one can stall the event loop or grow our memory.

Reading. ``FrameParser`` cuts the byte stream into message bodies with bounded memory: a header line longer
than ``MAX_HEADER_LINE`` is dropped while it streams (only its tail is kept, where the next real header may
start), a body longer than ``MAX_BODY`` is skipped unread and reported as ``Oversized``. A broken frame is
skipped and the parser finds the next `Content-Length:` header, so one bad message never ends the session.
``StdinFrames`` runs the parser in a daemon thread (Python joins executor threads at exit, so a server told
to stop while the editor still holds the pipe open would hang) and holds at most ``BUFFER_BUDGET`` bytes of
parsed bodies the loop has not taken yet. It also says, out of band, when stdin reached its end (``eof``),
so that the loop can stop working on messages a dead client left queued.

Writing. ``ThreadedWriter`` hands each message to a daemon thread: a client that stops reading fills the
pipe, and a blocking write on the loop would then also block SIGTERM and `exit`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
from dataclasses import dataclass
from typing import BinaryIO

log = logging.getLogger(__name__)

MAX_HEADER_LINE = 8 * 1024  # real header lines are tens of bytes
MAX_BODY = 64 * 1024 * 1024  # a Lean document of tens of MB is already absurd
BUFFER_BUDGET = 64 * 1024 * 1024  # parsed bodies waiting for the loop
MAX_BACKLOG = 256 * 1024 * 1024  # unwritten output to a client that stopped reading
READ_CHUNK = 1 << 16
_CONTENT_LENGTH = b"content-length:"


@dataclass(frozen=True)
class Oversized:
    """A frame whose body was skipped because it announced more than ``MAX_BODY`` bytes."""

    length: int


Frame = bytes | Oversized


class FrameParser:
    """Incremental: ``feed(chunk)`` returns the frames completed by ``chunk``. Never raises on bad input."""

    def __init__(self, max_header_line: int = MAX_HEADER_LINE, max_body: int = MAX_BODY) -> None:
        self._max_line = max_header_line
        self._max_body = max_body
        self._line = bytearray()  # the header line being read
        self._overlong = False  # the current header line passed the limit; only its tail is kept
        self._length: int | None = None  # Content-Length of the frame whose headers are being read
        self._body: bytearray | None = None
        self._need = 0  # body bytes still to read (or to skip)
        self._skipping = False
        self._skipped = 0
        self.dropped_lines = 0

    def feed(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        view = memoryview(chunk)
        i = 0
        while i < len(view):
            if self._need:
                take = min(self._need, len(view) - i)
                if not self._skipping:
                    assert self._body is not None
                    self._body += view[i : i + take]
                self._need -= take
                i += take
                if not self._need:
                    frames.append(Oversized(self._skipped) if self._skipping else bytes(self._body or b""))
                    self._body, self._skipping = None, False
                continue
            nl = chunk.find(b"\n", i)
            end = len(chunk) if nl < 0 else nl
            self._line += view[i:end]
            if len(self._line) > self._max_line:
                if not self._overlong:
                    log.warning("an LSP header line longer than %d bytes; skipping it", self._max_line)
                self._overlong = True
                del self._line[: len(self._line) - self._max_line]
            i = end
            if nl < 0:
                break
            i = nl + 1
            frame = self._header_line(bytes(self._line), overlong=self._overlong)
            self._line.clear()
            self._overlong = False
            if frame is not None:
                frames.append(frame)
        return frames

    def _header_line(self, line: bytes, *, overlong: bool) -> Frame | None:
        line = line.rstrip(b"\r")
        if not line:
            return self._end_of_headers()
        at = line.lower().rfind(_CONTENT_LENGTH)
        if at < 0:
            if overlong or b":" not in line:
                self.dropped_lines += 1
            return None  # another header (Content-Type: LSP bodies are UTF-8 JSON anyway), or garbage
        if at > 0 or overlong:
            # Garbage ran into a header (a body without its newline, a runaway line): resynchronise there.
            self.dropped_lines += 1
        value = line[at + len(_CONTENT_LENGTH) :].strip()
        if value.isdigit():
            self._length = int(value)
        else:
            self._length = None
            self.dropped_lines += 1
            log.warning("ignoring a bad Content-Length header: %r", line[:80])
        return None

    def _end_of_headers(self) -> Frame | None:
        length, self._length = self._length, None
        if length is None:
            return None  # a stray blank line, or a frame without Content-Length: wait for the next header
        if length > self._max_body:
            log.warning("skipping an LSP message of %d bytes (limit %d)", length, self._max_body)
            self._need, self._skipping, self._skipped = length, True, length
            return None
        if length == 0:
            return b""
        self._need, self._body = length, bytearray()
        return None


def frame_size(frame: Frame) -> int:
    return len(frame) if isinstance(frame, bytes) else 0


class StdinFrames:
    """Frames from a pipe, parsed by a daemon thread; ``await get()`` gives the next, None at the end."""

    def __init__(self, stream: BinaryIO, loop: asyncio.AbstractEventLoop, budget: int = BUFFER_BUDGET) -> None:
        self._stream = stream  # kept: dropping the file object would close the descriptor under the thread
        self._fd = stream.fileno()
        self._loop = loop
        self._budget = budget
        self._frames: collections.deque[tuple[Frame, int]] = collections.deque()
        self._ready = asyncio.Event()
        self._pending = 0
        self._cond = threading.Condition()
        self._closed = False
        self.eof = False  # stdin ended; frames read before it may still wait in the queue
        threading.Thread(target=self._pump, name="lsp-stdin", daemon=True).start()

    def _pump(self) -> None:
        parser = FrameParser()
        try:
            while chunk := os.read(self._fd, READ_CHUNK):
                for frame in parser.feed(chunk):
                    size = frame_size(frame)
                    with self._cond:
                        while self._pending > self._budget and not self._closed:
                            self._cond.wait()
                        if self._closed:
                            return
                        self._pending += size
                    self._call(self._push, frame, size)
        except OSError as exc:
            log.info("stdin closed: %s", exc)
        finally:
            self._call(self._set_eof)

    def _call(self, fn: object, *args: object) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]
        except RuntimeError:  # the loop is already closed
            pass

    def _push(self, frame: Frame, size: int) -> None:
        self._frames.append((frame, size))
        self._ready.set()

    def _set_eof(self) -> None:
        self.eof = True
        self._ready.set()

    async def get(self) -> Frame | None:
        while not self._frames:
            if self.eof:
                return None
            self._ready.clear()
            await self._ready.wait()
        frame, size = self._frames.popleft()
        if size:
            with self._cond:
                self._pending -= size
                self._cond.notify()
        return frame

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class ThreadedWriter:
    """pygls' writer interface (``write``/``close``) over a binary stream, written by a daemon thread."""

    def __init__(self, stream: BinaryIO, max_backlog: int = MAX_BACKLOG) -> None:
        self._stream = stream
        self._max_backlog = max_backlog
        self._queue: collections.deque[bytes] = collections.deque()
        self._backlog = 0
        self._cond = threading.Condition()
        self._closed = False
        self._broken = False
        self._dropped = 0
        threading.Thread(target=self._run, name="lsp-stdout", daemon=True).start()

    def write(self, data: bytes) -> None:
        with self._cond:
            if self._closed or self._broken:
                return
            if self._backlog + len(data) > self._max_backlog:
                self._dropped += 1
                if self._dropped == 1:
                    log.warning("the client has not read %d bytes of our output; dropping messages", self._backlog)
                return
            self._queue.append(data)
            self._backlog += len(data)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                data = self._queue[0]
            try:
                self._stream.write(data)
                self._stream.flush()
            except (OSError, ValueError) as exc:
                log.info("the client's end of our stdout is gone: %s", exc)
                with self._cond:
                    self._broken = True
                    self._queue.clear()
                    self._backlog = 0
                    self._cond.notify_all()
                return
            with self._cond:
                self._queue.popleft()
                self._backlog -= len(data)
                self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for what was written to reach the pipe (True if it did)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue or self._broken, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
