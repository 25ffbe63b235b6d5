"""The Lean side of the shadow slots: a pool per import header (lean/pool.py keeps the books), and what a check
does to a slot's worker — loading a text and waiting for Lean's elaboration, and, when a check is cut short, how
the slot is left for the next one (see ``Slots.elaborated``). A worker that died before it saw the text is replaced
and asked again; one that died elaborating it is the candidate's crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from leanclient.aio import AsyncLeanLSPClient, DiagnosticsReport, LeanClientError, LeanRequestTimeout, LeanWorkerCrashed

from ..core.cancel import raise_if_cancelled
from ..core.protocols import CheckPriority
from ..settings import LeanSettings
from .liveness import ignore_stale_fatal_reports, reported_on, watching_worker, worker_died
from .pool import LONG_RUNNING_S, ShadowPool, Slot
from .shadow import header_key, import_header, slot_stem

log = logging.getLogger(__name__)

MAX_POOLS = 3  # distinct import headers kept warm at once; the least recently used idle one goes
LOAD_ATTEMPTS = 3  # a worker found dead before it saw the text is replaced; a late report of it can cost one more


@dataclass
class Run:
    """One elaborated shadow document, available while its slot is held."""

    client: AsyncLeanLSPClient
    path: str
    items: list[dict]
    doc: Any = None  # leanclient's DocState, watched for a worker that dies under a request


class Slots:
    """The slots of one Lean server (``client()``: the current client, None while there is none)."""

    def __init__(self, settings: LeanSettings, client: Callable[[], AsyncLeanLSPClient | None]) -> None:
        self.settings = settings
        self._client = client
        self.pools: dict[str, ShadowPool] = {}
        self._closing: set[asyncio.Future[None]] = set()
        self.workers_replaced = 0  # workers closed after a timeout (for tests and the bench)
        self.long_running_s = LONG_RUNNING_S  # when a running check counts as slow (lean/pool.py)

    def clear(self) -> None:
        """The server is gone, and every worker with it."""
        self.pools.clear()

    def newly_stale(self) -> int:
        """Slots whose imports Lean reported rebuilt since last asked ($/lean/staleDependency)."""
        return sum(pool.newly_stale() for pool in self.pools.values())

    def pool_for(self, text: str) -> ShadowPool:
        key = header_key(text)
        pool = self.pools.get(key)
        if pool is None:
            if len(self.pools) >= MAX_POOLS:
                self._evict_pool()
            pool = self.pools[key] = ShadowPool(slot_stem(key), self.settings.slots,
                                                 extra_allowed=self._extra_worker_allowed, on_retire=self._retire,
                                                 long_running_s=self.long_running_s)
        return pool

    def _extra_worker_allowed(self) -> bool:
        """An extra slot (lean/pool.py) only while all pools together stay within ``lean.max_workers`` (unset:
        leanclient's default, ~1 worker per 6 GB of RAM): a Mathlib worker takes ~5 GB; swapping is worse."""
        client = self._client()
        if client is None:
            return False
        cap = self.settings.max_workers or int(getattr(client, "max_workers", 0) or 0)
        return sum(len(p.slots) for p in self.pools.values()) < cap

    def _retire(self, slot: Slot) -> None:
        client = self._client()
        if client is not None and slot.text is not None:
            self._background(client.close_file(slot.path))  # the worker exits, its memory is freed

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _evict_pool(self) -> None:
        idle = [(p.last_used, k) for k, p in self.pools.items() if p.idle]
        if not idle:
            return  # all busy: allow a temporary extra pool rather than block
        _, key = min(idle)
        pool = self.pools.pop(key)
        client = self._client()
        if client is not None:
            for slot in pool.slots:
                if slot.text is not None:
                    self._background(client.close_file(slot.path))  # frees the worker

    async def _load(self, client: AsyncLeanLSPClient, slot: Slot, text: str) -> int:
        if (slot.stale or slot.imports_changed or worker_died(slot.doc)) and slot.text is not None:
            # ends a worker that may be stuck or has old imports; a dead one is started afresh by the didOpen
            await client.close_file(slot.path)
            slot.text = None
        slot.stale = False
        doc = await client.open(slot.path, text=text, wait=False, dependency_build_mode="once")
        doc.pinned = True  # slot documents are never evicted by leanclient's LRU
        ignore_stale_fatal_reports(doc)
        if doc is not slot.doc:
            slot.stale_counted = False
        slot.text, slot.doc = text, doc
        return doc.version

    @contextlib.asynccontextmanager
    async def elaborated(self, client: AsyncLeanLSPClient, text: str, budget: float, *,
                          priority: CheckPriority | None = None, warm: str = "") -> AsyncIterator[Run]:
        """Hold a slot with ``text`` elaborated (barrier passed) for the duration of the block.

        ``budget`` counts from when a slot is free (waiting for one is not Lean being slow) and bounds loading
        and elaboration. How a cut-short check leaves its slot (``warm``: the text the next check will most
        likely start with, the user's file before the declaration):

        - cancelled (the search's deadline, the user, a shared check nobody waits for any more): a didChange to
          ``warm`` goes out at once. Lean cancels the superseded elaboration cooperatively (the elaborator and
          kernel poll for it) and reuses every snapshot of ``warm``, so the worker keeps its imports — with
          Mathlib, reloading them costs seconds — and the slot is free for the next check right away.
        - timed out (the whole budget used): the worker is closed and a new one opened on ``warm`` at once. A
          check that ran out its budget is the kind that may be stuck where Lean does not poll for
          cancellation, which would stall the next check sent to it; and reopening now, not when the next
          check comes, lets the new worker load its imports while the model writes its next turn (a new worker
          took 0.24-0.30 s on prelude Lean 4.35; with Mathlib it is seconds)."""
        pool = self.pool_for(text)
        slot = await pool.acquire(text, priority)
        warm = warm or import_header(text)
        if not pool.warmed:
            for spare in pool.spares():
                self._then_release(pool, spare, self._open_on(client, spare, warm))
        handed_on = False
        try:
            try:
                async with asyncio.timeout(budget):
                    version, report = await self._load_and_wait(client, slot, text, budget)
                    raise_if_cancelled()  # leanclient's wait_for may have eaten it (Python 3.11)
            except (TimeoutError, LeanRequestTimeout):
                handed_on = self._then_release(pool, slot, self._replace_worker(client, slot, warm))
                raise
            except asyncio.CancelledError:
                handed_on = self._then_release(pool, slot, self._supersede(client, slot, warm))
                raise
            # No publish for this version at all means no diagnostics (what leanclient holds is older).
            items = report.items if report.version == version else []
            try:
                yield Run(client, slot.path, items, slot.doc)
            except (TimeoutError, LeanRequestTimeout):
                slot.stale = True  # a worker that did not answer a query in time may still be busy
                raise
        finally:
            if not handed_on:
                pool.release(slot)

    async def _load_and_wait(
        self, client: AsyncLeanLSPClient, slot: Slot, text: str, budget: float
    ) -> tuple[int, DiagnosticsReport]:
        """Load ``text`` into ``slot`` and wait until Lean has elaborated it. A worker that died before Lean
        reported anything on this version never saw the text (it died idle: Lean answers the next request
        -32902, or reports it dead late), so that is not the candidate's doing: the slot is reopened and asked
        again. A worker that died elaborating the text is the candidate's crash, and raises."""
        for attempt in range(1, LOAD_ATTEMPTS + 1):
            version = await self._load(client, slot, text)
            try:
                report = await watching_worker(
                    client, slot.path, slot.doc, client.diagnostics(slot.path, fresh=True, timeout=budget + 1.0),
                    restart=False,
                )
                # leanclient's barrier revives a worker that had crashed with a didChange: the same text, as a
                # newer version, which is the one the report is for
                return max(version, getattr(slot.doc, "version", version)), report
            except LeanWorkerCrashed:
                if attempt == LOAD_ATTEMPTS or reported_on(slot.doc, version):
                    raise
                # Again: leanclient revives a worker that answered -32902 with a didChange (a newer version, so
                # a late fatal report of the old one is ignored), one Lean reported dead is reopened by _load.
                log.info("the Lean worker for %s had died before it saw the text; asking a new one", slot.path)
        raise AssertionError("unreachable")

    def _then_release(self, pool: ShadowPool, slot: Slot, coro: Any) -> bool:
        """Run ``coro`` (a clean-up or a warm-up of the slot's document) in the background and release the slot
        once it has been sent, so the next check's didChange cannot overtake it. Returns True: the caller must
        not release the slot itself."""
        task = asyncio.ensure_future(coro)
        self._closing.add(task)

        def done(t: asyncio.Future[None]) -> None:
            self._closing.discard(t)
            if not t.cancelled() and t.exception() is not None:
                slot.text = None  # could not tell what the server holds: reopen on next use
            pool.release(slot)

        task.add_done_callback(done)
        return True

    async def _supersede(self, client: AsyncLeanLSPClient, slot: Slot, warm: str) -> None:
        sent, slot.text = slot.text is not None and slot.path in client.open_paths(), None
        with contextlib.suppress(LeanClientError):
            if sent:
                await client.update(slot.path, warm)
                slot.text = warm

    async def _replace_worker(self, client: AsyncLeanLSPClient, slot: Slot, warm: str) -> None:
        self.workers_replaced += 1
        slot.stale = False
        with contextlib.suppress(LeanClientError):
            await client.close_file(slot.path)
        slot.text = None
        await self._open_on(client, slot, warm)

    async def _open_on(self, client: AsyncLeanLSPClient, slot: Slot, warm: str) -> None:
        """Open a worker for ``slot`` on ``warm`` without waiting for it: it loads its imports in the background."""
        with contextlib.suppress(LeanClientError):
            doc = await client.open(slot.path, text=warm, wait=False, dependency_build_mode="once")
            doc.pinned = True
            slot.text, slot.doc, slot.stale_counted = warm, doc, False
