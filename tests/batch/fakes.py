"""In-memory doubles for batch tests: a regex target finder and a scripted engine."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lean_copilot_py.core.events import AttemptStarted, SearchResult, SearchStats, SearchStatus
from lean_copilot_py.core.types import Candidate, Outcome, Pos, Span, Target, TargetKind, Verdict, offset_to_pos

_DECL = re.compile(r"^theorem\s+(\S+)", re.M)


def find_targets(path: Path, text: str) -> list[Target]:
    """Every `sorry` inside a top-level `theorem` (good enough for the batch layer's tests)."""
    ns = re.search(r"^namespace\s+(\S+)", text, re.M)
    prefix = ns.group(1) + "." if ns else ""
    starts = [m for m in _DECL.finditer(text)]
    out: list[Target] = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        nxt = re.search(r"^end\b", text[m.start():end], re.M)
        if nxt:
            end = m.start() + nxt.start()
        body = text[m.start():end].rstrip()
        end = m.start() + len(body)
        header_end = text.index(":=", m.start()) + 2
        sorries = [s for s in re.finditer(r"\bsorry\b", text[header_end:end])]
        for s in sorries:
            a, b = header_end + s.start(), header_end + s.end()
            out.append(Target(
                path=path, text=text, kind=TargetKind.SORRY, decl_name=m.group(1), full_name=prefix + m.group(1),
                decl_span=Span(offset_to_pos(text, m.start()), offset_to_pos(text, end)),
                header=text[m.start():header_end], proof_span=Span(offset_to_pos(text, a), offset_to_pos(text, b)),
                indent=0, other_sorries=len(sorries) - 1,
            ))
    return out


@dataclass
class FakeEngine:
    """``proofs``: declaration name -> proof text (missing: the search fails). ``delay`` per search."""

    proofs: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    model_used: bool = True
    on_search: Callable[[Target], None] | None = None
    searched: list[Target] = field(default_factory=list)
    verified: list[tuple[Target, Candidate]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    closed: bool = False

    async def search(self, target, options=None):
        on_event = options.on_event if options else None
        use_model = options.use_model if options else True
        self.searched.append(target)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if on_event:
                on_event(AttemptStarted("s", 1))
            if self.on_search:
                self.on_search(target)
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        stats = SearchStats(attempts=3, prompt_tokens=100, completion_tokens=50, elapsed=0.25)
        proof = self.proofs.get(target.decl_name)
        used = self.model_used and use_model
        if proof is None:
            return SearchResult("s", SearchStatus.FAILED, reason="every attempt failed", stats=stats,
                                transcript_path=Path("/tmp/t.md"), model_used=used)
        return SearchResult("s", SearchStatus.PROVED, proof=Candidate(proof, origin="automation:omega"),
                            verdict=Verdict(Outcome.PROVED), stats=stats, model_used=used)

    async def verify(self, target, candidate):
        self.verified.append((target, candidate))
        ok = self.proofs.get(target.decl_name) == candidate.proof
        return Verdict(Outcome.PROVED if ok else Outcome.FAILED)

    async def goals_at(self, path, text, pos):
        return None

    async def aclose(self):
        self.closed = True


def no_errors_checker(bad: str | None = None):
    """A whole-file check: an error when the text contains ``bad``."""
    from lean_copilot_py.core.types import LeanMessage, Severity

    calls: list[str] = []

    async def check(path: Path, text: str):
        calls.append(text)
        if bad and bad in text:
            return [LeanMessage(Severity.ERROR, Span(Pos(3, 0), Pos(3, 5)), "unknown identifier 'oops'")]
        return []

    check.calls = calls  # type: ignore[attr-defined]
    return check
