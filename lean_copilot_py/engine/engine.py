"""The composition root: settings in, checkers and a model out, searches run; the EnginePort that batch mode
uses in process and the language server on a loop of its own (threaded.py). The only module that wires lean/
and models/ to the core (and imports them lazily, so a missing optional dependency costs only the feature
that needs it)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

from ..core.attempt import AttemptConfig
from ..core.automation import AutomationResult, next_tactic_ok, run_automation
from ..core.cache import ProofCache, cache_key
from ..core.events import SearchResult, SearchStats, SearchStatus
from ..core.geometry import proof_start
from ..core.protocols import Checker, CheckPriority, Generator, PromptFamily
from ..core.pruning import Retention, TranscriptPruner
from ..core.search import Search, SearchConfig
from ..core.sharing import SharedChecks
from ..core.targets import cursor_target
from ..core.transcript import Transcript, write_transcript
from ..core.types import Candidate, Pos, Target, TargetKind, Verdict
from ..core.verification import final_verification
from ..project import discover, find_lake_root
from ..settings import Settings
from .port import SearchOptions

log = logging.getLogger(__name__)
CheckerFactory = Callable[[Path], Checker]
# A model that could not be built (its server down at the first search, a tokenizer it could not reach) is tried
# again by a search this long after: the session does not stay automation-only until a restart.
MODEL_RETRY_S = 30.0


def _default_checker_factory(settings: Settings) -> CheckerFactory:
    """A local `lake serve` per Lake root, or a Kimina Lean Server when `kimina.enabled`."""
    if settings.kimina.enabled:
        from ..lean.kimina import kimina_checker_factory

        return kimina_checker_factory(settings)

    def build(root: Path) -> Checker:
        from ..lean.checker import LeanChecker

        return LeanChecker(root, settings.lean)

    return build


def _root_of(path: Path) -> Path:
    return find_lake_root(path) or path.expanduser().resolve().parent


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        checker_factory: CheckerFactory | None = None,
        generator: Generator | Literal["auto"] | None = "auto",
        family: PromptFamily | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._factory = checker_factory or _default_checker_factory(settings)
        self._checkers: dict[Path, Checker] = {}
        self._checker_lock = asyncio.Lock()
        self._generator: Generator | None = None if generator == "auto" else generator
        self._generator_built = generator != "auto"
        self._no_model_reason = "" if generator is not None else "no model given"
        self._family = family
        self._model_lock = asyncio.Lock()
        self._clock = clock
        self._retry_at: float | None = None  # when a failed model build may be tried again
        self.cache = ProofCache(settings.cache_dir if settings.search.cache else None)
        self._background: set[asyncio.Future[object]] = set()
        self._closed = False
        paths = settings.paths
        self._pruner = TranscriptPruner(
            settings.transcript_dir, Retention.from_limits(paths.transcript_max_mb, paths.transcript_max_age_days)
        )

    # -- children ---------------------------------------------------------------------------------------

    async def checker_for(self, path: Path) -> Checker:
        root = await asyncio.to_thread(_root_of, Path(path))  # a few stat() calls, off the loop
        async with self._checker_lock:
            checker = self._checkers.get(root)
            if checker is None:
                checker = self._factory(root)
                if self.settings.lean.share_checks:  # one Lean check per distinct document, across searches
                    checker = SharedChecks(checker, default_timeout=self.settings.lean.check_timeout_s)
                self._checkers[root] = checker
            return checker

    async def model(self) -> tuple[Generator | None, PromptFamily | None, str]:
        """The generator and family, built on first use (and again ``MODEL_RETRY_S`` after a build that failed);
        (None, None, why) when there is no model."""
        async with self._model_lock:
            retry = self._retry_at is not None and self._clock() >= self._retry_at
            if not self._generator_built or retry:
                # Marked built only once the build finished: one cancelled midway is started again by the next call.
                self._generator, self._no_model_reason, failed = await self._build_generator()
                self._generator_built = True
                self._retry_at = self._clock() + MODEL_RETRY_S if failed else None
                if failed:
                    log.warning("%s; trying again in %g s", self._no_model_reason, MODEL_RETRY_S)
            if self._generator is not None and self._family is None:
                try:
                    from ..models.families import build_family

                    self._family = build_family(self.settings.model.family)
                except (ImportError, ValueError) as exc:
                    return None, None, f"prompt family unavailable: {exc}"
            return self._generator, self._family, self._no_model_reason

    async def _build_generator(self) -> tuple[Generator | None, str, bool]:
        """The generator or why there is none, and whether building it failed (worth trying again later)."""
        if self.settings.model.backend == "none":
            return None, "no model configured (model.backend = \"none\")", False
        try:
            from ..models.factory import build_generator
        except ImportError as exc:
            return None, f"model backends unavailable: {exc}", False
        try:
            if inspect.iscoroutinefunction(build_generator):
                gen = await build_generator(self.settings)
            else:  # building may load a tokenizer from disk: keep it off the event loop
                gen = await asyncio.to_thread(build_generator, self.settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an unreachable or misconfigured model must not stop the automation
            return None, f"model unavailable: {type(exc).__name__}: {exc}", True
        return gen, "" if gen is not None else "no model configured", False

    # -- operations -------------------------------------------------------------------------------------

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        checker = await self.checker_for(path)
        try:
            return await checker.goals_at(path, text, pos)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("goals_at failed: %s", exc)
            return None

    async def check_document(self, path: Path, text: str) -> Verdict:
        """The whole file through the checker of its project (batch mode checks an edited file before saving
        it): no second Lean server is started."""
        checker = await self.checker_for(path)
        return await checker.check_document(path, text)

    async def verify(self, target: Target, candidate: Candidate) -> Verdict:
        """Strict screen + check + axiom audit. PROVED only when Lean proved it with allowed axioms."""
        checker = await self.checker_for(target.path)
        lean = self.settings.lean
        return await final_verification(
            lambda c, p=None: checker.check(target, c, timeout=lean.check_timeout_s, priority=p), candidate,
            allowed_axioms=tuple(lean.allowed_axioms), allow_native_decide=lean.allow_native_decide,
            priority=CheckPriority(final=True, owner="verify"),  # a proof to re-verify is one check from done
        )

    async def _with_goal(self, target: Target) -> Target:
        if target.goal is not None:
            return target
        goals = await self.goals_at(target.path, target.text, proof_start(target))
        return replace(target, goal="\n\n".join(goals)) if goals else target

    async def search(self, target: Target, options: SearchOptions | None = None) -> SearchResult:
        options = options or SearchOptions()
        # The model side (tokenizer, maybe a vLLM start) builds while Lean reads the goal. A whole declaration's
        # prompt needs no goal, so its search does not wait for the read either — on a cold server that is the
        # start and the imports, seconds with Mathlib, the model's first turn is written meanwhile; the goal, which
        # keys the cache and the transcript, is looked up in the cache when it lands (a hit cancels the search).
        model = asyncio.ensure_future(self.model()) if options.use_model else None
        early = target.kind is TargetKind.DECLARATION and target.goal is None
        goal = asyncio.ensure_future(self._with_goal(target)) if early else None
        try:
            if goal is None:
                target = await self._with_goal(target)
            project = await asyncio.to_thread(discover, target.path)
            toolchain = project.toolchain if project else None
            keys = [cache_key(target, toolchain)]  # an early search's first key is its statement's
            # A repair checks the user's own proof first (a proof Lean accepts is left alone): no cached proof
            # replaces it before that. What it finds is stored like any proof.
            if self.settings.search.cache and target.repair is None:
                hit = await self.cache.lookup(keys[0], lambda c: self.verify(target, c))
                if hit is not None:
                    self._in_background(goal)
                    return await self._cached_result(target, *hit)
            gen, fam, reason = (None, None, "model not requested (automation only)")
            if model is not None:
                gen, fam, reason = await model
        except BaseException:
            self._in_background(goal)
            raise
        finally:
            # A cache hit or a cancellation: the build finishes in the background for the next search.
            self._in_background(model)
        checker = await self.checker_for(target.path)
        cfg = SearchConfig.from_settings(self.settings, attempts=options.attempts, deadline_s=options.deadline_s)
        search = Search(target, checker, cfg, generator=gen, family=fam, on_event=options.on_event,
                        no_model_reason=reason)
        run = asyncio.ensure_future(search.run())
        try:
            if goal is not None:
                hit = await self._goal_beside(goal, run, search, toolchain, keys)
                if hit is not None:
                    return hit
            result = await run
            self._transcript_written(result.transcript_path)
        finally:
            self._in_background(goal)
            if not run.done():
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)
        if result.status is SearchStatus.PROVED and result.proof is not None and self.settings.search.cache:
            for key in keys:
                await self.cache.put(key, result.proof)
        return result

    async def _goal_beside(self, goal: asyncio.Future[Target], run: asyncio.Future[SearchResult], search: Search,
                           toolchain: str | None, keys: list[str]) -> SearchResult | None:
        """The goal read that an early search left running: once it lands, the transcript shows the goal and
        the cache is asked under it; a hit there is returned and the search cancelled."""
        await asyncio.wait({goal, run}, return_when=asyncio.FIRST_COMPLETED)
        if not goal.done():
            self._in_background(goal)
            return None
        target = goal.result()
        # The search may have checked a repair's original proof meanwhile: its verdict stays in the transcript.
        search.transcript.target = replace(target, repair=search.target.repair)
        if target.goal is None:
            return None
        keys.append(cache_key(target, toolchain))
        if not self.settings.search.cache or target.repair is not None:
            return None
        hit = await self.cache.lookup(keys[-1], lambda c: self.verify(target, c))
        if hit is None or (run.done() and not run.cancelled() and run.result().status is SearchStatus.PROVED):
            return None
        search.cancel()
        await asyncio.gather(run, return_exceptions=True)
        return await self._cached_result(target, *hit)

    def _in_background(self, task: asyncio.Future[object] | None) -> None:
        if task is not None and not task.done():
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _cached_result(self, target: Target, candidate: Candidate, verdict: Verdict) -> SearchResult:
        result = SearchResult(f"cache-{id(candidate):x}", SearchStatus.PROVED, proof=candidate, verdict=verdict,
                              reason="proved by a cached proof (re-verified by Lean)", stats=SearchStats(),
                              from_cache=True, model_used=False)
        tr = Transcript(result.search_id, target, notes=["cached proof, re-verified before use"])
        result.transcript_path = await write_transcript(self.settings.transcript_dir, tr, result)
        self._transcript_written(result.transcript_path)
        return result

    def _transcript_written(self, path: Path | None) -> None:
        """Prune the transcript folder in the background when due (at most once a minute)."""
        if path is None or self._closed or not self._pruner.due():
            return
        task = asyncio.ensure_future(self._pruner.after_write(path))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def suggest_tactics(self, path: Path, text: str, pos: Pos, *, budget_s: float) -> list[str]:
        """Verified next tactics at a cursor: each leaves no error but unsolved goals (or proves the goal)."""
        target = cursor_target(path, text, pos)
        if target is None:
            return []
        checker = await self.checker_for(path)
        limit = self.settings.inline.max_suggestions
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_s
        timeout = min(self.settings.lean.check_timeout_s, budget_s)
        collected = AutomationResult()
        try:
            async with asyncio.timeout_at(deadline):
                await run_automation(
                    target, self.settings.search.automation,
                    lambda c: checker.check(target, c, timeout=timeout),
                    slots=self.settings.lean.slots, accept=next_tactic_ok, first_wins=False,
                    allow_native_decide=self.settings.lean.allow_native_decide, into=collected,
                )
        except TimeoutError:
            pass  # keep whatever was verified in time
        out = list(dict.fromkeys(c.proof for _, c in collected.accepted))
        if len(out) < limit and self.settings.inline.use_model and loop.time() < deadline - 0.5:
            out += await self._model_suggestion(target, checker, deadline - loop.time(), exclude=out)
        return out[:limit]

    async def _model_suggestion(self, target: Target, checker: Checker, budget: float, exclude: list[str]) -> list[str]:
        gen, fam, _ = await self.model()
        if gen is None or fam is None:
            return []
        target = await self._with_goal(target)
        s = self.settings
        cfg = SearchConfig(
            attempt=AttemptConfig(context_tokens=s.search.context_tokens, max_tokens=min(1024, s.search.max_tokens),
                                  max_turns=1, temperature=s.search.temperature, top_p=s.search.top_p,
                                  allow_native_decide=s.lean.allow_native_decide),
            attempts=1, deadline_s=max(0.1, budget), automation=(), slots=s.lean.slots,
            check_timeout_s=min(s.lean.check_timeout_s, budget), allowed_axioms=tuple(s.lean.allowed_axioms),
            allow_native_decide=s.lean.allow_native_decide, transcript_dir=None, skeletons=False,
        )
        result = await Search(target, checker, cfg, generator=gen, family=fam).run()
        if result.status is SearchStatus.PROVED and result.proof is not None and not result.proof.helpers:
            if result.proof.proof not in exclude:
                return [result.proof.proof]
        return []

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._background):
            task.cancel()
        children: list = [*self._checkers.values()]
        if self._generator is not None:
            children.append(self._generator)
        self._checkers.clear()
        for child in children:
            try:
                await child.aclose()
            except Exception as exc:  # closing one child must not leak the others
                log.warning("closing %s failed: %s", type(child).__name__, exc)
