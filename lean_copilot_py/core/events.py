"""What a running search tells the outside world (server progress, CLI progress bar), and its result."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .skeleton import Skeleton
from .types import Candidate, Outcome, Verdict


@dataclass(frozen=True)
class SearchEvent:
    search_id: str

    def summary(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class AutomationTried(SearchEvent):
    tactic: str
    outcome: Outcome

    def summary(self) -> str:
        return f"automation `{self.tactic}`: {self.outcome.value}"


@dataclass(frozen=True)
class AttemptStarted(SearchEvent):
    attempt: int

    def summary(self) -> str:
        return f"attempt {self.attempt} started"


@dataclass(frozen=True)
class SketchChecked(SearchEvent):
    attempt: int
    turn: int
    outcome: Outcome
    sketches_checked: int  # across the whole search so far

    def summary(self) -> str:
        return f"attempt {self.attempt}, sketch {self.turn}: {self.outcome.value}"


@dataclass(frozen=True)
class AttemptEnded(SearchEvent):
    attempt: int
    reason: str

    def summary(self) -> str:
        return f"attempt {self.attempt} ended: {self.reason}"


@dataclass(frozen=True)
class ProofFound(SearchEvent):
    origin: str

    def summary(self) -> str:
        return f"proof found ({self.origin})"


@dataclass(frozen=True)
class GaveUp(SearchEvent):
    reason: str

    def summary(self) -> str:
        return f"no proof: {self.reason}"


EventSink = Callable[[SearchEvent], None]


class SearchStatus(enum.StrEnum):
    PROVED = "proved"
    FAILED = "failed"  # every attempt ended without a verified proof
    TIMEOUT = "timeout"  # the deadline passed
    CANCELLED = "cancelled"
    ERROR = "error"  # Lean or the model could not be used at all (reason says why)
    # A repair target whose proof Lean accepts as written (the file's errors were stale): nothing is replaced.
    NOTHING_TO_REPAIR = "nothing-to-repair"


@dataclass
class SearchStats:
    attempts: int = 0
    sketches_checked: int = 0
    automation_tried: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    lean_seconds: float = 0.0
    model_seconds: float = 0.0
    elapsed: float = 0.0


@dataclass
class SearchResult:
    search_id: str
    status: SearchStatus
    proof: Candidate | None = None  # set only when status is PROVED: Lean-verified and audited
    verdict: Verdict | None = None  # the final check of `proof` (or the best failure)
    reason: str = ""
    transcript_path: Path | None = None
    stats: SearchStats = field(default_factory=SearchStats)
    from_cache: bool = False
    model_used: bool = True  # False when only automation ran (no model configured or reachable)
    # A search that ends without a proof may keep the best verified skeleton (Lean accepted it but for its
    # sorries; statement pinned, screened, audited but for sorryAx): offered apart, never as a proof.
    skeleton: Skeleton | None = None
