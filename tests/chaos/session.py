"""One chaos session (a real `lean-copilot serve` with fake Lean and fake model) and its runs.

A run opens a fresh document, starts 1-4 searches at once, injects wall-clock faults at random moments,
then checks the invariants (``Run.verify``). Every random choice comes from one seeded ``random.Random``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from lsprotocol import types as lsp

from lean_copilot_py.testing.fake_openai import FakeOpenAI, parse_script
from lean_copilot_py.testing.lean_script import Script, write_script
from tests.server.conftest import Editor

from .document import SORRY_BODY, check_applied_edit, decls, line_end, original, skeleton, workspace_edits
from .faults import FAULTS
from .leanlog import LeanLog, explain, lean_checked
from .scenario import base_script, model_plan

K = 3  # theorems per document
DEADLINE_S = 6.0  # search.deadline_s
CHECK_TIMEOUT_S = 2.0  # lean.check_timeout_s
SLACK_S = 12.0  # a search may end this long after its deadline (final check, audit, apply)
STATUSES = {"proved", "failed", "cancelled", "changed", "error"}


def settings(script_cmd: list[str], model_url: str, tokenizer: Path, cache: Path) -> dict[str, Any]:
    return {
        "leanCopilot": {
            "lean": {"server_command": script_cmd, "check_timeout_s": CHECK_TIMEOUT_S, "startup_timeout_s": 20,
                     "slots": 2},
            "model": {"backend": "openai", "endpoint": model_url, "name": "fake-model", "tokenizer": str(tokenizer),
                      "request_timeout_s": 10},
            "search": {"automation": ["omega"], "attempts": 2, "deadline_s": DEADLINE_S, "cache": False,
                       "max_tokens": 512},
            "paths": {"cache_dir": str(cache)},
            "inline": {"use_model": False, "budget_s": 5},
        }
    }


@dataclass
class Session:
    editor: Editor
    model: FakeOpenAI
    model_port: int
    script_path: Path
    lean_log: LeanLog
    write_file: Callable[..., str]
    rng: random.Random
    # Which theorems automation proves is fixed per session: Lean's verdict on a text must not change while
    # the same Lean server runs (the checker may reuse a slot's earlier verdict for identical text).
    omega: set[int] = field(default_factory=set)
    seen_pids: set[int] = field(default_factory=set)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def server_pid(self) -> int:
        proc = self.editor.client._server
        assert proc is not None
        return proc.pid

    def __post_init__(self) -> None:
        self.omega = {i for i in range(K) if self.rng.random() < 0.3}

    def sample_children(self) -> None:
        try:
            self.seen_pids.update(p.pid for p in psutil.Process(self.server_pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


@dataclass
class Run:
    session: Session
    n: int
    rng: random.Random
    k: int
    uri: str
    script: Script
    expected: str  # the document as the user made it, every proof body still `by sorry`
    since: int  # Lean log position at the start of the run (for failure reports)
    pending: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    before_edits: list[tuple[str, list[lsp.TextEdit]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # --- the user's typing, mirrored into ``expected`` ------------------------------------------

    def _type(self, text_pos: Callable[[str], lsp.Position | None], insert: str) -> None:
        ed = self.session.editor
        pos = text_pos(ed.texts[self.uri])
        exp_pos = text_pos(self.expected)
        if pos is None or exp_pos is None:
            return
        ed.replace(self.uri, pos, pos, insert)
        lines = self.expected.split("\n")
        line = lines[exp_pos.line]
        col = len(line.encode("utf-16-le")[: exp_pos.character * 2].decode("utf-16-le"))
        lines[exp_pos.line] = line[:col] + insert + line[col:]
        self.expected = "\n".join(lines)

    def type_at_line_end(self, prefix: str, insert: str) -> None:
        self._type(lambda t: line_end(t, prefix), insert)

    def insert_top(self, insert: str) -> None:
        self._type(lambda t: lsp.Position(0, 0), insert)

    def type_before(self, line_prefix: str, anchor: str, insert: str) -> None:
        def where(t: str) -> lsp.Position | None:
            for n, line in enumerate(t.split("\n")):
                if line.startswith(line_prefix) and anchor in line:
                    col = line.index(anchor)
                    return lsp.Position(n, len(line[:col].encode("utf-16-le")) // 2)
            return None

        self._type(where, insert)

    # --- the run ----------------------------------------------------------------------------------

    def send_commands(self) -> None:
        ed = self.session.editor
        targets = self.rng.sample(range(self.k), self.rng.randint(1, self.k))
        if self.rng.random() < 0.3:
            targets.append(targets[0])  # a second request for the same target joins the running search
        for j, i in enumerate(targets):
            lines = ed.texts[self.uri].split("\n")
            at = next(n for n, x in enumerate(lines) if x.startswith(f"theorem t{i} "))
            if self.rng.random() < 0.5:
                command, line, char = "leanCopilot.prove", at, 8
            else:  # the `sorry` on the line below
                command, line, char = "leanCopilot.fillSorry", at + 1, 3
            msg_id = f"chaos-{self.n}-{j}"
            params = lsp.ExecuteCommandParams(command=command, arguments=[{"uri": self.uri, "line": line,
                                                                           "character": char}])
            fut = ed.client.protocol.send_request(lsp.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)
            self.pending[msg_id] = asyncio.wrap_future(fut)
            self.notes.append(f"{msg_id}: {command} t{i}")

    async def inject(self) -> None:
        schedule = sorted((self.rng.uniform(0.0, 3.0), self.rng.choice(list(FAULTS)))
                          for _ in range(self.rng.randint(0, 3)))
        t0 = time.monotonic()
        for at, name in schedule:
            await asyncio.sleep(max(0.0, at - (time.monotonic() - t0)))
            self.session.sample_children()
            note = await FAULTS[name](self)
            self.session.count(name)
            self.notes.append(f"{time.monotonic() - t0:.2f}s {name}: {note}")

    async def results(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        limit = DEADLINE_S + SLACK_S
        t0 = time.monotonic()
        for msg_id, fut in self.pending.items():
            try:
                out[msg_id] = await asyncio.wait_for(asyncio.shield(fut), max(0.1, limit - (time.monotonic() - t0)))
            except TimeoutError:
                raise AssertionError(f"HANG: {msg_id} not answered within {limit} s\n{self.report()}") from None
            except Exception as exc:  # a cancelled request may be answered with an error: fine, not a hang
                out[msg_id] = {"status": "request-error", "message": str(exc)}
        return out

    def report(self) -> str:
        return f"run {self.n} (see the seed above):\n  " + "\n  ".join(self.notes)

    async def verify(self, results: dict[str, Any]) -> None:
        ed, s = self.session.editor, self.session
        for msg_id, res in results.items():
            status = res.get("status") if isinstance(res, dict) else getattr(res, "status", None)
            assert status in STATUSES | {"request-error"}, f"{msg_id}: {res}\n{self.report()}"
            s.count(f"status:{status}")
        # The server still answers, quickly: code actions come from the text alone.
        t0 = time.monotonic()
        actions = await asyncio.wait_for(ed.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=self.uri),
            range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
            context=lsp.CodeActionContext(diagnostics=[]))), 5)
        assert actions is not None
        s.count("code_action_ms_max", 0)
        s.stats["code_action_ms_max"] = max(s.stats["code_action_ms_max"], int((time.monotonic() - t0) * 1000))
        # Every applied edit: one theorem's proof, exactly as Lean checked it (and as the script proves).
        bodies: dict[int, set[str]] = {}
        for before, edits in self.before_edits:
            i, header, body = check_applied_edit(before, edits)
            decl_text = header + body
            assert lean_checked(s.lean_log, 0, decl_text, f"t{i}", s.script_path), (
                f"UNVERIFIED edit applied for t{i}:\n{decl_text}\n{self.report()}\n"
                f"{explain(s.lean_log, self.since, decl_text, f't{i}', s.script_path)}")
            bodies.setdefault(i, set()).add(body)
            s.count("applied_edits")
        # The user's text: exactly what they typed, and only proof bodies changed by verified edits.
        final = ed.texts[self.uri]
        assert skeleton(final) == skeleton(self.expected), (
            f"USER TEXT CHANGED:\n{final!r}\nexpected skeleton of\n{self.expected!r}\n{self.report()}")
        for i, d in decls(final).items():
            assert d.body == SORRY_BODY or d.body in bodies.get(i, set()), (
                f"t{i} body {d.body!r} came from no verified edit\n{self.report()}")


async def new_run(session: Session, n: int) -> Run:
    rng = session.rng
    text = original(K)
    uri = session.write_file(text, f"Run{n}.lean")
    script = base_script(session.omega)
    write_script(session.script_path, script)
    plan = model_plan(rng, K)
    session.model.scripts, _ = parse_script({"scripts": plan.scripts})
    run = Run(session, n, rng, K, uri, script, text, session.lean_log.mark(), notes=list(plan.notes))
    for note in plan.notes:  # scheduled in the model's script; fires if the attempt gets that far
        what = note.split(": ", 1)[1].split()
        session.count(f"scheduled:{what[-1]}")
    session.editor.open(uri, text)
    return run


async def one_run(session: Session, n: int) -> None:
    run = await new_run(session, n)
    ed = session.editor

    def recording_apply(edit: lsp.WorkspaceEdit) -> bool:
        snapshot = {u: t for u, t in ed.texts.items()}
        ok = type(ed).apply(ed, edit)
        if ok:
            for uri, edits in workspace_edits(edit):
                if uri == run.uri:
                    run.before_edits.append((snapshot[uri], edits))
        return ok

    ed.apply = recording_apply  # type: ignore[method-assign]
    injector: asyncio.Future[None] | None = None
    t0 = time.monotonic()
    try:
        run.send_commands()
        injector = asyncio.ensure_future(run.inject())
        results = await run.results()
        await asyncio.wait_for(injector, 10)
        session.sample_children()
        await run.verify(results)
        session.count("runs")
        session.stats["run_s_max"] = max(session.stats.get("run_s_max", 0), round(time.monotonic() - t0))
    finally:
        ed.__dict__.pop("apply", None)
        if injector is not None and not injector.done():
            injector.cancel()
            await asyncio.gather(injector, return_exceptions=True)
        if not session.model._runner:
            await session.model.start(port=session.model_port)
        ed.client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(run.uri)))
