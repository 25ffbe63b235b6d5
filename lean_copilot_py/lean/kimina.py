"""KiminaChecker: the core's Checker on a Kimina Lean Server (project-numina/kimina-lean-server).

Wire facts, from the server's own source (PyPI `kimina-ast-server` 2.1.3: server/routers/check.py,
server/split.py, server/manager.py, server/repl.py, server/auth.py; request and answer models in
`kimina_client/models.py`), and checked against that server in tests/lean/test_kimina.py:
- ``POST <url>/api/check`` with ``{"snippets": [{"id", "code"}], "timeout": int seconds, "debug", "reuse"}``
  (CheckRequest; a body without ``snippets`` is HTTP 422). ``Authorization: Bearer <key>`` when the server
  has an API key: 401 ``{"detail": "Missing API key"}`` / ``"Invalid API key"`` otherwise.
- Answer ``{"results": [{"id", "time", "error"?, "response"?}]}`` (CheckResponse of ReplResponse, None fields
  left out). ``response`` is the Lean REPL's JSON (``messages``: ``{"severity", "pos": {"line" 1-based,
  "column" 0-based, in code points}, "endPos"?, "data"}``; ``sorries``: ``{"goal", "proofState", "pos",
  "endPos"}``; empty lists left out) or a REPL error ``{"message"}``. Failures are answers too, with HTTP 200:
  ``error`` "Lean REPL command timed out in T seconds" (the REPL is killed), "Lean REPL header command timed
  out …", "No available REPLs" (none freed within the server's max wait), "Snippet execution failed: …",
  "REPL prep failed: …". HTTP 504 when its whole-request safety net (timeout + 10 s) fires.
- The server splits the code (split_snippet) into a header, the leading lines that are blank or start with
  `import `, and the body. A REPL runs the header once as its first command; every body then runs with
  ``"env": 0``, positions relative to the *body*. We map them back to the document line by line.
- With no header, the first body a REPL runs *is* environment 0, so a later body on that REPL (``reuse``)
  would run on top of an earlier check's declarations. Such documents are sent with ``"reuse": false``:
  a fresh REPL elaborates the whole document, `prelude` or implicit `Init` included.

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
from ..core.types import Candidate, Outcome, Pos, SorryGoal, Span, Target, Verdict, offset_to_pos, pos_to_offset
from ..settings import LeanSettings, Settings
from .audit import allowed_axioms
from .messages import relative_pos
from .shadow import shadow_for
from .verdict import classify, classify_document

_SEVERITY = {"error": 1, "warning": 2, "info": 3, "information": 3, "trace": 4}
_RETRY_STATUS = {429, 500, 502, 503}
# Answers (HTTP 200 with `error`) after which the server has dropped the REPL or found none free: another
# try gets a fresh one.
_RETRY_ERRORS = ("No available REPLs", "Failed to get REPL", "REPL prep failed", "Failed to get replacement REPL",
                 "Snippet execution failed")


class KiminaError(Exception):
    """The server could not be used (unreachable, refused the key, kept failing)."""


@dataclass(frozen=True)
class KiminaReply:
    time: float
    error: str | None
    response: dict[str, Any]


def _is_header_line(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("import ")


@dataclass(frozen=True)
class ServerSplit:
    """A document as the server's split_snippet cuts it (``str.splitlines`` lines; the body joined by \\n)."""

    code: str
    header: str  # the import lines a REPL runs once ("" when there are none)
    body_start: int  # index (in ``code.splitlines()``) of the body's first line
    starts: tuple[int, ...]  # offset in ``code`` of each of those lines

    def doc_pos(self, p: dict[str, Any] | None) -> Pos | None:
        """A REPL position (``line`` 1-based in the body, ``column`` in code points) in the document."""
        if not isinstance(p, dict):
            return None
        index = self.body_start + max(1, int(p.get("line", 1))) - 1
        if index >= len(self.starts):
            return offset_to_pos(self.code, len(self.code))
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.code)
        line = self.code[self.starts[index] : end]
        content = len(line.splitlines()[0]) if line else 0  # the line without its line break
        col = min(max(0, int(p.get("column", 0))), content)
        return offset_to_pos(self.code, self.starts[index] + col)


def split_like_server(code: str) -> ServerSplit:
    lines = code.splitlines(keepends=True)
    starts, off = [], 0
    for line in lines:
        starts.append(off)
        off += len(line)
    i = 0
    while i < len(lines) and _is_header_line(lines[i]):
        i += 1
    header = "\n".join(ln.strip() for ln in lines[:i] if ln.strip())
    return ServerSplit(code, header, i, tuple(starts))


def sendable(code: str) -> str:
    """``code`` with the `--` comment lines among its leading imports made blank (same lines, same length
    elsewhere): the server's header stops at the first other line, and an `import` left in the body fails."""
    lines = code.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("--"):
            lines[i] = ""
        elif stripped and not stripped.startswith("import "):
            break
    return "\n".join(lines)


def lsp_items(split: ServerSplit, response: dict[str, Any]) -> list[dict[str, Any]]:
    """REPL messages as the LSP-shaped dicts lean/verdict.py reads, in the document's own coordinates."""
    first = split.doc_pos({"line": 1, "column": 0}) or Pos(0, 0)
    items = []
    for m in response.get("messages") or []:
        start = split.doc_pos(m.get("pos")) or first
        end = split.doc_pos(m.get("endPos")) or start
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


