"""The batch loop: every file's targets in order, searches under one global concurrency limit.

Within a file, target i+1 is re-read from the text with the proofs of targets 0..i applied, so what is
finally written is exactly what was checked in sequence. Files run concurrently; the semaphore bounds the
searches (and re-verifications) across all of them.

A job may bring its own targets (``FileJob.targets``: `repair`'s, found from a whole-document check); they are
followed through earlier edits by their unchanged declaration text. With a SkeletonPolicy, a failed search's
verified skeleton is written (for a repair target: in place of the broken proof) and its sorries are proved as
targets right after it (batch/skeletons.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..core.events import SearchEvent, SearchResult, SearchStatus
from ..core.geometry import location, proof_start, relocate
from ..core.skeleton import Skeleton
from ..core.splice import spliced_document
from ..core.targets import find_targets
from ..core.types import Candidate, Target
from ..engine.port import EnginePort, SearchOptions
from .report import Report, TargetRecord, save_report
from .skeletons import SkeletonPolicy, expand_skeleton, targets_before
from .writeback import Snapshot


class ProgressSink(Protocol):
    def started(self, display: str, rec: TargetRecord) -> None: ...

    def event(self, display: str, rec: TargetRecord, event: SearchEvent) -> None: ...

    def finished(self, rec: TargetRecord) -> None: ...

    def grow(self, n: int) -> None:
        """``n`` more targets than announced (a written skeleton's sorries)."""
        ...


@dataclass
class FileJob:
    snapshot: Snapshot
    display: str  # the file's name in the report and the diff
    only_lines: set[int] | None = None  # 0-based lines: prove only the targets there (`--line`)
    targets: list[Target] | None = None  # the targets to prove, when not the file's sorries (`repair`'s)


@dataclass
class FileResult:
    job: FileJob
    text: str  # the file's text with every verified proof applied
    records: list[TargetRecord] = field(default_factory=list)
    problem: str = ""  # the targets could not be followed through the edits (rare; see _follow)
    sub_ordinals: Counter[str] = field(default_factory=Counter)  # skeleton sorries numbered per declaration


@dataclass(frozen=True)
class TargetId:
    declaration: str
    kind: str
    ordinal: int  # nth target of that declaration and kind, in text order


def target_ids(targets: Sequence[Target]) -> list[TargetId]:
    seen: Counter[tuple[str, str]] = Counter()
    ids = []
    for t in targets:
        kind = "repair" if t.repair is not None else t.kind.value
        k = (t.full_name, kind)
        ids.append(TargetId(t.full_name, kind, seen[k]))
        seen[k] += 1
    return ids


def _outcome(status: SearchStatus) -> str:
    return {SearchStatus.PROVED: "proved", SearchStatus.TIMEOUT: "timeout", SearchStatus.CANCELLED: "cancelled",
            SearchStatus.ERROR: "error", SearchStatus.NOTHING_TO_REPAIR: "nothing-to-repair"}.get(status, "failed")


@dataclass
class Found:
    """What one target's search left: a verified proof, or a verified skeleton (never both)."""

    proof: Candidate | None = None
    skeleton: Skeleton | None = None


class BatchRunner:
    def __init__(self, engine: EnginePort, *, concurrency: int, use_model: bool,
                 report: Report, report_path: Path | None, progress: ProgressSink,
                 previous: Report | None = None, retry_failed: bool = False,
                 deadline_s: float | None = None, skeletons: SkeletonPolicy | None = None) -> None:
        self.engine = engine
        self.sem = asyncio.Semaphore(concurrency)
        self.use_model = use_model
        self.report = report
        self.report_path = report_path
        self.progress = progress
        self.previous = previous
        self.retry_failed = retry_failed
        self.deadline_s = deadline_s
        self.skeletons = skeletons
        self._save_lock = asyncio.Lock()

    async def run(self, jobs: Sequence[FileJob]) -> list[FileResult]:
        return list(await asyncio.gather(*(self._file(job) for job in jobs)))

    async def save(self) -> None:
        if self.report_path is None:
            return
        async with self._save_lock:
            # Serialising is quick; the write is fsync'd, so keep it off the event loop.
            await asyncio.to_thread(save_report, self.report, self.report_path)

    # -- one file ----------------------------------------------------------------------------

    async def _file(self, job: FileJob) -> FileResult:
        if job.targets is not None:
            return await self._own_targets(job, job.targets)
        path, text = job.snapshot.path, job.snapshot.text
        originals = find_targets(path, text)
        ids = target_ids(originals)
        result = FileResult(job, text)
        left_in_place = 0  # targets before the current one that stay in the text (failed or not selected)
        for i, (orig, tid) in enumerate(zip(originals, ids, strict=True)):
            if job.only_lines is not None and not self._selected(orig, job.only_lines):
                left_in_place += 1
                continue
            target = self._follow(path, result.text, orig, tid, len(originals) - i + left_in_place, left_in_place)
            loc = location(orig)
            rec = TargetRecord(file=job.display, line=loc.line + 1, col=loc.col + 1, declaration=tid.declaration,
                               kind=tid.kind, ordinal=tid.ordinal, goal=orig.goal)
            if target is None:
                result.problem = "the remaining targets could not be re-read after applying earlier proofs"
                rec.outcome, rec.reason = "error", result.problem
                await self._record(job, result, rec)
                left_in_place += 1
                continue
            found = await self._prove(job, target, rec)
            if found.proof is not None:
                result.text = spliced_document(target, found.proof)
            elif found.skeleton is not None and self.skeletons is not None:
                left = await expand_skeleton(self, job, result, target, rec, found.skeleton, before=left_in_place)
                left_in_place += 1 if left is None else left
            else:
                left_in_place += 1
            await self._record(job, result, rec)
        return result

    async def _own_targets(self, job: FileJob, targets: Sequence[Target]) -> FileResult:
        """Targets the job brought (one per declaration, earliest first): each is found again in the text with the
        earlier ones' proofs applied by its declaration's text, which those edits did not touch."""
        result = FileResult(job, job.snapshot.text)
        for orig, tid in zip(targets, target_ids(targets), strict=True):
            loc = location(orig)
            rec = TargetRecord(file=job.display, line=loc.line + 1, col=loc.col + 1, declaration=tid.declaration,
                               kind=tid.kind, ordinal=tid.ordinal, goal=orig.goal)
            target = orig if result.text == orig.text else relocate(orig, result.text)
            if target is None:
                rec.outcome, rec.reason = "error", "the declaration could not be found again after earlier edits"
            else:
                target = dataclasses.replace(target, repair=orig.repair)  # relocate may re-read it without one
                found = await self._prove(job, target, rec)
                if found.proof is not None:
                    result.text = spliced_document(target, found.proof)
                elif found.skeleton is not None and self.skeletons is not None:
                    # The skeleton replaces the broken proof (the user asked for it with --skeletons).
                    await expand_skeleton(self, job, result, target, rec, found.skeleton,
                                          before=targets_before(target))
            await self._record(job, result, rec)
        return result

    @staticmethod
    def _selected(target: Target, lines: set[int]) -> bool:
        loc = location(target)
        span = target.proof_span
        return loc.line in lines or any(span.start.line <= ln <= span.end.line for ln in lines)

    def _follow(self, path: Path, text: str, orig: Target, tid: TargetId, expect: int, index: int) -> Target | None:
        """The current version of ``orig`` in ``text``. Proved targets vanish and the others keep their
        order, so it is the ``index``-th target still there; the name check guards against a finder that
        sees the edited text differently."""
        if text == orig.text:
            return orig
        current = find_targets(path, text)
        if len(current) != expect or index >= len(current):
            return None
        t = current[index]
        return t if (t.full_name, t.kind.value) == (tid.declaration, tid.kind) else None

    async def _record(self, job: FileJob, result: FileResult, rec: TargetRecord) -> None:
        result.records.append(rec)
        self.report.upsert(rec)
        self.progress.finished(rec)
        await self.save()

    # -- one target --------------------------------------------------------------------------

    async def _prove(self, job: FileJob, target: Target, rec: TargetRecord) -> Found:
        prev = self.previous.find(rec.key) if self.previous else None
        if prev is not None and prev.proved and prev.proof is not None:
            cand = Candidate(prev.proof, prev.helpers, prev.origin)
            # A stored proof is re-checked (one Lean call, no search): the file may have changed since.
            async with self.sem:
                try:
                    verdict = await self.engine.verify(target, cand)
                except Exception:  # verification failure of any kind just means "search again"
                    verdict = None
            if verdict is not None and verdict.proved:
                self._copy(prev, rec)
                rec.resumed = True
                return Found(proof=cand)
        elif prev is not None and not prev.proved and not self.retry_failed:
            self._copy(prev, rec)
            rec.resumed = True
            return Found()
        res = await self._search(job, target, rec)
        if res is None:
            return Found()
        if res.status is SearchStatus.PROVED and res.proof is not None:
            return Found(proof=res.proof)
        return Found(skeleton=res.skeleton)

    async def _with_goal(self, target: Target) -> Target:
        """Read the goal once here so the report has it; the engine then reuses it (it reads a goal only
        for targets without one)."""
        if target.goal is not None:
            return target
        goals = await self.engine.goals_at(target.path, target.text, proof_start(target))
        return dataclasses.replace(target, goal="\n\n".join(goals)) if goals else target

    @staticmethod
    def _copy(prev: TargetRecord, rec: TargetRecord) -> None:
        for name in ("goal", "outcome", "proof", "helpers", "origin", "attempts", "sketches", "tokens", "time_s",
                     "model_used", "reason", "transcript", "skeleton", "sorries_left"):
            setattr(rec, name, getattr(prev, name))

    async def _search(self, job: FileJob, target: Target, rec: TargetRecord) -> SearchResult | None:
        def on_event(event: SearchEvent) -> None:
            self.progress.event(job.display, rec, event)

        async with self.sem:
            self.progress.started(job.display, rec)
            t0 = time.monotonic()
            try:
                target = await self._with_goal(target)
                rec.goal = target.goal
                res = await self.engine.search(
                    target, SearchOptions(on_event=on_event, use_model=self.use_model, deadline_s=self.deadline_s))
            except Exception as exc:  # one broken search must not end the batch; the report says why
                rec.outcome, rec.reason, rec.time_s = "error", f"{type(exc).__name__}: {exc}", time.monotonic() - t0
                return None
        st = res.stats
        rec.outcome = _outcome(res.status)
        rec.reason = res.reason
        rec.attempts, rec.sketches = st.attempts, st.sketches_checked
        rec.tokens = {"prompt": st.prompt_tokens, "completion": st.completion_tokens}
        rec.time_s = round(st.elapsed or (time.monotonic() - t0), 3)
        rec.model_used = res.model_used
        rec.transcript = str(res.transcript_path) if res.transcript_path else None
        rec.goal = target.goal or rec.goal
        if res.status is SearchStatus.PROVED and res.proof is not None:
            rec.proof, rec.helpers, rec.origin = res.proof.proof, res.proof.helpers, res.proof.origin
            return res
        if rec.outcome == "proved":  # PROVED without a proof would be an engine bug; never trust it
            rec.outcome, rec.reason = "error", "the search reported success without a proof"
            return None
        return res
