"""The frame parser on its own: any split of the byte stream gives the same frames; runaway header lines,
bad and oversized Content-Lengths are skipped with bounded memory and the next frame is still found."""

from __future__ import annotations

import asyncio
import io
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.server.framing import FrameParser, Oversized, StdinFrames, ThreadedWriter


def _frame(body: bytes, *, extra: bytes = b"") -> bytes:
    return b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body


def _parse(chunks: list[bytes], **limits: int) -> tuple[list[object], FrameParser]:
    parser = FrameParser(**limits)
    out: list[object] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out, parser


BODIES = st.lists(st.binary(max_size=40), max_size=5)


@settings(max_examples=200, deadline=None)
@given(BODIES, st.data())
def test_any_split_of_the_stream_gives_the_same_frames(bodies: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(_frame(b, extra=b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n") for b in bodies)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert _parse(chunks)[0] == bodies


def test_a_runaway_header_line_is_dropped_while_it_streams() -> None:
    parser = FrameParser(max_header_line=64)
    for _ in range(1000):
        assert parser.feed(b"X" * 1000) == []
        assert len(parser._line) <= 64  # memory stays bounded while the line streams
    assert parser.feed(b"\r\n" + _frame(b"{}")) == [b"{}"]


def test_garbage_running_into_a_header_resynchronises_there() -> None:
    frames, parser = _parse([b'{"half": "a body"}' + _frame(b"[1]") + b"Y" * 200 + _frame(b"[2]")], max_header_line=64)
    assert frames == [b"[1]", b"[2]"]
    assert parser.dropped_lines == 2


def test_bad_content_lengths() -> None:
    frames, _ = _parse([b"Content-Length: -4\r\n\r\n", b"Content-Length: x\r\n\r\n", _frame(b"ok"),
                        b"Content-Length: 0\r\n\r\n", b"\r\n\r\n", _frame(b"again")])
    assert frames == [b"ok", b"", b"again"]


def test_an_oversized_body_is_skipped_unread() -> None:
    parser = FrameParser(max_body=100)
    assert parser.feed(b"Content-Length: 1000\r\n\r\n") == []
    for _ in range(9):
        assert parser.feed(b"z" * 100) == []
        assert parser._body is None  # nothing of it is kept
    assert parser.feed(b"z" * 100 + _frame(b"next")) == [Oversized(1000), b"next"]


async def test_eof_is_known_while_frames_still_wait() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, _frame(b"a") + _frame(b"b"))
    os.close(write_fd)
    frames = StdinFrames(os.fdopen(read_fd, "rb"), asyncio.get_running_loop())
    assert await frames.get() == b"a"
    for _ in range(100):
        if frames.eof:
            break
        await asyncio.sleep(0.01)
    assert frames.eof  # the end of stdin is known before the last frame is taken
    assert await frames.get() == b"b"
    assert await frames.get() is None


async def test_the_reader_holds_at_most_its_budget() -> None:
    read_fd, write_fd = os.pipe()
    frames = StdinFrames(os.fdopen(read_fd, "rb"), asyncio.get_running_loop(), budget=10_000)
    writer = asyncio.get_running_loop().run_in_executor(None, _write_all, write_fd, [_frame(b"x" * 1000)] * 200)
    await asyncio.sleep(0.3)
    assert frames._pending <= 10_000 + 1000  # the pump waits for the loop instead of buffering everything
    got = 0
    while await frames.get() is not None:
        got += 1
    await writer
    assert got == 200


def _write_all(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "wb") as out:
        for c in chunks:
            out.write(c)


def test_the_writer_does_not_block_and_flushes() -> None:
    out = io.BytesIO()
    writer = ThreadedWriter(out)
    for i in range(100):
        writer.write(b"%d," % i)
    assert writer.flush(5.0)
    assert out.getvalue() == b"".join(b"%d," % i for i in range(100))


def test_a_client_that_never_reads_costs_at_most_the_backlog() -> None:
    read_fd, write_fd = os.pipe()  # nobody reads read_fd: the pipe fills and the writer thread blocks
    writer = ThreadedWriter(os.fdopen(write_fd, "wb"), max_backlog=1 << 20)
    for _ in range(1000):
        writer.write(b"y" * 10_000)  # returns at once although nothing can be written
    assert writer._backlog <= 1 << 20
    assert not writer.flush(0.1)
    os.close(read_fd)  # the client is gone: the blocked write fails and the writer gives up
    assert writer.flush(5.0)
