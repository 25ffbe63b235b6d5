#!/usr/bin/env python3
"""A fake `lake serve` speaking Lean 4's LSP dialect, with verdicts scripted per test or benchmark.

Run as ``[sys.executable, path/to/fake_lean.py, "--script", script.json, ("--log", log.jsonl)]`` (what
``lean_script.fake_lean_command()`` builds; the script format is documented there), or as
``python -m lean_copilot_py.testing.fake_lean --script …``.
It stays for what the real prelude Lean of the test tier cannot do (tactic proofs, "Try this", Mathlib-sized
delays); where both can run a scenario, tests/lean/test_fake_matches_real.py shows they send the same shapes.

What it reproduces from the real server (measured on Lean 4.35, docs/PROTOCOLS.md §1):
- Content-Length framing on stdin/stdout, chatter on stderr; `initialize` with Lean's capabilities, then a
  ``client/registerCapability`` request (id ``register_lean_watcher``, ``**/*.lean`` and ``**/*.ilean``);
- didOpen (``dependencyBuildMode`` accepted) / didChange (full text or ranges) / didClose; one worker per
  document that loads the imports once (``header_delay_s``), again after a crash or an import change;
- elaboration per version, command by command, from the first changed command (earlier ones are reused
  with their messages), superseded by a newer didChange;
- ``textDocument/publishDiagnostics`` several times per version: a new worker's first is an empty list
  without ``isIncremental`` (the watchdog's reset); each version's first of the worker is a full list
  (``isIncremental: false`` for a client declaring ``capabilities.lean.incrementalDiagnosticSupport``)
  holding the reused commands' messages, then ``isIncremental: true`` appends (full lists without the
  flag otherwise); diagnostics carry ``range``, ``fullRange``, ``severity``, ``source``, ``code`` where
  Lean has one, ``leanTags``; didClose and shutdown publish an empty list for that version;
- ``$/lean/fileProgress``: first the whole document, then the spans still being elaborated (several, some
  zero-width), ``processing: []`` twice at the end;
- ``textDocument/waitForDiagnostics`` answered ``{}`` once that version (or a newer one) is elaborated;
  ``$/cancelRequest`` of it is answered -32800 only then; goal requests during elaboration wait and answer
  from the new version; ``$/lean/plainTermGoal``'s range is the term's span;
- ``#print axioms X``: info on the `#print` token, axioms in Lean's order, a list longer than a line
  wrapped ``[a,\\n b, …]``; ``Unknown constant `X` `` at the name; ``exact?``/``apply?`` -> ``Try this``;
- a crashed worker (a ``crash`` rule, or SIGUSR1 to this process: every worker dies, busy or idle):
  pending requests get -32902 "Server process for … crashed…", ``$/lean/fileProgress`` kind 2 over the
  document, no diagnostic; later requests queue unanswered until a didChange starts a new worker;
- requests for a file that is not open: -32801 "Cannot process request to closed file …"; pending at
  didClose: -32801 "The file worker for … has been terminated."; unknown: -32601 "No request handler …";
- while busy, ``workspace/inlayHint/refresh`` requests every 0.5 s and ``workspace/semanticTokens/refresh``
  every 2 s, with integer ids from 0 (they may equal the client's own ids).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

if not __package__:  # run by path: the package of this checkout, whatever else sys.path holds
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lean_copilot_py.testing.lean_docs import (
    CAPABILITIES,
    REQUEST_CANCELLED,
    Doc,
    Finished,
    Pending,
    audit_diagnostics,
    closed_file_error,
    crash_error,
    goal_at,
    lsp_diagnostic,
    progress_spans,
    reusable,
    terminated_error,
)
from lean_copilot_py.testing.lean_judge import Judge, Outcome
from lean_copilot_py.testing.lean_script import Rule
from lean_copilot_py.testing.lean_text import Decl, analyse, header_end, lsp_range, offset_of

METHOD_NOT_FOUND = -32601
REFRESH_PERIOD_S = 0.5  # while a document elaborates, Lean asks the editor to refresh inlay hints this often
SEMANTIC_EVERY = 4  # ... and semantic tokens every 4th time

class FakeLean:
    def __init__(self, script_path: Path, log_path: Path | None) -> None:
        self.judge = Judge(script_path)
        self.log_path = log_path
        self.docs: dict[str, Doc] = {}
        self.incremental_client = False
        self.request_ids = itertools.count()  # ids of our requests to the client: integers from 0, as Lean's
        self.stopping = asyncio.Event()
        self.refresher: asyncio.Task[None] | None = None

    # -- wire ------------------------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}, ensure_ascii=False).encode()
        sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sys.stdout.buffer.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def reply(self, req_id: Any, result: Any = None, error: tuple[int, str] | None = None) -> None:
        if error is not None:
            self.send({"id": req_id, "error": {"code": error[0], "message": error[1]}})
        else:
            self.send({"id": req_id, "result": result})

    def log(self, entry: dict[str, Any]) -> None:
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    async def read_loop(self) -> None:
        reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        while True:
            length = None
            while True:
                line = await reader.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length is None:
                continue
            msg = json.loads(await reader.readexactly(length))
            self.log({k: msg.get(k) for k in ("method", "id", "params", "result", "error") if k in msg})
            self.dispatch(msg)
            if self.stopping.is_set():
                return

    async def refresh_loop(self) -> None:
        """Lean's watchdog asks the editor to refresh inlay hints and semantic tokens while files elaborate."""
        ticks = 0
        while True:
            await asyncio.sleep(REFRESH_PERIOD_S)
            if any(doc.busy for doc in self.docs.values()):
                ticks += 1
                self.send({"id": next(self.request_ids), "method": "workspace/inlayHint/refresh"})
                if ticks % SEMANTIC_EVERY == 0:
                    self.send({"id": next(self.request_ids), "method": "workspace/semanticTokens/refresh"})

    # -- dispatch --------------------------------------------------------------------------------

    def dispatch(self, msg: dict[str, Any]) -> None:
        method, req_id, params = msg.get("method"), msg.get("id"), msg.get("params") or {}
        if method is None:
            return  # a response to one of our requests
        handler = getattr(self, "on_" + re.sub(r"\W", "_", method), None)
        if handler is None:
            if req_id is not None:
                self.reply(req_id, error=(METHOD_NOT_FOUND, f"No request handler found for '{method}'"))
            return
        handler(req_id, params)

    def on_initialize(self, req_id: Any, params: dict[str, Any]) -> None:
        lean_caps = (params.get("capabilities") or {}).get("lean") or {}
        self.incremental_client = bool(lean_caps.get("incrementalDiagnosticSupport"))
        print("fake-lean: watchdog started", file=sys.stderr, flush=True)
        self.refresher = asyncio.ensure_future(self.refresh_loop())
        self.reply(req_id, {"capabilities": CAPABILITIES, "serverInfo": {"name": "Lean 4 Server", "version": "0.3.0"}})

    def on_initialized(self, _id: Any, _params: dict[str, Any]) -> None:
        watchers = [{"globPattern": "**/*.lean"}, {"globPattern": "**/*.ilean"}]
        registration = {"id": "lean_watcher", "method": "workspace/didChangeWatchedFiles",
                        "registerOptions": {"watchers": watchers}}
        self.send({"id": "register_lean_watcher", "method": "client/registerCapability",
                   "params": {"registrations": [registration]}})

    def on_shutdown(self, req_id: Any, _params: dict[str, Any]) -> None:
        for doc in self.docs.values():
            if doc.task is not None:
                doc.task.cancel()
            self.publish(doc, doc.version, [], None)
        self.reply(req_id, None)

    def on_exit(self, _id: Any, _params: dict[str, Any]) -> None:
        self.stopping.set()

    def on_textDocument_didOpen(self, _id: Any, params: dict[str, Any]) -> None:
        td = params["textDocument"]
        doc = self.docs[td["uri"]] = Doc(td["uri"], td.get("version", 0), td["text"])
        self.start(doc)

    def on_textDocument_didChange(self, _id: Any, params: dict[str, Any]) -> None:
        doc = self.docs.get(params["textDocument"]["uri"])
        if doc is None:
            return
        for change in params.get("contentChanges", []):
            if "range" in change:
                s, e = offset_of(doc.text, change["range"]["start"]), offset_of(doc.text, change["range"]["end"])
                doc.text = doc.text[:s] + change["text"] + doc.text[e:]
            else:
                doc.text = change["text"]
        doc.version = params["textDocument"].get("version", doc.version + 1)
        doc.crashed = False  # didChange starts a new worker for a crashed one (the watchdog's contract)
        self.start(doc)

    def on_textDocument_didClose(self, _id: Any, params: dict[str, Any]) -> None:
        doc = self.docs.pop(params["textDocument"]["uri"], None)
        if doc is None:
            return
        if doc.task is not None:
            doc.task.cancel()
        for p in doc.pending():
            self.reply(p.req_id, error=terminated_error(doc.uri))
        self.publish(doc, doc.version, [], None)

    def on___cancelRequest(self, _id: Any, params: dict[str, Any]) -> None:
        for doc in self.docs.values():
            p = doc.find(params.get("id"))
            if p is not None:
                p.cancelled = True  # answered when the request would have been, as Lean does

    def on_textDocument_waitForDiagnostics(self, req_id: Any, params: dict[str, Any]) -> None:
        uri = params.get("uri", "")
        doc = self.docs.get(uri)
        if doc is None:
            self.reply(req_id, error=closed_file_error(uri))
        elif not doc.crashed and doc.done_version >= params.get("version", 0):
            self.reply(req_id, {})
        else:
            doc.waiters.append(Pending(req_id, "textDocument/waitForDiagnostics", params, params.get("version", 0)))

    def _goal_request(self, req_id: Any, method: str, params: dict[str, Any]) -> None:
        uri = params["textDocument"]["uri"]
        doc = self.docs.get(uri)
        if doc is None:
            self.reply(req_id, error=closed_file_error(uri))
        elif doc.crashed or doc.busy or doc.done_version < doc.version:
            doc.queued.append(Pending(req_id, method, params))  # answered from the version being elaborated
        else:
            self.reply(req_id, goal_at(doc, params["position"], term=method == "$/lean/plainTermGoal"))

    def on___lean_plainGoal(self, req_id: Any, params: dict[str, Any]) -> None:
        self._goal_request(req_id, "$/lean/plainGoal", params)

    def on___lean_plainTermGoal(self, req_id: Any, params: dict[str, Any]) -> None:
        self._goal_request(req_id, "$/lean/plainTermGoal", params)

    # -- workers ---------------------------------------------------------------------------------

    def start(self, doc: Doc) -> None:
        if doc.task is not None:
            doc.task.cancel()  # a newer version supersedes the one in flight
        fresh = doc.worker_header != doc.text[: header_end(doc.text)]  # no worker, or its imports changed
        doc.task = asyncio.ensure_future(self.elaborate(doc, doc.version, doc.text, fresh))

    def kill_workers(self) -> None:
        """SIGUSR1: every document's worker dies, as if the OS killed it (busy or idle)."""
        for doc in self.docs.values():
            if doc.worker_header is not None or doc.busy:
                self.crash(doc)

    def crash(self, doc: Doc) -> None:
        print(f"fake-lean: worker for {doc.uri} crashed (Stack overflow detected. Aborting.)", file=sys.stderr,
              flush=True)
        if doc.busy and doc.task is not asyncio.current_task():
            doc.task.cancel()
        doc.crashed, doc.worker_header, doc.finished = True, None, None
        for p in doc.pending():
            self.reply(p.req_id, error=crash_error(doc.uri))
        doc.waiters.clear()
        doc.queued.clear()
        self.progress(doc, doc.version, doc.text, [(0, len(doc.text))], kind=2)

    def publish(self, doc: Doc, version: int, diags: list[dict[str, Any]], incremental: bool | None) -> None:
        params: dict[str, Any] = {"uri": doc.uri, "version": version, "diagnostics": diags}
        if incremental is not None:
            params["isIncremental"] = incremental
        self.notify("textDocument/publishDiagnostics", params)

    def progress(self, doc: Doc, version: int, text: str, spans: list[tuple[int, int]], kind: int = 1) -> None:
        processing = [{"range": lsp_range(text, s, e), "kind": kind} for s, e in spans]
        self.notify(
            "$/lean/fileProgress", {"textDocument": {"uri": doc.uri, "version": version}, "processing": processing}
        )

    async def elaborate(self, doc: Doc, version: int, text: str, fresh: bool) -> None:
        script = self.judge.current()
        incremental = self.incremental_client and script.incremental
        commands = analyse(text)
        prev = None if fresh else doc.finished
        reused = reusable(prev, text, commands, self.judge.mtime)
        if fresh:  # a new worker first reports the whole document; a change, only what it elaborates again
            self.progress(doc, version, text, [(0, len(text))])
            self.publish(doc, version, [], None)  # the watchdog clears the editor's list for a new worker
            print(f"fake-lean: worker for {doc.uri} loading imports", file=sys.stderr, flush=True)
            await asyncio.sleep(script.header_delay_s)
            doc.worker_header = text[: header_end(text)]
        done: dict[int, tuple[Outcome | None, list[dict[str, Any]]]] = {}
        outcomes: list[tuple[Decl, Outcome]] = []
        by_name: dict[str, Outcome] = {}
        diags: list[dict[str, Any]] = []

        def record(start: int, decl: Decl | None, out: Outcome | None, new: list[dict[str, Any]]) -> None:
            done[start] = (out, new)
            diags.extend(new)
            if decl is not None and out is not None:
                outcomes.append((decl, out))
                by_name[decl.full_name] = out
                by_name.setdefault(decl.name, out)

        for cmd in commands:
            if cmd.start in reused and prev is not None:
                record(cmd.start, cmd.decl, *prev.commands[cmd.start])
        everything_reused = bool(reused) and len(reused) == len(commands)
        if not everything_reused:
            self.publish(doc, version, list(diags), False if incremental else None)
        for i, cmd in enumerate(commands):
            if cmd.start in reused:
                continue
            self.progress(doc, version, text, progress_spans(commands, i, len(text)))
            out: Outcome | None = None
            new: list[dict[str, Any]] = []
            if cmd.decl is not None:
                out = self.judge.judge(text, cmd.decl, by_name)
                rule = out.rule or Rule()
                if rule.stderr:
                    print(rule.stderr, file=sys.stderr, flush=True)
                await asyncio.sleep(script.delay_s + rule.delay_s)
                if rule.exit_server:
                    print("fake-lean: INTERNAL PANIC: exiting", file=sys.stderr, flush=True)
                    sys.stdout.buffer.flush()
                    os._exit(3)
                if rule.crash:
                    self.crash(doc)
                    return
                if rule.hang:
                    await asyncio.Event().wait()  # until superseded (cancelled)
                new = [lsp_diagnostic(text, x) for x in out.diags]
            elif cmd.audit_of is not None:
                new = audit_diagnostics(text, cmd, by_name, script.audit_quote)
            record(cmd.start, cmd.decl, out, new)
            # Lean reports each command as it finishes, with or without messages
            self.publish(doc, version, new if incremental else list(diags), True if incremental else None)
        self.progress(doc, version, text, [])
        self.progress(doc, version, text, [])
        if everything_reused:  # Lean reports a version it did not re-elaborate at all after its progress
            self.publish(doc, version, list(diags), False if incremental else None)
        doc.done_version = max(doc.done_version, version)
        doc.finished = Finished(text, self.judge.mtime, done, outcomes)
        self.answer(doc, version)

    def answer(self, doc: Doc, version: int) -> None:
        """Requests waiting for this version: the barrier (-32800 when it was cancelled) and goal requests."""
        for w in [w for w in doc.waiters if w.version <= version]:
            doc.waiters.remove(w)
            self.reply(w.req_id, error=(REQUEST_CANCELLED, "")) if w.cancelled else self.reply(w.req_id, {})
        queued, doc.queued = doc.queued, []
        for q in queued:
            if not q.cancelled:  # Lean never answers a goal request that was cancelled while it waited
                self.reply(q.req_id, goal_at(doc, q.params["position"], term=q.method == "$/lean/plainTermGoal"))


async def amain(args: argparse.Namespace) -> int:
    server = FakeLean(Path(args.script), Path(args.log) if args.log else None)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, server.kill_workers)
    try:
        await server.read_loop()
    finally:
        for doc in server.docs.values():
            if doc.task is not None:
                doc.task.cancel()
        if server.refresher is not None:
            server.refresher.cancel()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--script", required=True)
    parser.add_argument("--log")
    args, _rest = parser.parse_known_args()  # like `lake serve --`, ignore server options (-D...)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        return asyncio.run(amain(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
