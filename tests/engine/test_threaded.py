"""The Engine runs on its own loop: results, events, cancellation and closing cross the thread boundary."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from lean_copilot_py.core.events import GaveUp, SearchResult, SearchStatus
from lean_copilot_py.core.types import Pos
from lean_copilot_py.engine.port import SearchOptions
from lean_copilot_py.engine.threaded import ThreadedEngine


class SlowEngine:
    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.cancelled = threading.Event()
        self.closed = False

    async def search(self, target, options=None):
        self.threads.add(threading.current_thread().name)
        if options and options.on_event:
            options.on_event(GaveUp("s1", "first event"))
        try:
            await asyncio.sleep(target)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return SearchResult("s1", SearchStatus.FAILED, reason="slept")

    async def suggest_tactics(self, path, text, pos, *, budget_s):
        return [f"{text} on {threading.current_thread().name}"]

    async def aclose(self) -> None:
        self.closed = True


async def test_calls_run_on_the_engine_thread_and_events_come_back_to_the_caller_loop() -> None:
    inner = SlowEngine()
    engine = await ThreadedEngine.start(lambda: inner)
    seen: list[tuple[str, str]] = []
    caller = threading.current_thread().name

    result = await engine.search(0.01, SearchOptions(on_event=lambda e: seen.append((e.summary(),
                                                                                   threading.current_thread().name))))
    await asyncio.sleep(0.05)  # the relayed event is scheduled on this loop
    assert result.status is SearchStatus.FAILED and result.reason == "slept"
    assert inner.threads == {"lean-copilot-engine"}
    assert seen == [("no proof: first event", caller)]
    assert await engine.suggest_tactics(Path("x.lean"), "simp", Pos(0, 0), budget_s=1) == [
        "simp on lean-copilot-engine"
    ]
    await engine.aclose()
    assert inner.closed and not engine._thread.is_alive()


async def test_cancelling_the_caller_cancels_the_engine_task() -> None:
    inner = SlowEngine()
    engine = await ThreadedEngine.start(lambda: inner)
    task = asyncio.create_task(engine.search(30))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(inner.cancelled.wait, 5)
    await engine.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await engine.search(0)
