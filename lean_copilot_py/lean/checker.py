"""LeanChecker: the core's Checker on leanclient's AsyncLeanLSPClient.

Every check runs in a virtual shadow document (the user's files are never written): a pool of slots
per import header, each slot one Lean worker that keeps its imports loaded, checks in parallel across
slots. Failures of the machinery are verdicts, never hangs: a slow check is TIMEOUT, a dead worker is
CRASHED (leanclient revives it on the next didChange), a dead server is CRASHED and the client is
started afresh on the next call. A worker that died while idle is noticed from Lean's fatal fileProgress
(Lean would queue requests to it unanswered until a didChange) and its slot reopened. Cancelling a check
gives its slot back.
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

from ..core.types import Candidate, Outcome, Pos, SorryGoal, Span, Target, Verdict
from ..settings import LeanSettings
from .audit import allowed_axioms
from .command import server_command
from .liveness import ignore_stale_fatal_reports, reported_on, watching_worker, worker_died
from .messages import relative_pos
from .pool import ShadowPool, Slot
from .shadow import ShadowText, header_key, shadow_for, slot_stem, sorry_positions
from .verdict import classify, classify_document

log = logging.getLogger(__name__)

ClientFactory = Callable[[Path, LeanSettings], AsyncLeanLSPClient]
MAX_POOLS = 3  # distinct import headers kept warm at once; the least recently used idle one goes
LOAD_ATTEMPTS = 3  # a worker found dead before it saw the text is replaced; a late report of it can cost one more


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
    doc: Any = None  # leanclient's DocState of the slot (its fatal_error flag is watched)


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
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()  # kills the server's whole process group

    async def aclose(self) -> None:
        async with self._start_lock:
            await self._drop_client()

    # -- slots -------------------------------------------------------------------------------

    def _pool_for(self, text: str) -> ShadowPool:
        key = header_key(text)
        pool = self._pools.get(key)
        if pool is None:
            if len(self._pools) >= MAX_POOLS:
                self._evict_pool()
            pool = self._pools[key] = ShadowPool(slot_stem(key), self.settings.slots)
        return pool

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
                    task = asyncio.ensure_future(client.close_file(slot.path))  # frees the worker
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)

    async def _load(self, client: AsyncLeanLSPClient, slot: Slot, text: str) -> int:
        if (slot.stale or slot.imports_changed or worker_died(slot.doc)) and slot.text is not None:
            # ends a worker that may be stuck or has old imports; a dead one is started afresh by the didOpen
            await client.close_file(slot.path)
            slot.text = None
        slot.stale = False
        doc = await client.open(slot.path, text=text, wait=False, dependency_build_mode="once")
        doc.pinned = True  # slot documents are never evicted by leanclient's LRU
        ignore_stale_fatal_reports(doc)
        slot.text, slot.doc = text, doc
        return doc.version

    @contextlib.asynccontextmanager
    async def _elaborated(self, client: AsyncLeanLSPClient, text: str, budget: float) -> AsyncIterator[_Run]:
        """Hold a slot with ``text`` elaborated (barrier passed) for the duration of the block.

        ``budget`` counts from when a slot is free (waiting for one is not Lean being slow) and bounds
        loading and elaboration; past it the slot is marked stale, because a worker stuck in a loop that
        never checks for cancellation would also stall the next check sent to it. A plain cancellation
        keeps the slot: the next didChange supersedes the work."""
        pool = self._pool_for(text)
        slot = await pool.acquire(text)
        try:
            try:
                async with asyncio.timeout(budget):
                    version, report = await self._load_and_wait(client, slot, text, budget)
            except (TimeoutError, LeanRequestTimeout):
                slot.stale = True
                raise
            # No publish for this version at all means no diagnostics (what leanclient holds is older).
            items = report.items if report.version == version else []
            try:
                yield _Run(client, slot.path, items, slot.doc)
            except (TimeoutError, LeanRequestTimeout):
                slot.stale = True  # a worker that did not answer a query in time may still be busy
                raise
        finally:
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

    # -- Checker -----------------------------------------------------------------------------

    async def check(
        self,
        target: Target,
        candidate: Candidate,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
    ) -> Verdict:
        started = time.monotonic()
        budget = timeout if timeout is not None else self.settings.check_timeout_s
        shadow = shadow_for(target, candidate)

        def failed(outcome: Outcome, reason: str) -> Verdict:
            return Verdict(outcome, reason=reason, elapsed=time.monotonic() - started, snippet=shadow.snippet)

        try:
            client = await self._ensure_client()  # startup has its own limit, not the check's
            async with self._elaborated(client, shadow.text, budget) as run:
                verdict = classify(target, shadow, run.items, self._allowed, elapsed=0.0)
                if verdict.outcome in (Outcome.INCOMPLETE, Outcome.FAILED):
                    verdict = await self._with_sorry_goals(run, shadow, verdict, budget)
        except (TimeoutError, LeanRequestTimeout):
            return failed(Outcome.TIMEOUT, f"Lean did not finish within {budget:g} s")
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
        async with self._elaborated(client, text, budget) as run, asyncio.timeout(budget):
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
            async with self._elaborated(client, text, budget) as run:
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
