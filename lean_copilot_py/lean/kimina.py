"""KiminaChecker: the core's Checker on a Kimina Lean Server (project-numina/kimina-lean-server).

Wire facts (its app/routers/check.py, app/schemas.py, app/split.py, app/auth.py):
- ``POST <url>/api/check`` with ``{"snippet": {"id", "code"}, "timeout": int seconds, "debug", "reuse"}``;
  ``Authorization: Bearer <key>`` when the server has an API key (401 otherwise).
- Answer ``{"id", "time", "error"?, "response"?}``; ``response`` is the Lean REPL's JSON
  (``messages``: ``{"severity", "pos": {"line" 1-based, "column" 0-based}, "endPos", "data"}``,
  ``sorries``: ``{"pos", "endPos", "goal", "proofState"}``; empty lists omitted). A timeout is an answer
  with ``error`` "Lean REPL command timed out in N seconds" (or "... header command ..."); 429 means no
  free REPL; 500 a REPL that failed.
- The server splits the code into a header (the leading `import` and blank lines), run once per REPL, and
  a body run in that environment: REPL positions are relative to the *body*. We shift them back.

Documents are the same shadow layout as LeanChecker's (lean/shadow.py) and verdicts come from the same
rules (lean/verdict.py), so both checkers agree on PROVED. The server checks in its own Lean project:
imports of the user's own modules only work when that project provides them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ..core.protocols import CheckPriority
from ..core.types import Candidate, Outcome, Pos, SorryGoal, Span, Target, Verdict, pos_to_offset
from ..settings import LeanSettings, Settings
from .audit import allowed_axioms
from .messages import relative_pos
from .shadow import shadow_for
from .verdict import classify, classify_document

_SEVERITY = {"error": 1, "warning": 2, "info": 3, "information": 3, "trace": 4}
_RETRY_STATUS = {429, 500, 502, 503, 504}


class KiminaError(Exception):
    """The server could not be used (unreachable, refused the key, kept failing)."""


@dataclass(frozen=True)
class KiminaReply:
    time: float
    error: str | None
    response: dict[str, Any]


def body_line_offset(code: str) -> int:
    """How many leading lines the server moves into the header (imports and blank lines)."""
    n = 0
    for line in code.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("import "):
            break
        n += 1
    return n


def _doc_pos(p: dict[str, Any] | None, shift: int) -> Pos | None:
    if not isinstance(p, dict):
        return None
    return Pos(max(0, int(p.get("line", 1)) - 1 + shift), max(0, int(p.get("column", 0))))


def lsp_items(code: str, response: dict[str, Any]) -> list[dict[str, Any]]:
    """REPL messages as the LSP-shaped dicts lean/verdict.py reads, in the document's own coordinates."""
    shift = body_line_offset(code)
    items = []
    for m in response.get("messages") or []:
        start = _doc_pos(m.get("pos"), shift) or Pos(shift, 0)
        end = _doc_pos(m.get("endPos"), shift) or start
        items.append(
            {
                "range": {
                    "start": {"line": start.line, "character": start.col},
                    "end": {"line": end.line, "character": end.col},
                },
                "severity": _SEVERITY.get(str(m.get("severity", "error")).lower(), 1),
                "message": str(m.get("data", "")),
            }
        )
    return items


def repl_sorries(code: str, response: dict[str, Any]) -> list[tuple[Pos, Pos, str]]:
    shift = body_line_offset(code)
    out = []
    for s in response.get("sorries") or []:
        start = _doc_pos(s.get("pos"), shift)
        if start is not None:
            out.append((start, _doc_pos(s.get("endPos"), shift) or start, str(s.get("goal", ""))))
    return out


def _timed_out(error: str) -> bool:
    return "timed out" in error.lower() or "timeout" in error.lower()


