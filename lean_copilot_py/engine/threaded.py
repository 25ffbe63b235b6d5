"""The Engine on an event loop of its own, in a worker thread.

Searches parse thousands of streamed model tokens per second and Lean's diagnostics; on the server's
loop that work queued in front of code-action requests (p99 of 160-230 ms measured with 8 searches).
On its own loop the LSP loop only waits for results, and the interpreter's switch interval bounds
how long a request waits for the GIL. Calls cross with run_coroutine_threadsafe, so cancelling the
caller's await cancels the engine-side task; events come back through call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from ..core.events import EventSink, SearchEvent, SearchResult
from ..core.types import Candidate, Pos, Target, Verdict
from ..settings import Settings
from .port import EnginePort, SearchOptions

log = logging.getLogger(__name__)
T = TypeVar("T")


class ThreadedEngine:
    """An EnginePort that forwards every call to an EnginePort living on a worker loop."""

    def __init__(self, build: Callable[[], EnginePort]) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lean-copilot-engine", daemon=True)
        self._build = build
        self._engine: Any = None
        self._closed = False

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    @classmethod
    async def start(cls, build: Callable[[], EnginePort]) -> ThreadedEngine:
        threaded = cls(build)
        threaded._thread.start()
        await asyncio.to_thread(threaded._ready.wait)

        async def make() -> EnginePort:  # on the worker loop: the engine's imports and objects belong there
            return threaded._build()

        threaded._engine = await threaded._call(make())
        return threaded

    async def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("the engine is closed")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def _relay(self, on_event: EventSink | None) -> EventSink | None:
        if on_event is None:
            return None
        caller = asyncio.get_running_loop()

        def relay(event: SearchEvent) -> None:
            caller.call_soon_threadsafe(on_event, event)

        return relay

    async def search(self, target: Target, options: SearchOptions | None = None) -> SearchResult:
        options = options or SearchOptions()
        relayed = dataclasses.replace(options, on_event=self._relay(options.on_event))
        return await self._call(self._engine.search(target, relayed))

    async def verify(self, target: Target, candidate: Candidate) -> Verdict:
        return await self._call(self._engine.verify(target, candidate))

    async def suggest_tactics(self, path: Path, text: str, pos: Pos, *, budget_s: float) -> list[str]:
        return await self._call(self._engine.suggest_tactics(path, text, pos, budget_s=budget_s))

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        return await self._call(self._engine.goals_at(path, text, pos))

    async def check_document(self, path: Path, text: str) -> Verdict:
        return await self._call(self._engine.check_document(path, text))

    async def aclose(self) -> None:
        if self._closed:
            return
        try:
            if self._engine is not None:
                await self._call(self._engine.aclose())
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 10)


async def threaded_engine(settings: Settings) -> ThreadedEngine:
    """The language server's EngineFactory: the Engine imported off the event loop and run on its own."""

    def build() -> EnginePort:
        from .engine import Engine

        return Engine(settings)

    return await ThreadedEngine.start(build)
