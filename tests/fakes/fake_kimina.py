"""A fake Kimina Lean Server (project-numina/kimina-lean-server) on aiohttp, with scripted verdicts.

Mimics the real API's shapes (app/routers/check.py, app/schemas.py, app/split.py, app/auth.py):
- ``POST /api/check`` (and ``/api/check/``) with ``{"snippet": {"id", "code"}, "timeout", "debug", "reuse"}``;
  a missing snippet/id/code is HTTP 422 ``{"detail": [...]}``;
- ``Authorization: Bearer <key>`` checked when the fake has an ``api_key``: 401 ``{"detail": "Missing API key"}``
  or ``{"detail": "Invalid API key"}``;
- the code is split like the server does: leading `import` / blank lines are the header, the rest is the
  body the REPL runs, and every position is REPL-style (``line`` 1-based, ``column`` 0-based) *relative to
  the body*;
- the answer is ``{"id", "time", "response": {"env": 0, "messages"?, "sorries"?}}`` with empty lists left
  out, or ``{"id", "time", "error": "Lean REPL command timed out in N seconds"}`` on a timeout.

What the body elaborates to:
- each ``Rule`` (in order, a regex ``re.search``ed in the body) may add a message at its match, answer
  with a timeout or an HTTP status, wait ``delay_s``; ``times`` limits how often it fires;
- every `sorry` token adds a REPL ``sorries`` entry (goal from ``goals[decl]``, default ``⊢ True``) and, if
  its declaration got no error, Lean's warning ``declaration uses 'sorry'`` at the declaration's name;
- ``#print axioms X`` answers at its own line: ``'X' depends on axioms: [..]`` (``axioms[X]``; default
  ``[sorryAx]`` when X used `sorry` or had an error, else none) or ``'X' does not depend on any axioms``;
  an undeclared X is the error ``unknown constant 'X'``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_DECL = re.compile(r"^(?:theorem|lemma|def|example)\s+([^\s(\[{:]+)", re.M)
_SORRY = re.compile(r"(?<![\w.'])sorry(?![\w'])")


@dataclass
class Rule:
    pattern: str
    message: str | None = None
    severity: str = "error"
    timeout: bool = False
    http_status: int | None = None
    times: int | None = None
    delay_s: float = 0.0
    hits: int = 0


def split_snippet(code: str) -> tuple[str, str]:
    lines = code.splitlines()
    n = 0
    for line in lines:
        if line.strip() and not line.strip().startswith("import "):
            break
        n += 1
    return "\n".join(ln for ln in lines[:n] if ln.strip()), "\n".join(lines[n:])


def _pos(body: str, offset: int) -> dict[str, int]:
    line = body.count("\n", 0, offset)
    return {"line": line + 1, "column": offset - (body.rfind("\n", 0, offset) + 1)}


@dataclass
class _Decl:
    name: str
    full: str
    start: int
    end: int
    name_at: int


def _declarations(body: str) -> list[_Decl]:
    ns: list[str] = []
    marks: list[tuple[int, str, str | None]] = []  # (offset, kind, name)
    for m in re.finditer(r"^(namespace|end|#print)\b\s*(\S*)", body, re.M):
        marks.append((m.start(), m.group(1), m.group(2)))
    for m in _DECL.finditer(body):
        marks.append((m.start(), "decl", m.group(1)))
    marks.sort()
    decls: list[_Decl] = []
    for i, (off, kind, name) in enumerate(marks):
        if kind == "namespace" and name:
            ns.append(name)
        elif kind == "end" and ns:
            ns.pop()
        elif kind == "decl" and name:
            end = marks[i + 1][0] if i + 1 < len(marks) else len(body)
            full = ".".join([*ns, name])
            decls.append(_Decl(name, full, off, end, body.index(name, off)))
    return decls


@dataclass
class FakeKimina:
    rules: list[Rule] = field(default_factory=list)
    api_key: str | None = None
    goals: dict[str, str] = field(default_factory=dict)
    axioms: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    # -- the app -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/check", self._check)
        app.router.add_post("/api/check/", self._check)
        app.router.add_get("/health", self._health)
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _check(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        if self.api_key is not None:
            auth = request.headers.get("Authorization", "")
            if not auth:
                return web.json_response({"detail": "Missing API key"}, status=401)
            if auth.removeprefix("Bearer ").strip() != self.api_key:
                return web.json_response({"detail": "Invalid API key"}, status=401)
        try:
            data = await request.json()
            snippet = data["snippet"]
            sid, code = str(snippet["id"]), str(snippet["code"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"detail": [{"msg": "Field required", "loc": ["body", "snippet"]}]}, status=422)
        self.requests.append(data)
        timeout = float(data.get("timeout", 30))
        _header, body = split_snippet(code)
        messages: list[dict[str, Any]] = []
        for rule in self.rules:
            m = re.search(rule.pattern, body)
            if m is None or (rule.times is not None and rule.hits >= rule.times):
                continue
            rule.hits += 1
            if rule.delay_s:
                await asyncio.sleep(rule.delay_s)
            if rule.http_status is not None:
                return web.json_response({"detail": "scripted failure"}, status=rule.http_status)
            if rule.timeout:
                return web.json_response({"id": sid, "time": timeout,
                                          "error": f"Lean REPL command timed out in {timeout} seconds"})
            if rule.message is not None:
                messages.append({"severity": rule.severity, "pos": _pos(body, m.start()),
                                 "endPos": _pos(body, m.end()), "data": rule.message})
        response: dict[str, Any] = {"env": 0}
        sorries, more = self._elaborate(body, messages)
        messages += more
        if messages:
            response["messages"] = sorted(messages, key=lambda x: (x["pos"]["line"], x["pos"]["column"]))
        if sorries:
            response["sorries"] = sorries
        return web.json_response({"id": sid, "time": 0.01, "response": response})

    def _elaborate(self, body: str, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict]]:
        decls = _declarations(body)
        err_lines = {x["pos"]["line"] for x in messages if x["severity"] == "error"}
        sorries: list[dict[str, Any]] = []
        more: list[dict[str, Any]] = []
        dirty: set[str] = set()
        for d in decls:
            lines = range(_pos(body, d.start)["line"], _pos(body, max(d.start, d.end - 1))["line"] + 1)
            had_error = any(ln in err_lines for ln in lines)
            found = list(_SORRY.finditer(body, d.start, d.end))
            for s in found:
                sorries.append({"pos": _pos(body, s.start()), "endPos": _pos(body, s.end()),
                                "goal": self.goals.get(d.name, self.goals.get(d.full, "⊢ True")),
                                "proofState": len(sorries)})
            if found and not had_error:
                more.append({"severity": "warning", "pos": _pos(body, d.name_at),
                             "endPos": _pos(body, d.name_at + len(d.name)), "data": "declaration uses 'sorry'"})
            if found or had_error:
                dirty.update({d.name, d.full})
        by_name = {n: d for d in decls for n in (d.name, d.full)}
        # lean-copilot's statement check (lean/shadow.py) stands for the declaration it names: the fake
        # takes the statement as unchanged and audits that declaration in its place.
        stands_for = {}
        for m in re.finditer(r"^theorem (lean_copilot_statement_check) : .*:= @(\S+)$", body, re.M):
            stands_for[m.group(1)] = m.group(2)
        for m in re.finditer(r"^#print axioms\s+(\S+)", body, re.M):
            name = m.group(1)
            if name in stands_for and stands_for[name] in by_name:
                target = by_name[stands_for[name]].full
                axioms = self.axioms.get(target, ["sorryAx"] if target in dirty else [])
                at, end = _pos(body, m.start()), _pos(body, m.end())
                text = (f"'{name}' depends on axioms: [{', '.join(axioms)}]" if axioms
                        else f"'{name}' does not depend on any axioms")
                more.append({"severity": "info", "pos": at, "endPos": end, "data": text})
                continue
            at, end = _pos(body, m.start()), _pos(body, m.end())
            if name not in by_name:
                more.append({"severity": "error", "pos": at, "endPos": end, "data": f"unknown constant '{name}'"})
                continue
            axioms = self.axioms.get(name, ["sorryAx"] if name in dirty else [])
            text = (f"'{name}' depends on axioms: [{', '.join(axioms)}]" if axioms
                    else f"'{name}' does not depend on any axioms")
            more.append({"severity": "info", "pos": at, "endPos": end, "data": text})
        return sorries, more

    # -- running it ----------------------------------------------------------------------------

    async def start(self) -> str:
        """Serve on 127.0.0.1 (a free port) in the running loop; returns the base URL."""
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self) -> str:
        """For code that runs its own event loop (the CLI's asyncio.run)."""
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.close())
            self._loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.url

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
