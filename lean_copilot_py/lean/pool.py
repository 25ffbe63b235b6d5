"""Shadow-document slots: per import header, up to ``size`` virtual documents that checks borrow.

Only bookkeeping lives here (which slot is free, what text it last held, who waits); the checker does the Lean
calls. Slots are opened on demand, so a header that only ever sees one check at a time costs one worker.
Release is synchronous so a cancelled check can always give its slot back from a ``finally``.

Who gets a slot that frees up (checks are heavy-tailed: most take a second, some run into the 60 s timeout,
so the order of the queue decides whether the checks most likely to finish a proof wait behind the slow ones):

1. the most urgent ``CheckPriority``: final answers and final verifications, then later-turn sketches before
   earlier ones (an attempt that has read Lean's feedback is closer to a proof than one on its first guess);
2. a fair share per owner: a waiter whose owner (an attempt, a search's automation) holds fewer slots and has
   fewer checks queued ahead goes first, so one attempt's burst cannot starve the others;
3. arrival order.
Priorities are read when a slot is handed out, not when a waiter queued: a shared check whose priority was
raised while it waited moves up.

Extra slots: when every slot is held by a check that has been running for ``long_running_s`` (likely a slow
tactic or a timeout in the making) and the best waiter outranks all of them, it gets a slot beyond ``size``
instead of a queue behind a timeout — if ``extra_allowed()`` agrees (the checker bounds the workers of all its
pools by ``lean.max_workers``: each slot is a Lean worker, ~5 GB with Mathlib). An extra slot is closed as
soon as it is released with nobody waiting, so a burst costs memory only while it lasts.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.protocols import CheckPriority

LONG_RUNNING_S = 5.0  # most checks end within a few seconds even with Mathlib; past this one is a slow one


@dataclass(eq=False)
class Slot:
    path: str  # project-relative path of the virtual document (never written to disk)
    text: str | None = None  # what the slot last held; None = not open on the server
    stale: bool = False  # reopen before the next use (its worker may still be busy with old work)
    doc: Any = None  # leanclient's DocState of the open document (its stale_imports flag is read)
    extra: bool = False  # opened beyond the pool's size for an urgent check; closed when released idle
    stale_counted: bool = False  # its doc's stale imports were counted in the checker's environment epoch
    held: bool = False
    owner: str = ""
    priority: CheckPriority | None = None  # of the check holding it
    since: float = 0.0  # when it was handed out

    @property
    def imports_changed(self) -> bool:
        """Lean said an import was rebuilt ($/lean/staleDependency): the worker still has the old one, and the
        same text would get the old answer, so the slot must be reopened."""
        return bool(getattr(self.doc, "stale_imports", False))


@dataclass(eq=False)
class _Waiter:
    text: str
    priority: CheckPriority
    seq: int
    fut: asyncio.Future[Slot]


def common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection over slice comparisons (C speed: shadow documents carry
    the user's whole file before the declaration)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class ShadowPool:
    def __init__(
        self,
        stem: str,
        size: int,
        *,
        extra_allowed: Callable[[], bool] | None = None,
        on_retire: Callable[[Slot], None] | None = None,
        long_running_s: float = LONG_RUNNING_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stem = stem
        self.size = size
        self.slots: list[Slot] = []
        self._free: list[Slot] = []
        self._waiters: list[_Waiter] = []
        self._held_by: Counter[str] = Counter()
        self._seq = itertools.count()
        self._names = itertools.count()
        self._extra_allowed = extra_allowed
        self._on_retire = on_retire
        self.long_running_s = long_running_s
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None
        self.extra_opened = 0  # how many extra slots were ever opened (for tests and the bench)
        self.warmed = False  # the checker opened the spare slots (spares())
        self.peak_held = 0  # most slots held by checks at once (for tests and the bench)
        self.last_used = clock()

    @property
    def busy(self) -> int:
        return len(self.slots) - len(self._free)

    @property
    def idle(self) -> bool:
        return self.busy == 0 and not self._waiters

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, text: str, priority: CheckPriority | None = None) -> Slot:
        """A slot for ``text`` — at once when one is free, else when the queue order above says so. A free
        slot whose last text shares the longest prefix with ``text`` is preferred (Lean re-elaborates only
        from the first changed command)."""
        self.last_used = self._clock()
        fut: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(text, priority or CheckPriority(), next(self._seq), fut)
        self._waiters.append(waiter)
        self._dispatch()
        if fut.done():
            return fut.result()
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release(fut.result())  # handed over just as we were cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
                self._dispatch()
            raise

    def release(self, slot: Slot) -> None:
        self.last_used = self._clock()
        if slot.owner:
            self._held_by[slot.owner] -= 1
            if self._held_by[slot.owner] <= 0:
                del self._held_by[slot.owner]
        slot.held, slot.owner, slot.priority, slot.since = False, "", None, 0.0
        self._drop_cancelled()
        if slot.extra and not self._waiters:
            self.slots.remove(slot)
            if self._on_retire is not None:
                self._on_retire(slot)
        else:
            self._free.append(slot)
        self._dispatch()

    def newly_stale(self) -> int:
        """Slots whose imports Lean reported rebuilt since the last call (each counts once per document)."""
        fresh = [s for s in self.slots if s.imports_changed and not s.stale_counted]
        for slot in fresh:
            slot.stale_counted = True  # the slot itself is reopened before its next use
        return len(fresh)

    def spares(self) -> list[Slot]:
        """The slots up to ``size`` not made yet, marked held: the checker opens them on the text the next checks
        will start with and releases them. A pool's first check is a sign that parallel ones follow (a search's
        goal read comes right before its attempts; automation runs ``size`` tactics at once), and a worker that
        loads its imports now (seconds with Mathlib) does not load them on a later check's critical path."""
        self.warmed = True
        out = []
        while sum(1 for s in self.slots if not s.extra) < self.size:
            slot = self._new_slot(extra=False)
            slot.held = True
            out.append(slot)
        return out

    # -- the queue ------------------------------------------------------------------------------------

    def _drop_cancelled(self) -> None:
        self._waiters = [w for w in self._waiters if not w.fut.done()]

    def _order(self, w: _Waiter) -> tuple[tuple[int, int], int, int]:
        owner = w.priority.owner
        load = 0
        if owner:
            load = self._held_by[owner] + sum(1 for o in self._waiters if o.priority.owner == owner and o.seq < w.seq)
        return (w.priority.rank(), load, w.seq)

    def _dispatch(self) -> None:
        self._drop_cancelled()
        while self._waiters:
            best = min(self._waiters, key=self._order)
            slot = self._slot_for(best)
            if slot is None:
                break
            self._waiters.remove(best)
            slot.held, slot.owner, slot.priority, slot.since = True, best.priority.owner, best.priority, self._clock()
            if slot.owner:
                self._held_by[slot.owner] += 1
            self.peak_held = max(self.peak_held, sum(1 for s in self.slots if s.held and s.since))
            best.fut.set_result(slot)
        self._arm()

    def _slot_for(self, w: _Waiter) -> Slot | None:
        if self._free:
            # A slot that must be reopened costs an import reload: take a warm one first, then the longest
            # common prefix.
            def fit(s: Slot) -> tuple[bool, int]:
                return not (s.stale or s.imports_changed), common_prefix(s.text or "", w.text)

            slot = max(self._free, key=fit)
            self._free.remove(slot)
            return slot
        if sum(1 for s in self.slots if not s.extra) < self.size:
            return self._new_slot(extra=False)
        if self._extra_ok(w):
            self.extra_opened += 1
            return self._new_slot(extra=True)
        return None

    def _new_slot(self, *, extra: bool) -> Slot:
        slot = Slot(f"{self.stem}_{next(self._names)}.lean", extra=extra)
        self.slots.append(slot)
        return slot

    def _extra_ok(self, w: _Waiter) -> bool:
        if self._extra_allowed is None:
            return False
        held = [s for s in self.slots if s.held]
        now = self._clock()
        if not held or any(now - s.since < self.long_running_s for s in held):
            return False  # a young check will probably free its slot soon
        if any(s.priority is not None and s.priority.rank() <= w.priority.rank() for s in held):
            return False  # not more urgent than what runs: wait like everyone else
        return self._extra_allowed()

    def _arm(self) -> None:
        """Wake up when every held slot will have been busy for ``long_running_s``: the best waiter may then
        deserve an extra slot."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._extra_allowed is None or not self._waiters or self._free:
            return
        held = [s for s in self.slots if s.held]
        if not held:
            return
        at = max(s.since for s in held) + self.long_running_s
        delay = at - self._clock()
        if delay <= 0:
            return  # already long-running and still no extra slot: the next acquire/release re-decides
        self._timer = asyncio.get_running_loop().call_later(delay + 0.001, self._dispatch)