class KiminaChecker:
    def __init__(
        self, url: str, lean: LeanSettings, *, api_key: str | None = None, retries: int = 2, backoff_s: float = 0.5
    ) -> None:
        self.url = url.rstrip("/")
        self.settings = lean
        self.api_key = api_key
        self.retries = retries
        self.backoff_s = backoff_s
        self._allowed = allowed_axioms(lean)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KiminaChecker:
        k = settings.kimina
        return cls(k.url, settings.lean, api_key=k.api_key, retries=k.retries)

    # -- transport ---------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._session = aiohttp.ClientSession(headers=headers)
        return self._session

    async def post(self, code: str, timeout: float) -> KiminaReply:  # noqa: ASYNC109 (server-side budget)
        """One check. Retries what a retry can fix (no free REPL, a failed REPL, a dropped connection)."""
        payload = {
            "snippet": {"id": uuid.uuid4().hex, "code": code},
            "timeout": max(1, math.ceil(timeout)),
            "debug": False,
            "reuse": True,
        }
        # The server may queue for a free REPL before its own timeout starts: leave it room.
        client_timeout = aiohttp.ClientTimeout(total=timeout + 30.0)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                async with self._client().post(f"{self.url}/api/check", json=payload, timeout=client_timeout) as r:
                    if r.status in (401, 403):
                        raise KiminaError(
                            f"the Kimina server refused the API key (HTTP {r.status}); set kimina.api_key"
                        )
                    if r.status in _RETRY_STATUS:
                        last = f"HTTP {r.status}: {(await r.text())[:200]}"
                        continue
                    if r.status != 200:
                        raise KiminaError(f"HTTP {r.status} from {self.url}: {(await r.text())[:200]}")
                    data = await r.json(content_type=None)
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            except TimeoutError:
                why = f"timed out: no answer from the Kimina server within {timeout + 30:g} s"
                return KiminaReply(timeout, why, {})
            if not isinstance(data, dict):
                raise KiminaError(f"unexpected answer from {self.url}: {str(data)[:200]}")
            return KiminaReply(float(data.get("time") or 0.0), data.get("error") or None, data.get("response") or {})
        raise KiminaError(f"the Kimina server at {self.url} kept failing ({last})")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- Checker -----------------------------------------------------------------------------

    async def check(
        self,
        target: Target,
        candidate: Candidate,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
        priority: CheckPriority | None = None,  # the server queues for its REPLs itself
    ) -> Verdict:
        started = time.monotonic()
        budget = timeout if timeout is not None else self.settings.check_timeout_s
        shadow = shadow_for(target, candidate)
        reply, failure = await self._run(shadow.text, budget)
        if failure is not None:
            return dataclasses.replace(failure, elapsed=time.monotonic() - started, snippet=shadow.snippet)
        items = lsp_items(shadow.text, reply.response)
        verdict = classify(target, shadow, items, self._allowed, elapsed=time.monotonic() - started)
        if verdict.outcome in (Outcome.INCOMPLETE, Outcome.FAILED):
            # Goals at the candidate's own sorries (the user's other sorries are not its business).
            ranges = shadow.candidate_ranges
            own = []
            for start, end, goal in repl_sorries(shadow.text, reply.response):
                off = pos_to_offset(shadow.text, start)
                if any(a <= off < b for a, b in ranges) and goal:
                    rel, rel_end = relative_pos(start, shadow.origin), relative_pos(end, shadow.origin)
                    own.append(SorryGoal(Span(rel, rel_end), goal))
            if own:
                verdict = dataclasses.replace(verdict, sorries=tuple(own))
        return verdict

    async def check_document(self, path: Path, text: str, *, timeout: float | None = None) -> Verdict:  # noqa: ASYNC109 (budget)
        started = time.monotonic()
        budget = timeout if timeout is not None else self.settings.check_timeout_s
        reply, failure = await self._run(text, budget)
        if failure is not None:
            return dataclasses.replace(failure, elapsed=time.monotonic() - started, snippet=text)
        return classify_document(lsp_items(text, reply.response), text, elapsed=time.monotonic() - started)

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        """The REPL reports goals only at `sorry`s: the goal of the sorry at ``pos``, or of the first one
        after it with nothing but `by` / `:=` between (a DECLARATION's proof span starts before its
        sorry). None elsewhere, and when the server can't answer."""
        reply, failure = await self._run(text, self.settings.check_timeout_s)
        if failure is not None:
            return None
        at = pos_to_offset(text, pos)
        best: tuple[int, str] | None = None
        for start, _end, goal in repl_sorries(text, reply.response):
            off = pos_to_offset(text, start)
            gap = text[at:off].replace(":=", " ").split()
            if off >= at and all(w == "by" for w in gap) and (best is None or off < best[0]):
                best = (off, goal)
        return [best[1]] if best is not None and best[1] else None

    async def _run(self, code: str, budget: float) -> tuple[KiminaReply, Verdict | None]:
        empty = KiminaReply(0.0, None, {})
        try:
            reply = await self.post(code, budget)
        except KiminaError as exc:
            return empty, Verdict(Outcome.CRASHED, reason=str(exc))
        if reply.error:
            outcome = Outcome.TIMEOUT if _timed_out(reply.error) else Outcome.CRASHED
            return reply, Verdict(outcome, reason=f"Kimina: {reply.error}")
        return reply, None


def kimina_checker_factory(settings: Settings) -> Callable[[Path], KiminaChecker]:
    """For Engine(checker_factory=...): one client per Lake root (the server is shared anyway)."""

    def build(root: Path) -> KiminaChecker:
        return KiminaChecker.from_settings(settings)

    return build
