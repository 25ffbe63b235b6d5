"""A check is done once: a Checker wrapper with an in-flight table and a verdict memo.

Parallel attempts at temperature ~1 often send the same sketch, or one that differs only in comments and
blank lines (StepFun's own example: every attempt opens with the same `interval_cases` sketch, which runs
into the 60 s timeout). Lean answers the same document the same way, so identical checks — same checker
(one per Lake project: its toolchain and server), same document before the declaration (the user's file,
imports included), same candidate in normal form (core/check_text.py) — share one Lean check:

- **in flight**: the first caller starts the check; later ones wait for the same task (shielded, so a
  waiter that is cancelled — its attempt lost, its search hit the deadline — leaves without touching a check
  others still wait for). When the last waiter leaves, the check is cancelled at once, which frees its slot.
  A queued shared check carries the best priority of its waiters, raised in place when a better one joins.
- **memo**: verdicts are kept (LRU, bounded) for the checker's current environment epoch; a change of epoch
  (rebuilt imports, a restarted server, edited project files) drops them all. TIMEOUT is kept too, but only
  for ``timeout_ttl_s`` and only for callers whose budget is no larger — it is a fact about this machine's
  load as much as about the text. CRASHED is never kept: the next try may well work.

The Engine owns one per checker, so sharing spans the attempts of a search and the searches of one server or
batch run. Verdicts come back in each caller's own coordinates (line numbers, snippet).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .check_text import CheckForm, check_form
from .protocols import Checker, CheckPriority
from .types import Candidate, Outcome, Pos, Target, Verdict

MEMO_SIZE = 2048  # verdicts carry a snippet of a few kB: a few MB at most
TIMEOUT_TTL_S = 600.0  # one search's default deadline: a timeout is remembered for about one search


@dataclass
class SharingStats:
    sent: int = 0  # checks handed to the checker
    joined: int = 0  # callers that waited for a check already running
    memo_hits: int = 0
    abandoned: int = 0  # checks cancelled because nobody waited for them any more
    epochs: int = 0  # environment changes seen (each one cleared the memo)


@dataclass
class _Memo:
    verdict: Verdict
    budget: float
    at: float


@dataclass(eq=False)
class _Flight:
    """One check in flight and who waits for it."""

    epoch: int
    budget: float
    priority: CheckPriority  # handed to the checker; kept equal to the best waiter's
    task: asyncio.Task[Verdict] | None = None
    waiters: list[CheckPriority] = field(default_factory=list)

    def rerank(self) -> None:
        if self.waiters:
            self.priority.adopt(min(self.waiters, key=lambda p: p.rank()))


class SharedChecks:
    """Wraps any Checker (LeanChecker, KiminaChecker, a test double); other attributes pass through."""

    def __init__(self, inner: Checker, *, default_timeout: float = 60.0, memo_size: int = MEMO_SIZE,
                 timeout_ttl_s: float = TIMEOUT_TTL_S) -> None:
        self.inner = inner
        self.default_timeout = default_timeout
        self.memo_size = memo_size
        self.timeout_ttl_s = timeout_ttl_s
        self.stats = SharingStats()
        self._memo: OrderedDict[tuple[int, str], _Memo] = OrderedDict()
        self._flights: dict[tuple[int, str], _Flight] = {}
        self._epoch: int | None = None
        self._abandoned: set[asyncio.Task[Verdict]] = set()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copying): no recursion through __getattr__
            raise AttributeError(name)
        return getattr(self.inner, name)  # restarts, slots, ... of the wrapped checker

    def _current_epoch(self) -> int:
        epoch = int(getattr(self.inner, "environment_epoch", 0) or 0)
        if epoch != self._epoch:
            if self._epoch is not None:
                self.stats.epochs += 1
            self._epoch = epoch
            self._memo.clear()  # entries of an older environment can never be asked for again
        return epoch

    # -- Checker ------------------------------------------------------------------------------------

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        return await self.inner.goals_at(path, text, pos)

    async def check_document(self, path: Path, text: str, *, timeout: float | None = None) -> Verdict:  # noqa: ASYNC109
        return await self.inner.check_document(path, text, timeout=timeout)  # a whole file is never shared

    async def aclose(self) -> None:
        for task in list(self._abandoned):
            task.cancel()
        for flight in list(self._flights.values()):
            if flight.task is not None:
                flight.task.cancel()
        await self.inner.aclose()

    async def check(
        self,
        target: Target,
        candidate: Candidate,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
        priority: CheckPriority | None = None,
    ) -> Verdict:
        form = check_form(target, candidate)
        budget = self.default_timeout if timeout is None else timeout
        mine = priority or CheckPriority()
        key = (self._current_epoch(), form.key)
        hit = self._recall(key, budget)
        if hit is not None:
            self.stats.memo_hits += 1
            return form.translate(hit)
        flight = self._flights.get(key)
        if flight is None or flight.budget < budget:
            # Nothing running, or a check whose shorter budget would not settle a TIMEOUT for this caller.
            flight = self._start(key, target, form, budget, mine)
        else:
            self.stats.joined += 1
        flight.waiters.append(mine)
        flight.rerank()
        assert flight.task is not None
        try:
            verdict = await asyncio.shield(flight.task)
        finally:
            self._leave(key, flight, mine)
        return form.translate(verdict)

    # -- in flight ----------------------------------------------------------------------------------

    def _start(self, key: tuple[int, str], target: Target, form: CheckForm, budget: float,
               priority: CheckPriority) -> _Flight:
        flight = _Flight(key[0], budget, CheckPriority(priority.final, priority.turn, priority.owner))
        self.stats.sent += 1
        flight.task = asyncio.ensure_future(
            self.inner.check(target, form.sent, timeout=budget, priority=flight.priority))
        flight.task.add_done_callback(lambda task: self._landed(key, flight, task))
        self._flights[key] = flight
        return flight

    def _leave(self, key: tuple[int, str], flight: _Flight, mine: CheckPriority) -> None:
        with contextlib.suppress(ValueError):
            flight.waiters.remove(mine)
        task = flight.task
        if flight.waiters or task is None or task.done():
            flight.rerank()
            return
        # Nobody waits any more: stop Lean now (the checker frees the slot as the cancellation lands).
        self.stats.abandoned += 1
        if self._flights.get(key) is flight:
            del self._flights[key]
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)

    def _landed(self, key: tuple[int, str], flight: _Flight, task: asyncio.Task[Verdict]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here so an unawaited failure is not reported as lost
        if exc is None and flight.epoch == self._epoch:
            self._remember(key, task.result(), flight.budget)

    # -- memo ---------------------------------------------------------------------------------------

    def _remember(self, key: tuple[int, str], verdict: Verdict, budget: float) -> None:
        if verdict.outcome is Outcome.CRASHED:
            return
        self._memo[key] = _Memo(verdict, budget, time.monotonic())
        self._memo.move_to_end(key)
        while len(self._memo) > self.memo_size:
            self._memo.popitem(last=False)

    def _recall(self, key: tuple[int, str], budget: float) -> Verdict | None:
        entry = self._memo.get(key)
        if entry is None:
            return None
        if entry.verdict.outcome is Outcome.TIMEOUT:
            if time.monotonic() - entry.at > self.timeout_ttl_s:
                del self._memo[key]
                return None
            if budget > entry.budget:
                return None  # it might finish with the longer budget
        self._memo.move_to_end(key)
        return entry.verdict
