"""A proof search for one target: the automation portfolio first, then N model attempts in parallel.

The first verified proof wins and every other attempt is cancelled (which closes its generator stream and
cuts its running check). Before PROVED is returned, the winning candidate is screened strictly, checked as a
final verification under the target's own statement, and its axioms are audited. (Behind core/sharing.py, as
the Engine runs it, that final check of a document Lean has just proved is answered by the verdict Lean gave
for exactly that document, not sent to Lean a second time.)

A repair target (``target.repair``) first has the user's own proof checked (core/search_repair.py): when Lean
proves it the result is NOTHING_TO_REPAIR and nothing is replaced; otherwise the model's prompt carries that proof
and Lean's errors as its prior turn. Every check the search makes is offered to a SkeletonKeeper; a search that
ends without a proof re-verifies the best skeleton once and returns it in ``SearchResult.skeleton``, never as the
proof.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .attempt import Attempt, AttemptConfig, AttemptResult
from .automation import is_search_tactic, run_automation
from .events import (
    AttemptEnded,
    AttemptStarted,
    AutomationTried,
    EventSink,
    GaveUp,
    ProofFound,
    SearchEvent,
    SearchResult,
    SearchStats,
    SearchStatus,
    SketchChecked,
)
from .goal_statement import goal_statement
from .protocols import Checker, CheckPriority, Generator, Problem, PromptFamily
from .repair import prior_turn
from .search_repair import ACCEPTED_AS_IS, check_original, original_note
from .skeleton import SkeletonKeeper, verify_skeleton
from .transcript import Transcript, write_transcript
from .types import Candidate, Outcome, Target, TargetKind, Verdict
from .verification import checked, final_verification

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)
_ids = itertools.count(1)


@dataclass(frozen=True)
class SearchConfig:
    """What a search needs from the settings (kept flat so tests can build one directly)."""

    attempt: AttemptConfig = field(default_factory=AttemptConfig)
    attempts: int = 8
    deadline_s: float = 600.0
    automation: tuple[str, ...] = ("rfl", "decide", "simp", "omega", "grind", "exact?", "apply?")
    slots: int = 4
    check_timeout_s: float = 60.0
    allowed_axioms: tuple[str, ...] = ("propext", "Classical.choice", "Quot.sound")
    allow_native_decide: bool = False
    transcript_dir: Path | None = None
    skeletons: bool = True  # keep the best verified skeleton of a search that finds no proof

    @classmethod
    def from_settings(
        cls, settings: Settings, *, attempts: int | None = None, deadline_s: float | None = None
    ) -> SearchConfig:
        s, lean = settings.search, settings.lean
        return cls(
            attempt=AttemptConfig.from_settings(s, allow_native_decide=lean.allow_native_decide),
            attempts=attempts or s.attempts,
            deadline_s=deadline_s or s.deadline_s,
            automation=tuple(s.automation),
            slots=lean.slots,
            check_timeout_s=lean.check_timeout_s,
            allowed_axioms=tuple(lean.allowed_axioms),
            allow_native_decide=lean.allow_native_decide,
            transcript_dir=settings.transcript_dir,
        )


def problem_for(target: Target) -> Problem:
    """The prompt's problem: the file context before the declaration and the statement ending in `:= by`.
    For a `sorry` inside a proof, its goal stated as a theorem of the declaration's name (pinning finds the
    model's proof by that name); the whole declaration when the goal isn't known or doesn't read back."""
    statement = f"{target.statement} := by"
    if target.kind is not TargetKind.DECLARATION and target.goal and target.decl_name:
        statement = goal_statement(target.decl_name, target.goal) or statement
    return Problem(header=target.prefix.rstrip() + "\n", statement=statement, goal=target.goal)


