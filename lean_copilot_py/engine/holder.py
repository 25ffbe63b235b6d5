"""The engine that belongs to the current settings, created on first use.

A new settings object (the editor's options changed) replaces the engine for *new* work while running
searches keep the engine they started with; a retired engine is closed as soon as nothing uses it any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from ..settings import Settings
from .port import EngineFactory, EnginePort

log = logging.getLogger(__name__)


class EngineHolder:
    """Lazily creates the engine for the current settings; hands out leases so a replaced engine is closed
    only when its last user is done."""

    def __init__(self, factory: EngineFactory, settings: Settings) -> None:
        self._factory = factory
        self.settings = settings
        self._current: EnginePort | None = None
        self._leases: dict[int, int] = {}
        self._retired: list[EnginePort] = []
        self._lock = asyncio.Lock()
        self._closed = False
        # Strong references to background close tasks (asyncio keeps only weak ones).
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def started(self) -> bool:
        return self._current is not None

    def replace_settings(self, settings: Settings) -> bool:
        """Use ``settings`` for new work. Returns True when they differ from the current ones."""
        if settings == self.settings:
            return False
        self.settings = settings
        old, self._current = self._current, None
        if old is not None:
            self._retired.append(old)
            if not self._leases.get(id(old)):
                self._spawn_close(old)
        return True

    async def _get(self) -> EnginePort:
        async with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            if self._current is None:
                log.info("starting the engine")
                self._current = await self._factory(self.settings)
            return self._current

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[EnginePort]:
        engine = await self._get()
        key = id(engine)
        self._leases[key] = self._leases.get(key, 0) + 1
        try:
            yield engine
        finally:
            self._leases[key] -= 1
            if self._leases[key] == 0:
                del self._leases[key]
                if engine in self._retired:
                    self._retired.remove(engine)
                    await _close(engine)

    def _spawn_close(self, engine: EnginePort) -> None:
        self._retired.remove(engine)
        task = asyncio.get_running_loop().create_task(_close(engine))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every engine (current, retired, closing). Safe to call twice."""
        self._closed = True
        engines = [e for e in (self._current, *self._retired) if e is not None]
        self._current = None
        self._retired.clear()
        for engine in engines:
            await _close(engine)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _close(engine: EnginePort) -> None:
    try:
        await engine.aclose()
    except Exception:
        log.exception("closing the engine failed")
