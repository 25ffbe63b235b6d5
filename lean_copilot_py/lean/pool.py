"""Shadow-document slots: per import header, up to ``size`` virtual documents that checks borrow.

Only bookkeeping lives here (which slot is free, what text it last held); the checker does the Lean
calls. Slots are opened on demand, so a header that only ever sees one check at a time costs one worker.
Release is synchronous so a cancelled check can always give its slot back from a ``finally``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False)
class Slot:
    path: str  # project-relative path of the virtual document (never written to disk)
    text: str | None = None  # what the slot last held; None = not open on the server
    stale: bool = False  # reopen before the next use: a timed-out worker may still be busy
    doc: Any = None  # leanclient's DocState of the open document (its stale_imports flag is read)

    @property
    def imports_changed(self) -> bool:
        """Lean said an import was rebuilt ($/lean/staleDependency): the worker still has the old one, and the
        same text would get the old answer, so the slot must be reopened."""
        return bool(getattr(self.doc, "stale_imports", False))


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class ShadowPool:
    def __init__(self, stem: str, size: int) -> None:
        self.stem = stem
        self.size = size
        self.slots: list[Slot] = []
        self._free: list[Slot] = []
        self._waiters: deque[asyncio.Future[Slot]] = deque()
        self.last_used = time.monotonic()

    @property
    def busy(self) -> int:
        return len(self.slots) - len(self._free)

    @property
    def idle(self) -> bool:
        return self.busy == 0 and not self._waiters

    async def acquire(self, text: str) -> Slot:
        """A free slot, preferring the one whose last text shares the longest prefix with ``text``
        (Lean re-elaborates only from the first changed command)."""
        self.last_used = time.monotonic()
        if self._free:
            best = max(self._free, key=lambda s: _common_prefix(s.text or "", text))
            self._free.remove(best)
            return best
        if len(self.slots) < self.size:
            slot = Slot(f"{self.stem}_{len(self.slots)}.lean")
            self.slots.append(slot)
            return slot
        fut: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release(fut.result())  # handed over just as we were cancelled: pass it on
            else:
                self._waiters.remove(fut)
            raise

    def release(self, slot: Slot) -> None:
        self.last_used = time.monotonic()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(slot)
                return
        self._free.append(slot)
