"""FakeEngine: the EnginePort's scripted double (engine/port.py), for the language server and batch mode.

In process, build one with the fields below (``FakeEngine(proofs={"a": "simp"}, delay=0.05)``) and hand it to
``batch.command.run_prove`` or to a server's engine factory. For a `lean-copilot serve` subprocess,
``factory`` builds it from the environment: ``LCP_FAKE_SCENARIO`` holds a JSON object of the scenario fields,
``LCP_FAKE_LOG`` a file that gets one JSON line per call ({"call": ..., "t": ..., ...}), so a test in another
process sees what the server asked for.

What a search answers: with ``proofs`` set, the proof of the target's declaration, and a failure for a
declaration not listed; without, ``status`` (``proved`` with ``proof``/``helpers``/``origin``, or ``failed``,
``error``, ``cancelled``, ``timeout``; ``raise`` raises). ``verify`` accepts only the listed proof when
``proofs`` is set, else answers ``verifies``. A search that ends without a proof carries ``skeleton`` (its proof
text, with ``skeleton_goals``) as its verified skeleton when set. A repair target (``Target.repair``) with
``accepts_as_is``: Lean accepts the user's proof, so the result is NOTHING_TO_REPAIR, as the engine says it.

``check_document`` answers an error on every occurrence of each key of ``document_errors`` (the value is the
message), after ``check_delay`` seconds; ``bad_document`` is the older single-error form.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.events import AttemptStarted, SearchResult, SearchStats, SearchStatus, SketchChecked
from ..core.skeleton import Skeleton, sorry_count
from ..core.types import Candidate, LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Target, Verdict, offset_to_pos
from ..engine.port import SearchOptions
from ..settings import Settings

SCENARIO_ENV = "LCP_FAKE_SCENARIO"
LOG_ENV = "LCP_FAKE_LOG"
STATS = SearchStats(attempts=3, prompt_tokens=100, completion_tokens=50, elapsed=0.25)  # of every search


@dataclass
class FakeEngine:
    # -- the scenario (JSON-able: LCP_FAKE_SCENARIO takes these keys) --
    proofs: dict[str, str] | None = None  # declaration name -> its proof
    status: str = "proved"
    proof: str = "by\n  simp"
    helpers: str = ""  # the helper declarations of every proof found
    origin: str = "fake"
    reason: str = "every attempt failed"
    model_used: bool = True
    events: int = 1  # progress events per search (an AttemptStarted and a SketchChecked each), over ``delay``
    delay: float = 0.0  # seconds a search takes
    release_file: str | None = None  # a search then waits until this file exists (a handshake across processes)
    verifies: bool = True  # what verify answers (with ``proofs``: for the listed proof only)
    goals: list[str] | None = None  # what goals_at answers
    suggestions: list[str] = field(default_factory=lambda: ["simp", "omega"])
    suggest_delay: float = 0.0
    child: bool = False  # start a sleeping child process (closed by aclose), as the real engine starts Lean
    transcript_dir: str | None = None  # write a transcript per search there
    bad_document: str | None = None  # check_document: an error wherever the text holds this
    documents_checkable: bool = True  # False: check_document answers CRASHED (the check cannot run)
    document_errors: dict[str, str] | None = None  # check_document: needle -> error message at each occurrence
    check_delay: float = 0.0  # seconds a check_document takes
    skeleton: str | None = None  # a failed search's verified skeleton (its proof text)
    skeleton_goals: list[str] = field(default_factory=list)
    accepts_as_is: bool = False  # a repair search finds the user's proof accepted
    document_checker: Callable[[Path, str], Awaitable[Verdict]] | None = None  # in process: the whole-file check
    # -- in process only --
    settings: Settings | None = None
    log_path: str | None = None
    on_search: Callable[[Target], None] | None = None  # called as a search starts (a test edits a file then)
    # -- what it was asked --
    searched: list[Target] = field(default_factory=list)
    verified: list[tuple[Target, Candidate]] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    closed: bool = False

    def __post_init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        if self.child:
            self._process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        attempts = self.settings.search.attempts if self.settings else None
        self.log("init", attempts=attempts, child=self._process.pid if self._process else None)

    @classmethod
    def from_scenario(cls, scenario: dict[str, Any], settings: Settings | None = None,
                      log_path: str | None = None) -> FakeEngine:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(scenario) - known
        if unknown:  # a misspelt key would silently test the default
            raise ValueError(f"unknown fake engine scenario keys: {sorted(unknown)}")
        return cls(**scenario, settings=settings, log_path=log_path)

    def log(self, call: str, **data: Any) -> None:
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"call": call, "t": time.time(), **data}) + "\n")

    # -- EnginePort ---------------------------------------------------------------------------------------

    async def search(self, target: Target, options: SearchOptions | None = None) -> SearchResult:
        options = options or SearchOptions()
        self.searched.append(target)
        sid = f"fake-{len(self.searched)}"
        repair = target.repair.original if target.repair is not None else None
        errors = [m.text for m in target.repair.errors] if target.repair is not None else []
        self.log("search", kind=target.kind.value, decl=target.decl_name, key=target.key(), repair=repair,
                 repair_errors=errors)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.on_search is not None:
                self.on_search(target)
            await self._progress(sid, options)
        except asyncio.CancelledError:
            self.log("search_cancelled", decl=target.decl_name)
            raise
        finally:
            self.in_flight -= 1
        transcript = None
        if self.transcript_dir:
            transcript = Path(self.transcript_dir) / f"{sid}.md"
            transcript.write_text(f"# transcript {sid}\n", encoding="utf-8")
        status, proof = self.status, self.proof
        if self.proofs is not None:
            listed = self.proofs.get(target.decl_name)
            status, proof = ("proved", listed) if listed is not None else ("failed", "")
        self.log("search_done", decl=target.decl_name, status=status)
        if status == "raise":
            raise RuntimeError("Lean server crashed (exit code -9)\nstack...")
        used = self.model_used and options.use_model
        if repair is not None and self.accepts_as_is:
            return SearchResult(sid, SearchStatus.NOTHING_TO_REPAIR, verdict=Verdict(Outcome.PROVED), stats=STATS,
                                transcript_path=transcript, model_used=used,
                                reason="Lean accepts this proof as it is: nothing to repair")
        if status == "proved":
            return SearchResult(sid, SearchStatus.PROVED, proof=Candidate(proof, self.helpers, self.origin),
                                verdict=Verdict(Outcome.PROVED), stats=STATS, transcript_path=transcript,
                                model_used=used)
        return SearchResult(sid, SearchStatus(status), reason=self.reason, stats=STATS, transcript_path=transcript,
                            model_used=used, skeleton=self._skeleton(status))

    def _skeleton(self, status: str) -> Skeleton | None:
        if self.skeleton is None or status not in ("failed", "timeout"):
            return None
        candidate = Candidate(self.skeleton, "", "fake:skeleton")
        sorries = tuple(SorryGoal(Span(Pos(0, 0), Pos(0, 5)), g) for g in self.skeleton_goals)
        warning = LeanMessage(Severity.WARNING, Span(Pos(0, 0), Pos(0, 5)), "declaration uses 'sorry'")
        verdict = Verdict(Outcome.INCOMPLETE, messages=(warning,), sorries=sorries, axioms=("sorryAx",))
        return Skeleton(candidate, verdict, sorry_count(candidate), tuple(self.skeleton_goals))

    async def _progress(self, sid: str, options: SearchOptions) -> None:
        for i in range(self.events):
            if options.on_event is not None:
                options.on_event(AttemptStarted(sid, i + 1))
                options.on_event(SketchChecked(sid, i + 1, 1, Outcome.INCOMPLETE, i + 1))
            await asyncio.sleep(self.delay / max(self.events, 1))
        if self.events == 0 and self.delay:
            await asyncio.sleep(self.delay)
        # A file is the simplest handshake with a test in another process.
        while self.release_file and not Path(self.release_file).exists():  # noqa: ASYNC110, ASYNC240
            await asyncio.sleep(0.02)

    async def verify(self, target: Target, candidate: Candidate) -> Verdict:
        self.verified.append((target, candidate))
        self.log("verify", decl=target.decl_name, line=target.proof_span.start.line)
        ok = self.verifies
        if self.proofs is not None:
            ok = ok and self.proofs.get(target.decl_name) == candidate.proof
        return Verdict(Outcome.PROVED if ok else Outcome.FAILED, reason="" if ok else "type mismatch")

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        return self.goals

    async def suggest_tactics(self, path: Path, text: str, pos: Pos, *, budget_s: float) -> list[str]:
        self.log("suggest", line=pos.line, col=pos.col, budget_s=budget_s)
        try:
            await asyncio.sleep(self.suggest_delay)
        except asyncio.CancelledError:
            self.log("suggest_cancelled", line=pos.line)
            raise
        return list(self.suggestions)

    async def check_document(self, path: Path, text: str) -> Verdict:
        self.documents.append(text)
        self.log("check_document", chars=len(text))
        try:
            await asyncio.sleep(self.check_delay)
        except asyncio.CancelledError:
            self.log("check_cancelled", chars=len(text))
            raise
        if self.document_checker is not None:  # e.g. a real LeanChecker's: the proof scripted, the file's check real
            return await self.document_checker(path, text)
        if not self.documents_checkable:
            return Verdict(Outcome.CRASHED, reason="this checker cannot check a whole document")
        if self.document_errors:
            found = tuple(_errors_at(text, self.document_errors))
            if found:
                return Verdict(Outcome.FAILED, messages=found, reason=found[0].text)
        if self.bad_document and self.bad_document in text:
            error = LeanMessage(Severity.ERROR, Span(Pos(3, 0), Pos(3, 5)), "unknown identifier 'oops'")
            return Verdict(Outcome.FAILED, messages=(error,), reason="unknown identifier 'oops'")
        return Verdict(Outcome.PROVED)

    async def aclose(self) -> None:
        self.closed = True
        self.log("aclose")
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            await asyncio.to_thread(self._process.wait)


def _errors_at(text: str, errors: dict[str, str]) -> list[LeanMessage]:
    """An error on each occurrence of each needle, spanning it (document positions, code points)."""
    found: list[LeanMessage] = []
    for needle, message in errors.items():
        start = text.find(needle)
        while needle and start >= 0:
            a, b = offset_to_pos(text, start), offset_to_pos(text, start + len(needle))
            found.append(LeanMessage(Severity.ERROR, Span(a, b), message))
            start = text.find(needle, start + len(needle))
    return sorted(found, key=lambda m: m.span.start)


async def factory(settings: Settings) -> FakeEngine:
    """An EngineFactory for `lean-copilot serve` (server.main.run_server): the scenario of the environment."""
    scenario = json.loads(os.environ.get(SCENARIO_ENV) or "{}")
    return FakeEngine.from_scenario(scenario, settings, os.environ.get(LOG_ENV))
