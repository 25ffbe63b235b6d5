"""The engine's one port: what the language server and batch mode ask of it, declared once.

``engine.Engine`` implements it in process, ``threaded.ThreadedEngine`` forwards it to an Engine on a loop of
its own, ``lean_copilot_py.testing.fake_engine.FakeEngine`` is its scripted double. Callers hold an
``EnginePort``, never one of those classes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..core.events import EventSink, SearchResult
from ..core.types import Candidate, Pos, Target, Verdict
from ..settings import Settings


@dataclass(frozen=True)
class SearchOptions:
    """How one search runs, beyond what the settings say."""

    on_event: EventSink | None = None  # progress events (attempts, sketches, the proof); called on the caller's loop
    use_model: bool = True  # False: the automation portfolio only
    deadline_s: float | None = None  # None: search.deadline_s
    attempts: int | None = None  # None: search.attempts


class EnginePort(Protocol):
    async def search(self, target: Target, options: SearchOptions | None = None) -> SearchResult:
        """A verified proof of ``target`` or the reason there is none. Cancelling the call ends the search (its
        model streams and Lean checks with it)."""
        ...

    async def verify(self, target: Target, candidate: Candidate) -> Verdict:
        """The final verification of a proof found earlier (a stored one, or one to apply to an edited text)."""
        ...

    async def suggest_tactics(self, path: Path, text: str, pos: Pos, *, budget_s: float) -> list[str]:
        """Verified next tactics at a cursor inside a tactic proof, within ``budget_s``."""
        ...

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        """Lean's goals at ``pos`` (None when there is no proof state there or Lean could not say)."""
        ...

    async def check_document(self, path: Path, text: str) -> Verdict:
        """A whole document elaborated as it would be saved (message positions are the document's own)."""
        ...

    async def aclose(self) -> None:
        """Close Lean and the model server it started. Safe to call twice."""
        ...


EngineFactory = Callable[[Settings], Awaitable[EnginePort]]
