"""LeanChecker: the core's Checker on leanclient's AsyncLeanLSPClient.

Every check runs in a virtual shadow document (the user's files are never written): a pool of slots
per import header, each slot one Lean worker that keeps its imports loaded, checks in parallel across
slots. Failures of the machinery are verdicts, never hangs: a slow check is TIMEOUT, a dead worker is
CRASHED (leanclient revives it on the next didChange), a dead server is CRASHED and the client is
started afresh on the next call. A worker that died while idle is noticed from Lean's fatal fileProgress
(Lean would queue requests to it unanswered until a didChange) and its slot reopened. Cancelling a check ends
its Lean work at once and gives its slot back (see ``_elaborated`` for when the worker is kept and when it is
replaced).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leanclient.aio import (
    AsyncLeanLSPClient,
    DiagnosticsReport,
    LeanClientError,
    LeanRequestTimeout,
    LeanTransportError,
    LeanWorkerCrashed,
)

from ..core.cancel import raise_if_cancelled
from ..core.protocols import CheckPriority
from ..core.types import Candidate, Outcome, Pos, SorryGoal, Span, Target, Verdict
from ..settings import LeanSettings
from .audit import allowed_axioms
from .command import server_command
from .epoch import SourceStamp
from .liveness import ignore_stale_fatal_reports, reported_on, watching_worker, worker_died
from .messages import relative_pos
from .pool import LONG_RUNNING_S, ShadowPool, Slot
from .shadow import ShadowText, header_key, import_header, shadow_for, slot_stem, sorry_positions
from .verdict import classify, classify_document

log = logging.getLogger(__name__)

ClientFactory = Callable[[Path, LeanSettings], AsyncLeanLSPClient]
MAX_POOLS = 3  # distinct import headers kept warm at once; the least recently used idle one goes
LOAD_ATTEMPTS = 3  # a worker found dead before it saw the text is replaced; a late report of it can cost one more
# Waits for a goal read or a whole-document check hold up everything behind them (a search starts only once
# its goal is known; batch mode saves a file only after its check): they queue like final verifications.
URGENT = CheckPriority(final=True, owner="lean-copilot")


class LeanStartError(RuntimeError):
    """The Lean server could not be started (no `lake`, unsupported toolchain, startup timeout)."""


def default_client_factory(root: Path, settings: LeanSettings) -> AsyncLeanLSPClient:
    return AsyncLeanLSPClient(
        str(root),
        max_workers=settings.max_workers,
        request_timeout=settings.startup_timeout_s,
        server_command=server_command(settings),
    )


@dataclass
class _Run:
    """One elaborated shadow document, available while its slot is held."""

    client: AsyncLeanLSPClient
    path: str
    items: list[dict]
    doc: Any = None  # leanclient's DocState, watched for a worker that dies under a request


class LeanChecker:
    def __init__(
        self, project_root: Path, settings: LeanSettings, *, client_factory: ClientFactory = default_client_factory
    ) -> None:
        self.project_root = Path(project_root).resolve()
        self.settings = settings
        self._factory = client_factory
        self._client: AsyncLeanLSPClient | None = None
        self._start_lock = asyncio.Lock()
        self._pools: dict[str, ShadowPool] = {}
        self._allowed = allowed_axioms(settings)
        self._closing: set[asyncio.Future[None]] = set()
        self.restarts = 0  # how many times a dead server was replaced (for doctor / tests)
        self._generation = 0  # bumped whenever the server (and every worker's imports) is replaced
        self._stale_seen = 0  # slots whose imports Lean reported rebuilt ($/lean/staleDependency)
        self._sources = SourceStamp(self.project_root)
        self.workers_replaced = 0  # workers closed after a timeout (for tests and the bench)
        self.long_running_s = LONG_RUNNING_S  # when a running check counts as slow (lean/pool.py)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the server now (otherwise the first check does). Raises LeanStartError."""
        await self._ensure_client()

    async def _ensure_client(self) -> AsyncLeanLSPClient:
        async with self._start_lock:
            if self._client is not None and self._client.alive:
                return self._client
            if self._client is not None:
                await self._drop_client()
                self.restarts += 1
            client = self._factory(self.project_root, self.settings)
            try:
                async with asyncio.timeout(self.settings.startup_timeout_s):
                    await client.start()
            except (LeanClientError, OSError, TimeoutError) as exc:
                await _close_quietly(client)
                raise LeanStartError(
                    f"could not start Lean ({' '.join(server_command(self.settings))}): {exc or type(exc).__name__}"
                ) from exc
            except BaseException:  # cancelled mid-start: leave no server process behind
                await asyncio.shield(_close_quietly(client))
                raise
            self._client = client
            return client

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._pools.clear()
        self._generation += 1
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()  # kills the server's whole process group

    async def aclose(self) -> None:
        async with self._start_lock:
            await self._drop_client()
        self._sources.close()

    @property
    def environment_epoch(self) -> int:
        """Changes whenever the same text could get a different answer: a new server, an import Lean reported
        rebuilt, an edit to one of the project's own Lean files (seen within a couple of seconds; the memo of
        core/sharing.py is keyed by it). A sum of counters that only grow."""
        self._stale_seen += sum(pool.newly_stale() for pool in self._pools.values())
        return self._generation + self._stale_seen + self._sources.generation()

    # -- slots -------------------------------------------------------------------------------

    def _pool_for(self, text: str) -> ShadowPool:
        key = header_key(text)
        pool = self._pools.get(key)
        if pool is None:
            if len(self._pools) >= MAX_POOLS:
                self._evict_pool()
            pool = self._pools[key] = ShadowPool(slot_stem(key), self.settings.slots,
                                                 extra_allowed=self._extra_worker_allowed, on_retire=self._retire,
                                                 long_running_s=self.long_running_s)
        return pool

    def _extra_worker_allowed(self) -> bool:
        """An extra slot (lean/pool.py) only while all pools together stay within ``lean.max_workers`` (unset:
        leanclient's default, ~1 worker per 6 GB of RAM): a Mathlib worker takes ~5 GB; swapping is worse."""
        client = self._client
        if client is None:
            return False
        cap = self.settings.max_workers or int(getattr(client, "max_workers", 0) or 0)
        return sum(len(p.slots) for p in self._pools.values()) < cap

    def _retire(self, slot: Slot) -> None:
        client = self._client
        if client is not None and slot.text is not None:
            self._background(client.close_file(slot.path))  # the worker exits, its memory is freed

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _evict_pool(self) -> None:
        idle = [(p.last_used, k) for k, p in self._pools.items() if p.idle]
        if not idle:
            return  # all busy: allow a temporary extra pool rather than block
        _, key = min(idle)
        pool = self._pools.pop(key)
        client = self._client
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
    async def _elaborated(self, client: AsyncLeanLSPClient, text: str, budget: float, *,
                          priority: CheckPriority | None = None, warm: str = "") -> AsyncIterator[_Run]:
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
        pool = self._pool_for(text)
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
                yield _Run(client, slot.path, items, slot.doc)
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

    # -- Checker -----------------------------------------------------------------------------

    async def check(
        self,
        target: Target,
        candidate: Candidate,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
        priority: CheckPriority | None = None,
    ) -> Verdict:
        started = time.monotonic()
        budget = timeout if timeout is not None else self.settings.check_timeout_s
        shadow = shadow_for(target, candidate)

        def failed(outcome: Outcome, reason: str) -> Verdict:
            return Verdict(outcome, reason=reason, elapsed=time.monotonic() - started, snippet=shadow.snippet)

        try:
            client = await self._ensure_client()  # startup has its own limit, not the check's
            async with self._elaborated(client, shadow.text, budget, priority=priority, warm=target.prefix) as run:
                verdict = classify(target, shadow, run.items, self._allowed, elapsed=0.0)
                if verdict.outcome in (Outcome.INCOMPLETE, Outcome.FAILED):
                    verdict = await self._with_sorry_goals(run, shadow, verdict, budget)
        except (TimeoutError, LeanRequestTimeout):
            # Lean worked for the whole budget (it counts from a free slot): that, not the wait for a slot or a
            # starting server, is what StepFun's feedback ("repl cannot return status in N seconds!") reports.
            return dataclasses.replace(failed(Outcome.TIMEOUT, f"Lean did not finish within {budget:g} s"),
                                       elapsed=budget)
        except LeanWorkerCrashed as exc:
            return failed(Outcome.CRASHED, f"the Lean worker crashed: {exc}")
        except LeanStartError as exc:
            return failed(Outcome.CRASHED, str(exc))
        except LeanTransportError as exc:
            await self._forget_dead_client()
            return failed(Outcome.CRASHED, f"the Lean server died: {exc}")
        except LeanClientError as exc:
            return failed(Outcome.CRASHED, f"Lean request failed: {exc}")
        return dataclasses.replace(verdict, elapsed=time.monotonic() - started)

    async def _with_sorry_goals(self, run: _Run, shadow: ShadowText, verdict: Verdict, budget: float) -> Verdict:
        """The goal at each `sorry` the candidate wrote; the verdict stands even if Lean is slow here."""
        sorries: list[SorryGoal] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(budget):
                for pos in sorry_positions(shadow):
                    goals = await _goals_at(run, pos)
                    if goals:
                        rel = relative_pos(pos, shadow.origin)
                        end = Pos(rel.line, rel.col + len("sorry"))
                        sorries.append(SorryGoal(Span(rel, end), "\n\n".join(goals)))
        if not sorries:
            return verdict
        return dataclasses.replace(verdict, sorries=tuple(sorries))

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        """Goals at ``pos`` in a shadow copy of ``text``. None also when Lean could not answer (timeout,
        crash): callers treat an unknown goal like no goal. A worker that died under the request (killed
        while idle, before Lean told us) is reopened and asked once more."""
        budget = self.settings.check_timeout_s
        try:
            client = await self._ensure_client()
            try:
                return await self._goals_in_slot(client, text, pos, budget)
            except LeanWorkerCrashed as exc:
                log.info("goals_at %s:%s: %s; asking a fresh worker", path, pos, exc)
                return await self._goals_in_slot(client, text, pos, budget)
        except LeanTransportError:
            await self._forget_dead_client()
        except (TimeoutError, LeanClientError, LeanStartError) as exc:
            log.warning("goals_at %s:%s: %s", path, pos, exc)
        return None

    async def _goals_in_slot(
        self, client: AsyncLeanLSPClient, text: str, pos: Pos, budget: float
    ) -> list[str] | None:
        async with self._elaborated(client, text, budget, priority=URGENT) as run, asyncio.timeout(budget):
            return await _goals_at(run, pos)

    async def check_document(
        self,
        path: Path,
        text: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (budget, not a wait)
    ) -> Verdict:
        """Elaborate a whole document (batch mode checks an edited file before saving it): PROVED when
        it has no error and no `sorry`. Message positions are the document's own."""
        started = time.monotonic()
        budget = timeout if timeout is not None else self.settings.check_timeout_s
        try:
            client = await self._ensure_client()
            async with self._elaborated(client, text, budget, priority=URGENT) as run:
                return classify_document(run.items, text, elapsed=time.monotonic() - started)
        except (TimeoutError, LeanRequestTimeout):
            outcome, reason = Outcome.TIMEOUT, f"Lean did not finish within {budget:g} s"
        except LeanTransportError as exc:
            await self._forget_dead_client()
            outcome, reason = Outcome.CRASHED, f"the Lean server died: {exc}"
        except (LeanClientError, LeanStartError) as exc:
            outcome, reason = Outcome.CRASHED, str(exc)
        return Verdict(outcome, reason=reason, elapsed=time.monotonic() - started, snippet=text)

    async def _forget_dead_client(self) -> None:
        async with self._start_lock:
            if self._client is not None and not self._client.alive:
                await self._drop_client()
                self.restarts += 1


async def _close_quietly(client: AsyncLeanLSPClient) -> None:
    with contextlib.suppress(Exception):
        await client.close()


async def _goals_at(run: _Run, pos: Pos) -> list[str] | None:
    res = await watching_worker(
        run.client, run.path, run.doc, run.client.goal(run.path, pos.line, pos.col, fresh=False), restart=True
    )
    if res.status == "goals":
        return list(res.goals)
    if res.status == "complete":
        return []
    term = await watching_worker(
        run.client, run.path, run.doc, run.client.term_goal(run.path, pos.line, pos.col, fresh=False), restart=True
    )
    if isinstance(term, dict) and term.get("goal"):
        return [str(term["goal"])]
    return None