class Search:
    def __init__(
        self,
        target: Target,
        checker: Checker,
        config: SearchConfig,
        *,
        generator: Generator | None = None,
        family: PromptFamily | None = None,
        on_event: EventSink | None = None,
        search_id: str | None = None,
        no_model_reason: str = "",
    ) -> None:
        self.target = target
        self.checker = checker
        self.config = config
        self.generator = generator
        self.family = family
        self.on_event = on_event
        self.id = search_id or f"s{next(_ids)}-{uuid.uuid4().hex[:6]}"
        self.no_model_reason = no_model_reason
        self.stats = SearchStats()
        self.transcript = Transcript(self.id, target)
        self._cancelled = asyncio.Event()
        self._crashes: list[str] = []
        self.keeper = SkeletonKeeper(config.allowed_axioms, allow_native_decide=config.allow_native_decide)
        # What automation and attempts check through: every verdict is also offered to the keeper.
        self._watched = self.keeper.watching(self._check) if config.skeletons else self._check

    # -- plumbing ---------------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the search to stop; run() returns a CANCELLED result (streams and checks are closed)."""
        self._cancelled.set()

    def _emit(self, event: SearchEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken progress reporter must not break the search
            log.exception("event sink failed")

    async def _check(self, candidate: Candidate, priority: CheckPriority | None = None) -> Verdict:
        start = time.monotonic()
        prio = priority or CheckPriority(owner=f"{self.id}/automation")  # automation passes none
        try:
            verdict = await checked(
                lambda c: self.checker.check(self.target, c, timeout=self.config.check_timeout_s, priority=prio),
                candidate)
        finally:
            self.stats.lean_seconds += time.monotonic() - start
        if verdict.outcome is Outcome.CRASHED:
            self._crashes.append(verdict.reason)
        return verdict

    # -- the search -------------------------------------------------------------------------------------

    async def run(self) -> SearchResult:
        start = time.monotonic()
        result = SearchResult(self.id, SearchStatus.FAILED, stats=self.stats, model_used=False)
        body = asyncio.ensure_future(self._run(result))
        canceller = asyncio.ensure_future(self._cancelled.wait())
        try:
            async with asyncio.timeout(self.config.deadline_s):
                await asyncio.wait({body, canceller}, return_when=asyncio.FIRST_COMPLETED)
            if not body.done():
                body.cancel()
                await asyncio.gather(body, return_exceptions=True)
                result.status, result.proof = SearchStatus.CANCELLED, None
                result.reason = "cancelled"
            else:
                body.result()
        except TimeoutError:
            body.cancel()
            await asyncio.gather(body, return_exceptions=True)
            if result.status is not SearchStatus.PROVED:
                result.status, result.proof = SearchStatus.TIMEOUT, None
                result.reason = f"deadline ({self.config.deadline_s:g}s) reached" + (
                    f"; {result.reason}" if result.reason else "")
        finally:
            canceller.cancel()
            if not body.done():  # run() itself was cancelled: stop the children, then propagate
                body.cancel()
                await asyncio.gather(body, return_exceptions=True)
        if result.status in (SearchStatus.FAILED, SearchStatus.TIMEOUT):
            await self._keep_skeleton(result)
        self.stats.elapsed = time.monotonic() - start
        if result.status is not SearchStatus.PROVED:
            result.proof = None  # never hand out an unverified candidate
            self._emit(GaveUp(self.id, result.reason))
        if self.config.transcript_dir is not None:
            result.transcript_path = await write_transcript(self.config.transcript_dir, self.transcript, result)
        return result

    async def _keep_skeleton(self, result: SearchResult) -> None:
        """The best skeleton, re-verified once (its own final verification); dropped when that fails."""
        best = self.keeper.best
        if best is None or not self.config.skeletons:
            return
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.check_timeout_s + 5.0):  # past the deadline: one check, bounded
                kept = await verify_skeleton(self._check, best, allowed_axioms=cfg.allowed_axioms,
                                             allow_native_decide=cfg.allow_native_decide,
                                             priority=CheckPriority(final=True, owner=f"{self.id}/skeleton"))
        except TimeoutError:
            kept = None
        if kept is None:
            self.transcript.notes.append(f"skeleton from {best.candidate.origin} failed re-verification: dropped")
            return
        result.skeleton = self.transcript.skeleton = kept
        self.transcript.notes.append(f"verified skeleton kept ({kept.summary()})")

    async def _repair_start(self, result: SearchResult) -> bool:
        """Check the user's proof first; True when Lean accepts it as it is (nothing to repair)."""
        self.target, verdict = await check_original(self.target, self._check, owner=self.id)
        self.transcript.target = self.target
        self.transcript.notes.append(original_note(verdict))
        if not verdict.proved:
            return False
        result.status, result.verdict, result.reason = SearchStatus.NOTHING_TO_REPAIR, verdict, ACCEPTED_AS_IS
        result.model_used = False
        return True

    async def _run(self, result: SearchResult) -> None:
        cfg = self.config
        if self.target.repair is not None and await self._repair_start(result):
            return
        # The quick tactics go first; the library searches (exact?, apply?) can take many seconds on a big
        # library, so with a model they run beside the attempts instead of keeping the GPU waiting.
        quick = [t for t in cfg.automation if not is_search_tactic(t)]
        searching = [t for t in cfg.automation if is_search_tactic(t)]
        if quick and await self._automation(result, quick):
            return
        use_model = self.generator is not None and self.family is not None
        if not use_model:
            if searching and await self._automation(result, searching):
                return
            reason = self.no_model_reason or "no model configured"
            self.transcript.notes.append(f"model not used: {reason}")
            result.reason = f"automation found no proof; {reason} (automation only)"
            self._finish_without_proof(result)
            return
        result.model_used = True
        if not searching:
            await self._attempts(result)
            return
        tasks = {asyncio.create_task(self._attempts(result)), asyncio.create_task(self._automation(result, searching))}
        try:
            while tasks and result.status is not SearchStatus.PROVED:
                done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # an unexpected error surfaces here, as it did before the race
        finally:
            for task in tasks:
                task.cancel()  # the winner's rival: attempts close their streams, checks free their slots
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    def _finish_without_proof(self, result: SearchResult) -> None:
        checks = self.stats.automation_tried + self.stats.sketches_checked
        if checks and len(self._crashes) >= checks:
            result.status = SearchStatus.ERROR
            result.reason = f"Lean could not be used: {self._crashes[-1]}"
        else:
            result.status = SearchStatus.FAILED

    async def _automation(self, result: SearchResult, tactics: list[str]) -> bool:
        cfg = self.config

        def tried(tactic: str, verdict: Verdict) -> None:
            self.stats.automation_tried += 1
            self._emit(AutomationTried(self.id, tactic, verdict.outcome))

        auto = await run_automation(
            self.target, tactics, self._watched, slots=cfg.slots,
            allow_native_decide=cfg.allow_native_decide, on_tried=tried,
        )
        self.transcript.automation = [*self.transcript.automation, *auto.tried]
        if auto.proof is None:
            return False
        return await self._accept(result, auto.proof)

    async def _accept(self, result: SearchResult, candidate: Candidate) -> bool:
        cfg = self.config
        verdict = await final_verification(self._check, candidate, allowed_axioms=cfg.allowed_axioms,
                                           allow_native_decide=cfg.allow_native_decide,
                                           priority=CheckPriority(final=True, owner=self.id))
        if result.status is SearchStatus.PROVED:
            return True  # a rival (attempts vs. library search) got there first; keep its proof
        if not verdict.proved:
            self.transcript.notes.append(f"candidate from {candidate.origin} failed final verification: "
                                         f"{verdict.outcome.value} {verdict.reason}")
            result.verdict = verdict
            return False
        result.status, result.proof, result.verdict = SearchStatus.PROVED, candidate, verdict
        result.reason = f"proved by {candidate.origin}"
        self._emit(ProofFound(self.id, candidate.origin))
        return True

    async def _attempts(self, result: SearchResult) -> None:
        assert self.generator is not None and self.family is not None
        cfg = self.config
        problem = problem_for(self.target)
        if self.target.kind is TargetKind.CURSOR:
            problem = replace(problem, goal=self.target.goal)
        if self.target.repair is not None:
            problem = replace(problem, prior=prior_turn(self.target))

        def on_sketch(attempt: int, turn: int, verdict: Verdict) -> None:
            self.stats.sketches_checked += 1
            self._emit(SketchChecked(self.id, attempt, turn, verdict.outcome, self.stats.sketches_checked))

        attempts = [
            Attempt(i, self.target, problem, self.generator, self.family, self._watched, cfg.attempt,
                    session=f"{self.id}-{i}", on_sketch=on_sketch)
            for i in range(1, cfg.attempts + 1)
        ]
        self.transcript.attempts = [a.result for a in attempts]
        self.stats.attempts = len(attempts)
        tasks: dict[asyncio.Task[AttemptResult], Attempt] = {}
        for a in attempts:
            self._emit(AttemptStarted(self.id, a.index))
            tasks[asyncio.create_task(a.run(), name=f"{self.id}-attempt-{a.index}")] = a
        pending = set(tasks)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    res = task.result()
                    self._emit(AttemptEnded(self.id, res.attempt, res.reason))
                    if res.proof is not None and result.status is not SearchStatus.PROVED:
                        await self._accept(result, res.proof)
                    elif res.verdict is not None and result.verdict is None:
                        result.verdict = res.verdict
                if result.status is SearchStatus.PROVED:
                    return
        finally:
            for t in pending:
                t.cancel()  # cancelling an attempt closes its generator stream
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            for a in attempts:
                self.stats.prompt_tokens += a.result.prompt_tokens
                self.stats.completion_tokens += a.result.completion_tokens
                self.stats.model_seconds += sum(t.model_seconds for t in a.result.turns)
        self._no_proof_reason(result, [a.result for a in attempts])

    def _no_proof_reason(self, result: SearchResult, results: list[AttemptResult]) -> None:
        if results and all(r.backend_error and not r.produced_output for r in results):
            result.model_used = False
            result.status = SearchStatus.ERROR if not self.stats.automation_tried else SearchStatus.FAILED
            result.reason = (f"model unavailable ({results[0].backend_error}); automation found no proof "
                             "(automation only)")
            return
        reasons = sorted({r.reason for r in results if r.reason})
        result.reason = f"no verified proof from {len(results)} attempts ({'; '.join(reasons[:3])})"
        self._finish_without_proof(result)
