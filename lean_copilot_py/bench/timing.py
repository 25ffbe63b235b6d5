"""Timestamps at the two seams (Generator.stream, Checker.check) and interval arithmetic over them.

Model time is measured from our side of the seam (the stream opened until it closed), Lean time likewise
(a check called until its verdict returned, slot waits included): what is left of the wall clock is our
own work (parsing, screening, pinning, rendering feedback, scheduling, transcripts).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.check_text import check_form
from ..core.protocols import Checker, CheckPriority, Generator
from ..core.types import Candidate, GenerationChunk, GenerationRequest, Pos, Target, Verdict


@dataclass(frozen=True)
class Interval:
    kind: str  # "model" | "lean" | "lean-start" | "lean-stop" | "goal"
    start: float
    end: float
    key: str = ""  # the attempt's session for model calls, the candidate's origin for checks
    tokens: int = 0
    outcome: str = ""
    doc: str = ""  # checks: the document's key (core/check_text.py), to count checks Lean saw twice

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Recorder:
    intervals: list[Interval] = field(default_factory=list)

    def add(self, kind: str, start: float, end: float | None = None, **kw: Any) -> None:
        self.intervals.append(Interval(kind, start, time.monotonic() if end is None else end, **kw))

    def of(self, *kinds: str) -> list[Interval]:
        return [i for i in self.intervals if i.kind in kinds]


def union(intervals: Iterable[Interval], lo: float = float("-inf"), hi: float = float("inf")) -> float:
    """Seconds covered by at least one interval, clipped to [lo, hi]."""
    spans = sorted((max(i.start, lo), min(i.end, hi)) for i in intervals)
    total, cur_s, cur_e = 0.0, None, None
    for s, e in spans:
        if e <= s:
            continue
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


class TimedGenerator:
    """A Generator that records when each stream was open and how many tokens it carried."""

    def __init__(self, inner: Generator, rec: Recorder) -> None:
        self.inner = inner
        self.tokenizer = inner.tokenizer
        self.rec = rec

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        start, tokens = time.monotonic(), 0
        agen = self.inner.stream(request)
        try:
            async for chunk in agen:
                tokens += len(chunk.token_ids)
                yield chunk
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                await aclose()
            self.rec.add("model", start, key=request.session, tokens=tokens)

    async def aclose(self) -> None:
        await self.inner.aclose()


class TimedChecker:
    """A Checker that records every check and goal query (other attributes pass through). ``kind`` names
    its intervals: "lean" below core/sharing.py (what Lean was asked), "wait" above it (what a caller waited)."""

    def __init__(self, inner: Checker, rec: Recorder, *, kind: str = "lean") -> None:
        self.inner = inner
        self.rec = rec
        self.kind = kind

    async def check(
        self,
        target: Target,
        candidate: Candidate,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
        priority: CheckPriority | None = None,
    ) -> Verdict:
        start = time.monotonic()
        outcome = "cancelled"
        try:
            verdict = await self.inner.check(target, candidate, timeout=timeout, priority=priority)
            outcome = verdict.outcome.value
            return verdict
        finally:
            end = time.monotonic()
            doc = f"{getattr(self.inner, 'environment_epoch', 0)}:{check_form(target, candidate).key}"
            self.rec.add(self.kind, start, end, key=candidate.origin, outcome=outcome, doc=doc)

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        start = time.monotonic()
        try:
            return await self.inner.goals_at(path, text, pos)
        finally:
            if self.kind == "lean":  # the one below the sharing layer records it; the one above would repeat it
                self.rec.add("goal", start)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
