"""LeanChecker: the core's Checker on leanclient's AsyncLeanLSPClient.

Every check runs in a virtual shadow document (the user's files are never written): a pool of slots
per import header, each slot one Lean worker that keeps its imports loaded, checks in parallel across
slots. Failures of the machinery are verdicts, never hangs: a slow check is TIMEOUT, a dead worker is
CRASHED (leanclient revives it on the next didChange), a dead server is CRASHED and the client is
started afresh on the next call. A worker that died while idle is noticed from Lean's fatal fileProgress
(Lean would queue requests to it unanswered until a didChange) and its slot reopened. Cancelling a check ends
its Lean work at once and gives its slot back (lean/slots.py: when the worker is kept and when it is replaced).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from leanclient.aio import (
    AsyncLeanLSPClient,
    LeanClientError,
    LeanRequestTimeout,
    LeanTransportError,
    LeanWorkerCrashed,
)

from ..core.protocols import CheckPriority
from ..core.types import Candidate, Outcome, Pos, SorryGoal, Span, Target, Verdict
from ..settings import LeanSettings
from .audit import allowed_axioms
from .command import server_command
from .epoch import SourceStamp
from .liveness import watching_worker
from .messages import relative_pos
from .shadow import ShadowText, shadow_for, sorry_positions
from .slots import Run, Slots
from .verdict import classify, classify_document

log = logging.getLogger(__name__)

ClientFactory = Callable[[Path, LeanSettings], AsyncLeanLSPClient]
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


class LeanChecker:
    def __init__(
        self, project_root: Path, settings: LeanSettings, *, client_factory: ClientFactory = default_client_factory
    ) -> None:
        self.project_root = Path(project_root).resolve()
        self.settings = settings
        self._factory = client_factory
        self._client: AsyncLeanLSPClient | None = None
        self._start_lock = asyncio.Lock()
        self.slots = Slots(settings, lambda: self._client)
        self._allowed = allowed_axioms(settings)
        self.restarts = 0  # how many times a dead server was replaced (for doctor / tests)
        self._generation = 0  # bumped whenever the server (and every worker's imports) is replaced
        self._stale_seen = 0  # slots whose imports Lean reported rebuilt ($/lean/staleDependency)
        self._sources = SourceStamp(self.project_root)

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
        self.slots.clear()
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
        self._stale_seen += self.slots.newly_stale()
        return self._generation + self._stale_seen + self._sources.generation()

    # -- slots -------------------------------------------------------------------------------

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
            async with self.slots.elaborated(client, shadow.text, budget, priority=priority, warm=target.prefix) as run:
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

    async def _with_sorry_goals(self, run: Run, shadow: ShadowText, verdict: Verdict, budget: float) -> Verdict:
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
        async with self.slots.elaborated(client, text, budget, priority=URGENT) as run, asyncio.timeout(budget):
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
            async with self.slots.elaborated(client, text, budget, priority=URGENT) as run:
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


async def _goals_at(run: Run, pos: Pos) -> list[str] | None:
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