def repl_sorries(split: ServerSplit, response: dict[str, Any]) -> list[tuple[Pos, Pos, str]]:
    out = []
    for s in response.get("sorries") or []:
        start = split.doc_pos(s.get("pos"))
        if start is not None:
            out.append((start, split.doc_pos(s.get("endPos")) or start, str(s.get("goal", ""))))
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

    async def post(self, code: str, timeout: float, *, reuse: bool = True) -> KiminaReply:  # noqa: ASYNC109 (server-side budget)
        """One check. Retries what a retry can fix: no free REPL, a REPL that died, a 429/5xx, a dropped
        connection. Raises KiminaError when the server can't be used at all."""
        snippet_id = uuid.uuid4().hex
        payload = {
            "snippets": [{"id": snippet_id, "code": code}],
            "timeout": max(1, math.ceil(timeout)),
            "debug": False,
            "reuse": reuse,
        }
        # The server may queue for a free REPL before its own timeout starts; its safety net answers 504
        # at timeout + 10 s. Leave it room.
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
                    if r.status == 504:
                        return KiminaReply(timeout, f"timed out: {(await r.text())[:200]}", {})
                    if r.status in _RETRY_STATUS:
                        last = f"HTTP {r.status}: {(await r.text())[:200]}"
                        continue
                    if r.status != 200:
                        raise KiminaError(f"HTTP {r.status} from {self.url}: {(await r.text())[:300]}")
                    data = await r.json(content_type=None)
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            except TimeoutError:
                why = f"timed out: no answer from the Kimina server within {timeout + 30:g} s"
                return KiminaReply(timeout, why, {})
            result = _result(data, snippet_id)
            if result is None:
                raise KiminaError(f"unexpected answer from {self.url}: {str(data)[:300]}")
            error = str(result.get("error") or "") or None
            if error and not _timed_out(error) and error.startswith(_RETRY_ERRORS):
                last = error[:300]
                continue
            response = result.get("response") if isinstance(result.get("response"), dict) else {}
            return KiminaReply(float(result.get("time") or 0.0), error, response)
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
        split, reply, failure = await self._run(shadow.text, budget)
        if failure is not None:
            return dataclasses.replace(failure, elapsed=time.monotonic() - started, snippet=shadow.snippet)
        items = lsp_items(split, reply.response)
        verdict = classify(target, shadow, items, self._allowed, elapsed=time.monotonic() - started)
        if verdict.outcome in (Outcome.INCOMPLETE, Outcome.FAILED):
            # Goals at the candidate's own sorries (the user's other sorries are not its business).
            ranges = shadow.candidate_ranges
            own = []
            for start, end, goal in repl_sorries(split, reply.response):
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
        split, reply, failure = await self._run(text, budget)
        if failure is not None:
            return dataclasses.replace(failure, elapsed=time.monotonic() - started, snippet=text)
        return classify_document(lsp_items(split, reply.response), text, elapsed=time.monotonic() - started)

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        """The REPL reports goals only at `sorry`s: the goal of the sorry at ``pos``, or of the first one
        after it with nothing but `by` / `:=` between (a DECLARATION's proof span starts before its
        sorry). None elsewhere, and when the server can't answer."""
        split, reply, failure = await self._run(text, self.settings.check_timeout_s)
        if failure is not None:
            return None
        at = pos_to_offset(text, pos)
        best: tuple[int, str] | None = None
        for start, _end, goal in repl_sorries(split, reply.response):
            off = pos_to_offset(text, start)
            gap = text[at:off].replace(":=", " ").split()
            if off >= at and all(w == "by" for w in gap) and (best is None or off < best[0]):
                best = (off, goal)
        return [best[1]] if best is not None and best[1] else None

    async def _run(self, text: str, budget: float) -> tuple[ServerSplit, KiminaReply, Verdict | None]:
        code = sendable(text)
        split = split_like_server(code)
        empty = KiminaReply(0.0, None, {})
        try:
            # Without a header, environment 0 of a reused REPL is an earlier check's document.
            reply = await self.post(code, budget, reuse=bool(split.header))
        except KiminaError as exc:
            return split, empty, Verdict(Outcome.CRASHED, reason=str(exc))
        if reply.error:
            outcome = Outcome.TIMEOUT if _timed_out(reply.error) else Outcome.CRASHED
            return split, reply, Verdict(outcome, reason=f"Kimina: {reply.error}")
        if "message" in reply.response and "env" not in reply.response:
            return split, reply, Verdict(Outcome.CRASHED, reason=f"Kimina: the Lean REPL answered: "
                                         f"{str(reply.response['message'])[:300]}")
        return split, reply, None


def _result(data: Any, snippet_id: str) -> dict[str, Any] | None:
    """Our snippet's ReplResponse out of a CheckResponse ``{"results": [...]}``."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return None
    for r in results:
        if isinstance(r, dict) and r.get("id") == snippet_id:
            return r
    return None


def kimina_checker_factory(settings: Settings) -> Callable[[Path], KiminaChecker]:
    """For Engine(checker_factory=...): one client per Lake root (the server is shared anyway)."""

    def build(root: Path) -> KiminaChecker:
        return KiminaChecker.from_settings(settings)

    return build
