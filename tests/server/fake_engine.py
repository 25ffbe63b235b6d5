"""A scripted stand-in for lean_copilot_py.engine.Engine, driven by a JSON scenario in the environment.

LCP_FAKE_SCENARIO: JSON object, keys (all optional):
  status: "proved" | "failed" | "error" | "cancelled" | "raise"     (default "proved")
  proof, helpers, origin, reason, model_used
  events: number of SketchChecked events to emit (spread over `delay`)
  delay: seconds the search takes;  release_file: the search waits until this file exists
  verify: "proved" | "failed"                                         (engine.verify's answer)
  suggestions: list of tactics;  suggest_delay: seconds
  child: true -> start a sleeping child process when the engine is created (closed by aclose)
  transcript_dir: write a transcript per search there
LCP_FAKE_LOG: file that gets one JSON line per call, so tests can see what the server asked for.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lean_copilot_py.core.events import (
    AttemptStarted,
    SearchResult,
    SearchStatus,
    SketchChecked,
)
from lean_copilot_py.core.types import Candidate, Outcome, Pos, Target, Verdict
from lean_copilot_py.engine.port import SearchOptions
from lean_copilot_py.settings import Settings


class FakeEngine:
    def __init__(self, settings: Settings, scenario: dict[str, Any], log_path: str | None) -> None:
        self.settings = settings
        self.s = scenario
        self._log_path = log_path
        self._n = 0
        self.child: subprocess.Popen[bytes] | None = None
        if scenario.get("child"):
            self.child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        self.log("init", attempts=settings.search.attempts, child=self.child.pid if self.child else None)

    def log(self, call: str, **data: Any) -> None:
        if self._log_path:
            with open(self._log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"call": call, "t": time.time(), **data}) + "\n")

    async def search(self, target: Target, options: SearchOptions | None = None) -> SearchResult:
        on_event = options.on_event if options else None
        self._n += 1
        sid = f"fake-{self._n}"
        self.log("search", kind=target.kind.value, decl=target.decl_name, key=target.key())
        try:
            events = int(self.s.get("events", 2))
            delay = float(self.s.get("delay", 0.0))
            for i in range(events):
                if on_event:
                    on_event(AttemptStarted(sid, i + 1))
                    on_event(SketchChecked(sid, i + 1, 1, Outcome.INCOMPLETE, i + 1))
                await asyncio.sleep(delay / max(events, 1))
            if events == 0 and delay:
                await asyncio.sleep(delay)
            release = self.s.get("release_file")
            # A file is the simplest handshake with a test in another process.
            while release and not Path(release).exists():  # noqa: ASYNC110, ASYNC240
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            self.log("search_cancelled", decl=target.decl_name)
            raise
        transcript = None
        if self.s.get("transcript_dir"):
            transcript = Path(self.s["transcript_dir"]) / f"{sid}.md"
            transcript.write_text(f"# transcript {sid}\n", encoding="utf-8")
        status = self.s.get("status", "proved")
        self.log("search_done", decl=target.decl_name, status=status)
        if status == "raise":
            raise RuntimeError("Lean server crashed (exit code -9)\nstack...")
        if status == "proved":
            s = self.s
            proof = Candidate(s.get("proof", "by\n  simp"), s.get("helpers", ""), s.get("origin", "fake"))
            return SearchResult(sid, SearchStatus.PROVED, proof=proof, transcript_path=transcript)
        return SearchResult(
            sid,
            SearchStatus(status),
            reason=self.s.get("reason", "no attempt succeeded"),
            transcript_path=transcript,
            model_used=bool(self.s.get("model_used", True)),
        )

    async def verify(self, target: Target, candidate: Candidate) -> Verdict:
        self.log("verify", decl=target.decl_name, line=target.proof_span.start.line, same=target.text is not None)
        ok = self.s.get("verify", "proved") == "proved"
        return Verdict(Outcome.PROVED if ok else Outcome.FAILED, reason="" if ok else "type mismatch")

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        return None

    async def suggest_tactics(self, path: Path, text: str, pos: Pos, *, budget_s: float) -> list[str]:
        self.log("suggest", line=pos.line, col=pos.col, budget_s=budget_s)
        try:
            await asyncio.sleep(float(self.s.get("suggest_delay", 0.0)))
        except asyncio.CancelledError:
            self.log("suggest_cancelled", line=pos.line)
            raise
        return list(self.s.get("suggestions", ["simp", "omega"]))

    async def aclose(self) -> None:
        self.log("aclose")
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            await asyncio.to_thread(self.child.wait)


async def factory(settings: Settings) -> FakeEngine:
    scenario = json.loads(os.environ.get("LCP_FAKE_SCENARIO") or "{}")
    return FakeEngine(settings, scenario, os.environ.get("LCP_FAKE_LOG"))
