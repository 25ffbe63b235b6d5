#!/usr/bin/env python3
"""A fake `lake serve` speaking Lean 4's LSP dialect, with verdicts scripted by tests.

Run as ``[sys.executable, fake_lean.py, "--script", script.json, ("--log", log.jsonl)]`` (see
``tests/fakes/lean_script.py``: the script format is documented there, with ``fake_lean_command()``).

What it reproduces from the real server (docs/PROTOCOLS.md §1-2; leanprover/lean4 src/Lean/Server):
- Content-Length framing on stdin/stdout, chatter on stderr;
- ``initialize`` with Lean-like capabilities, then a ``client/registerCapability`` request (file watchers)
  after ``initialized`` that the client must answer;
- didOpen (``dependencyBuildMode`` accepted) / didChange (full text or ranges) / didClose; one worker per
  document: imports are elaborated once per worker (``header_delay_s``), again only after a crash or
  an import-header change;
- elaboration per version, command by command, superseded by a newer didChange: ``$/lean/fileProgress``
  while processing and ``processing: []`` at the end, ``textDocument/publishDiagnostics`` sent several
  times per version (``version``, ``range``, ``fullRange``, ``severity``, ``source: "Lean 4"``,
  ``leanTags``): the first list of a version replaces, later ones are ``isIncremental: true`` appends when
  the client declared ``capabilities.lean.incrementalDiagnosticSupport`` (full lists otherwise);
- ``textDocument/waitForDiagnostics`` answered ``{}`` once that version (or a newer one) is elaborated;
- ``$/lean/plainGoal`` / ``$/lean/plainTermGoal`` answered at once from the last *finished* version (so a
  query before the barrier can be stale, as in Lean);
- ``#print axioms X`` -> info at the command's range: ``'X' depends on axioms: [..]`` or
  ``'X' does not depend on any axioms``; ``exact?``/``apply?`` -> ``Try this: ...``;
- ``$/cancelRequest`` (pending waits answer -32800), ``shutdown``/``exit``, crashed workers answering
  -32902 until the next didChange.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lean_script import Rule, Script, load_script

STATEMENT_CHECK = "lean_copilot_statement_check"
WORKER_CRASHED = -32902
WORKER_EXITED = -32901
REQUEST_CANCELLED = -32800
METHOD_NOT_FOUND = -32601
SEVERITIES = {"error": 1, "warning": 2, "info": 3, "information": 3, "hint": 4}

# --- positions --------------------------------------------------------------------------------


def offset_to_lc(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def to_utf16(line: str, col: int) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in line[:col])


def from_utf16(line: str, units: int) -> int:
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def lsp_pos(text: str, offset: int) -> dict[str, int]:
    line, col = offset_to_lc(text, offset)
    lines = text.split("\n")
    return {"line": line, "character": to_utf16(lines[line] if line < len(lines) else "", col)}


def lsp_range(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": lsp_pos(text, start), "end": lsp_pos(text, end)}


def offset_of(text: str, pos: dict[str, int]) -> int:
    lines = text.split("\n")
    line = min(max(pos.get("line", 0), 0), len(lines))
    start = sum(len(ln) + 1 for ln in lines[:line])
    if line >= len(lines):
        return len(text)
    return start + from_utf16(lines[line], pos.get("character", 0))


# --- reading Lean text (just enough structure for scripted answers) -----------------------------

DECL_KEYWORDS = ("theorem", "lemma", "def", "example", "abbrev", "instance", "structure", "inductive", "class")
MODIFIERS = ("private", "protected", "noncomputable", "unsafe", "partial", "nonrec", "@[")
CONTINUATION = ("termination_by", "decreasing_by", "where", "|", "deriving")
DECL_RE = re.compile(
    r"(?:/--.*?-/\s*)?(?:@\[[^\]]*\]\s*)*(?:(?:private|protected|noncomputable|unsafe|partial|nonrec)\s+)*"
    r"(" + "|".join(DECL_KEYWORDS) + r")\b",
    re.S,
)
HEADER_RE = re.compile(r"^\s*(?:(?:public|meta|private)\s+)*(?:import\s|prelude\b|module\b)")


@dataclass
class Decl:
    kind: str
    name: str
    full_name: str
    start: int  # command start (modifiers included)
    end: int  # end of the command's last non-blank character
    keyword: tuple[int, int]
    name_span: tuple[int, int]
    signature: str  # between the name and `:=`
    body_start: int  # just after `:=`, -1 when there is none
    by_span: tuple[int, int] | None


@dataclass
class Command:
    start: int
    end: int
    text: str
    decl: Decl | None = None
    audit_of: str | None = None  # `#print axioms X`
    namespace: str = ""


def header_end(text: str) -> int:
    """Offset just past the import header (leading import / blank / comment lines)."""
    offset, end = 0, 0
    for line in text.split("\n"):
        stripped = line.strip()
        nxt = offset + len(line) + 1
        if HEADER_RE.match(line):
            end = min(nxt, len(text))
        elif stripped and not stripped.startswith("--"):
            break
        offset = nxt
    return end


def _is_command_start(line: str, in_decl: bool) -> bool:
    stripped = line.lstrip()
    if not stripped or stripped.startswith("--"):
        return False
    if line[0] not in " \t":
        return not stripped.startswith(CONTINUATION)
    # Declarations are sometimes indented inside namespaces; tactic lines never start with these words.
    first = stripped.split(None, 1)[0]
    return first in DECL_KEYWORDS or first in MODIFIERS[:-1] or stripped.startswith("@[")


def split_commands(text: str) -> list[Command]:
    start = header_end(text)
    starts: list[int] = []
    offset, in_block = start, False
    for line in text[start:].split("\n"):
        if in_block:
            in_block = "-/" not in line
        elif _is_command_start(line, bool(starts)):
            starts.append(offset)
            in_block = line.lstrip().startswith("/-") and "-/" not in line
        offset += len(line) + 1
    commands: list[Command] = []
    pending: int | None = None  # attributes / doc comments merge into the next command
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[s:e].rstrip()
        # Doc comments (`/--`) and attributes belong to the next command; a module doc (`/-!`) and plain
        # comments stand alone, as in Lean.
        only_prefix = (chunk.startswith("/--") and chunk.endswith("-/")) or re.fullmatch(r"@\[[^\n]*\]", chunk)
        if chunk.startswith("/-") and chunk.endswith("-/") and not only_prefix:
            continue
        if only_prefix:
            pending = s if pending is None else pending
            continue
        s0 = pending if pending is not None else s
        pending = None
        commands.append(Command(s0, s0 + len(text[s0:e].rstrip()), text[s0:e].rstrip()))
    return commands


def _find_top_level_assign(text: str, start: int, end: int) -> int:
    depth = 0
    for i in range(start, end - 1):
        ch = text[i]
        if ch in "([{⦃⟨":
            depth += 1
        elif ch in ")]}⦄⟩":
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return i
    return -1


def parse_decl(text: str, cmd: Command, namespace: str) -> Decl | None:
    m = DECL_RE.match(text, cmd.start)
    if m is None:
        return None
    kind = m.group(1)
    nm = re.compile(r"\s+([^\s(\[{:⦃]+)").match(text, m.end())
    if kind in ("example",) or nm is None or nm.group(1) in (":=",):
        name, name_span, after = "_example" if kind == "example" else "_instance", m.span(1), m.end()
    else:
        name, name_span, after = nm.group(1), nm.span(1), nm.end()
    assign = _find_top_level_assign(text, after, cmd.end)
    body_start = assign + 2 if assign >= 0 else -1
    signature = text[after:assign] if assign >= 0 else text[after : cmd.end]
    by_span = None
    if body_start >= 0:
        bm = re.compile(r"\s*(by)\b").match(text, body_start)
        if bm:
            by_span = bm.span(1)
    if name.startswith("_root_."):
        full = name[len("_root_.") :]
    else:
        full = f"{namespace}.{name}" if namespace else name
    return Decl(kind, name, full, cmd.start, cmd.end, m.span(1), name_span, signature, body_start, by_span)


def analyse(text: str) -> list[Command]:
    namespaces: list[str] = []
    commands = split_commands(text)
    for cmd in commands:
        ns = ".".join(namespaces)
        cmd.namespace = ns
        head = cmd.text.split(None, 2)
        if head[:1] == ["namespace"] and len(head) > 1:
            namespaces.extend(head[1].split("."))
        elif head[:1] == ["end"] and len(head) > 1 and namespaces:
            for _ in head[1].split("."):
                if namespaces:
                    namespaces.pop()
        elif cmd.text.startswith("#print axioms"):
            cmd.audit_of = cmd.text[len("#print axioms") :].strip()
        else:
            cmd.decl = parse_decl(text, cmd, ns)
    return commands


def _split_top(s: str, sep: str) -> int:
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([{⦃⟨":
            depth += 1
        elif ch in ")]}⦄⟩":
            depth -= 1
        elif depth == 0 and ch == sep:
            return i
    return -1


def derive_goal(signature: str) -> str:
    """`(n : Nat) {α} [inst : Foo α] : T` -> "n : Nat\\n...\\n⊢ T" (roughly how Lean prints it)."""
    sig = " ".join(signature.split())
    hyps: list[str] = []
    while sig and sig[0] in "([{⦃":
        close = {"(": ")", "[": "]", "{": "}", "⦃": "⦄"}[sig[0]]
        depth, j = 0, 0
        for i, ch in enumerate(sig):
            depth += ch in "([{⦃"
            depth -= ch in ")]}⦄"
            if depth == 0:
                j = i
                break
        inner = sig[1:j]
        if ":" in inner:
            hyps.append(" ".join(inner.split(":", 1)[0].split()) + " : " + inner.split(":", 1)[1].strip())
        elif close == "]":
            hyps.append(f"inst✝ : {inner.strip()}")
        else:
            hyps.append(f"{inner.strip()} : Sort u_1")
        sig = sig[j + 1 :].strip()
    colon = _split_top(sig, ":")
    target = sig[colon + 1 :].strip() if colon >= 0 else "True"
    return "\n".join([*hyps, f"⊢ {target}"])


# --- the script's verdict for one declaration --------------------------------------------------


@dataclass
class Outcome:
    diags: list[dict[str, Any]]  # (start, end, severity, message, tags) in offsets, turned into LSP later
    had_error: bool
    had_sorry: bool
    goals: list[str]
    closed: bool  # no goals left at the end of the body
    axioms: list[str] | None
    rule: Rule | None


class Judge:
    def __init__(self, script_path: Path) -> None:
        self.path = script_path
        self.mtime = -1
        self.script = Script()
        self.hits: dict[int, int] = {}

    def current(self) -> Script:
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError:
            return self.script
        if mtime != self.mtime:
            try:
                self.script = load_script(self.path)
                self.mtime = mtime
                self.hits = {}
            except (OSError, ValueError, TypeError) as exc:  # half-written by a test: keep the old one
                print(f"fake-lean: bad script {self.path}: {exc}", file=sys.stderr)
        return self.script

    def goal_of(self, d: Decl) -> str:
        return self.script.goals.get(d.full_name) or self.script.goals.get(d.name) or derive_goal(d.signature)

    def pick(self, d: Decl, body: str) -> tuple[Rule | None, re.Match[str] | None]:
        for i, rule in enumerate(self.script.rules):
            if rule.decl is not None and rule.decl not in (d.name, d.full_name):
                continue
            m = None
            if rule.pattern is not None:
                m = re.search(rule.pattern, body, re.M)
                if m is None:
                    continue
            if rule.max_hits is not None and self.hits.get(i, 0) >= rule.max_hits:
                continue
            self.hits[i] = self.hits.get(i, 0) + 1
            return rule, m
        return None, None

    def judge(self, text: str, d: Decl) -> Outcome:
        body_off = d.body_start if d.body_start >= 0 else d.end
        body = text[body_off : d.end]
        rule, m = self.pick(d, body)
        diags: list[dict[str, Any]] = []
        goal = self.goal_of(d)

        def anchor(at: str) -> tuple[int, int]:
            if at == "match" and m is not None:
                return body_off + m.start(), body_off + m.end()
            return {
                "name": d.name_span,
                "keyword": d.keyword,
                "decl": (d.start, d.end),
                "body": (body_off, d.end),
                "by": d.by_span or (body_off, body_off),
            }.get(at, d.name_span)

        def add(start: int, end: int, severity: int | str, message: str, tags: list[int] | None = None) -> None:
            sev = SEVERITIES.get(str(severity).lower(), severity) if isinstance(severity, str) else severity
            diags.append({"start": start, "end": end, "severity": int(sev), "message": message, "tags": tags or []})

        searches = [(mm.start(), mm.group(0)) for mm in re.finditer(r"\b(?:exact|apply)\?", body)]
        closed = True
        if rule is None and searches:
            rule = Rule()
            for pos, tac in searches:
                suggestion = self.script.try_this.get(tac)
                if suggestion:
                    add(body_off + pos, body_off + pos + len(tac), "info", f"Try this: {suggestion}")
                else:
                    add(
                        body_off + pos,
                        body_off + pos + len(tac),
                        "error",
                        f"`{tac}` could not close the goal. Try `apply?` to see partial suggestions.",
                    )
        elif rule is None and d.kind in self.script.default_kinds and not re.search(r"\bsorry\b", body):
            rule = self.script.default
        elif rule is None:
            rule = Rule()
        for diag in rule.diagnostics:
            s, e = anchor(diag.at)
            if diag.length is not None:
                e = s + diag.length
            add(s, e, diag.severity, diag.message, diag.lean_tags)
        goals = rule.goals if rule.goals is not None else [goal]
        if rule.unsolved:
            s, e = anchor("by")
            add(s, e, "error", "unsolved goals\n" + "\n\n".join(goals), [1])
            closed = False
        had_error = any(x["severity"] == 1 for x in diags)
        has_sorry = re.search(r"\bsorry\b", body) is not None
        if has_sorry and not had_error:
            add(*d.name_span, "warning", "declaration uses 'sorry'")
        axioms = rule.axioms
        if axioms is None:
            axioms = ["sorryAx"] if (had_error or has_sorry) else []
        if rule.no_audit:
            axioms = None
        return Outcome(diags, had_error, has_sorry, goals, closed and not had_error, axioms, rule)


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Doc:
    uri: str
    version: int
    text: str
    worker_header: str | None = None  # the header the worker loaded; None = no live worker
    crashed: bool = False
    task: asyncio.Task[None] | None = None
    done_version: int = 0
    finished: dict[str, Any] = field(default_factory=dict)  # last finished version: text + outcomes
    waiters: list[tuple[Any, int]] = field(default_factory=list)


class FakeLean:
    def __init__(self, script_path: Path, log_path: Path | None) -> None:
        self.judge = Judge(script_path)
        self.log_path = log_path
        self.docs: dict[str, Doc] = {}
        self.incremental_client = False
        self.next_id = 0
        self.stopping = asyncio.Event()

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

    # -- dispatch --------------------------------------------------------------------------------

    def dispatch(self, msg: dict[str, Any]) -> None:
        method, req_id, params = msg.get("method"), msg.get("id"), msg.get("params") or {}
        if method is None:
            return  # a response to our registerCapability request
        handler = getattr(self, "on_" + re.sub(r"\W", "_", method), None)
        if handler is None:
            if req_id is not None:
                self.reply(req_id, error=(METHOD_NOT_FOUND, f"unsupported request: {method}"))
            return
        handler(req_id, params)

    def on_initialize(self, req_id: Any, params: dict[str, Any]) -> None:
        lean_caps = (params.get("capabilities") or {}).get("lean") or {}
        self.incremental_client = bool(lean_caps.get("incrementalDiagnosticSupport"))
        print("fake-lean: watchdog started", file=sys.stderr, flush=True)
        self.reply(
            req_id,
            {
                "capabilities": {
                    "textDocumentSync": {"openClose": True, "change": 2, "save": {"includeText": True}},
                    "hoverProvider": True,
                    "completionProvider": {"triggerCharacters": ["."], "resolveProvider": True},
                    "definitionProvider": True,
                    "declarationProvider": True,
                    "typeDefinitionProvider": True,
                    "referencesProvider": True,
                    "documentHighlightProvider": True,
                    "documentSymbolProvider": True,
                    "workspaceSymbolProvider": True,
                    "foldingRangeProvider": True,
                    "codeActionProvider": {"resolveProvider": True},
                    "experimental": {"rpcProvider": {"highlightMatchesProvider": {}}},
                },
                "serverInfo": {"name": "Lean 4 Server", "version": "0.2.0"},
            },
        )

    def on_initialized(self, _id: Any, _params: dict[str, Any]) -> None:
        self.next_id += 1
        self.send(
            {
                "id": f"register_ilean_watcher_{self.next_id}",
                "method": "client/registerCapability",
                "params": {
                    "registrations": [
                        {
                            "id": "ilean_watcher",
                            "method": "workspace/didChangeWatchedFiles",
                            "registerOptions": {"watchers": [{"globPattern": "**/*.ilean"}]},
                        }
                    ]
                },
            }
        )

    def on_shutdown(self, req_id: Any, _params: dict[str, Any]) -> None:
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
        if doc.crashed:  # didChange restarts a crashed worker (the watchdog's contract)
            doc.crashed, doc.worker_header = False, None
        self.start(doc)

    def on_textDocument_didClose(self, _id: Any, params: dict[str, Any]) -> None:
        doc = self.docs.pop(params["textDocument"]["uri"], None)
        if doc is None:
            return
        if doc.task is not None:
            doc.task.cancel()
        for wid, _v in doc.waiters:
            self.reply(wid, error=(WORKER_EXITED, "file closed"))

    def on___cancelRequest(self, _id: Any, params: dict[str, Any]) -> None:
        for doc in self.docs.values():
            for w in list(doc.waiters):
                if w[0] == params.get("id"):
                    doc.waiters.remove(w)
                    self.reply(w[0], error=(REQUEST_CANCELLED, "request cancelled"))

    def crash_error(self, doc: Doc) -> tuple[int, str]:
        return WORKER_CRASHED, f"Server process for {doc.uri} crashed, likely due to a stack overflow or a bug."

    def on_textDocument_waitForDiagnostics(self, req_id: Any, params: dict[str, Any]) -> None:
        doc = self.docs.get(params.get("uri", ""))
        if doc is None:
            self.reply(req_id, error=(-32602, f"document not open: {params.get('uri')}"))
        elif doc.crashed:
            self.reply(req_id, error=self.crash_error(doc))
        elif doc.done_version >= params.get("version", 0):
            self.reply(req_id, {})
        else:
            doc.waiters.append((req_id, params.get("version", 0)))

    def _goal_request(self, req_id: Any, params: dict[str, Any], term: bool) -> None:
        doc = self.docs.get(params["textDocument"]["uri"])
        if doc is None:
            self.reply(req_id, error=(-32602, "document not open"))
            return
        if doc.crashed:
            self.reply(req_id, error=self.crash_error(doc))
            return
        self.reply(req_id, self.goal_at(doc, params["position"], term))

    def on___lean_plainGoal(self, req_id: Any, params: dict[str, Any]) -> None:
        self._goal_request(req_id, params, term=False)

    def on___lean_plainTermGoal(self, req_id: Any, params: dict[str, Any]) -> None:
        self._goal_request(req_id, params, term=True)

    def goal_at(self, doc: Doc, position: dict[str, int], term: bool) -> Any:
        finished = doc.finished
        if not finished:
            return None
        text = finished["text"]
        off = offset_of(text, position)
        for d, out in finished["outcomes"]:
            if d.body_start < 0 or not (d.body_start <= off <= d.end):
                continue
            body = text[d.body_start : d.end]
            at_sorry = any(
                d.body_start + m.start() <= off <= d.body_start + m.end() for m in re.finditer(r"\bsorry\b", body)
            )
            if term:
                if d.by_span is None or at_sorry:
                    goal = out.goals[0] if out.goals else ""
                    return {"goal": goal, "range": lsp_range(text, off, off)}
                return None
            if d.by_span is None:
                return None
            if out.closed and not at_sorry and off >= d.end:
                return {"goals": [], "rendered": "no goals"}
            goals = out.goals
            rendered = "\n---\n".join(f"```lean\n{g}\n```" for g in goals) or "no goals"
            return {"goals": goals, "rendered": rendered}
        return None

    # -- elaboration -----------------------------------------------------------------------------

    def start(self, doc: Doc) -> None:
        if doc.task is not None:
            doc.task.cancel()  # a newer version supersedes the one in flight
        doc.task = asyncio.ensure_future(self.elaborate(doc, doc.version, doc.text))

    def publish(self, doc: Doc, version: int, diags: list[dict[str, Any]], incremental: bool | None) -> None:
        params: dict[str, Any] = {"uri": doc.uri, "version": version, "diagnostics": diags}
        if incremental is not None:
            params["isIncremental"] = incremental
        self.notify("textDocument/publishDiagnostics", params)

    def progress(self, doc: Doc, version: int, text: str, start: int | None, kind: int = 1) -> None:
        processing = [] if start is None else [{"range": lsp_range(text, start, len(text)), "kind": kind}]
        self.notify(
            "$/lean/fileProgress", {"textDocument": {"uri": doc.uri, "version": version}, "processing": processing}
        )

    def lsp_diag(self, text: str, x: dict[str, Any]) -> dict[str, Any]:
        rng = lsp_range(text, x["start"], x["end"])
        out: dict[str, Any] = {
            "range": rng,
            "fullRange": rng,
            "severity": x["severity"],
            "source": "Lean 4",
            "message": x["message"],
        }
        if x["tags"]:
            out["leanTags"] = x["tags"]
        return out

    async def elaborate(self, doc: Doc, version: int, text: str) -> None:
        script = self.judge.current()
        use_incremental = self.incremental_client and script.incremental
        header = text[: header_end(text)]
        self.progress(doc, version, text, 0)
        if doc.worker_header != header:
            print(f"fake-lean: worker for {doc.uri} loading imports", file=sys.stderr, flush=True)
            await asyncio.sleep(script.header_delay_s)
            doc.worker_header = header
        all_diags: list[dict[str, Any]] = []
        sent = 0
        first = True

        def flush() -> None:
            nonlocal sent, first
            if use_incremental and not first:
                self.publish(doc, version, all_diags[sent:], True)
            else:
                self.publish(doc, version, list(all_diags), False if use_incremental else None)
            sent, first = len(all_diags), False

        outcomes: list[tuple[Decl, Outcome]] = []
        by_name: dict[str, Outcome] = {}
        for cmd in analyse(text):
            self.progress(doc, version, text, cmd.start)
            if cmd.decl is not None and cmd.decl.name == STATEMENT_CHECK:
                new = self.statement_check(text, cmd, by_name)
            elif cmd.decl is not None:
                out = self.judge.judge(text, cmd.decl)
                rule = out.rule or Rule()
                if rule.stderr:
                    print(rule.stderr, file=sys.stderr, flush=True)
                await asyncio.sleep(script.delay_s + rule.delay_s)
                if rule.exit_server:
                    print("fake-lean: INTERNAL PANIC: exiting", file=sys.stderr, flush=True)
                    sys.stdout.buffer.flush()
                    os._exit(3)
                if rule.crash:
                    self.crash(doc, version, text)
                    return
                if rule.hang:
                    await asyncio.Event().wait()  # until superseded (cancelled)
                outcomes.append((cmd.decl, out))
                by_name[cmd.decl.full_name] = out
                by_name.setdefault(cmd.decl.name, out)
                new = [self.lsp_diag(text, x) for x in out.diags]
            elif cmd.audit_of is not None:
                new = self.audit(text, cmd, by_name, script)
            else:
                new = []
            if new:
                all_diags.extend(new)
                flush()
        flush()  # the final report of a version (also the only one when nothing was logged)
        self.progress(doc, version, text, None)
        doc.done_version = max(doc.done_version, version)
        doc.finished = {"text": text, "outcomes": outcomes}
        for w in [w for w in doc.waiters if w[1] <= version]:
            doc.waiters.remove(w)
            self.reply(w[0], {})

    # --- lean-copilot's statement check (lean/shadow.py): `theorem lean_copilot_statement_check :
    # type_of% @_lean_copilot_pinned_statement := @target`. Real Lean compares the types; this fake takes
    # the statement as unchanged (the real-Lean tests cover a changed one) and gives the check the
    # target's outcome, so that `#print axioms lean_copilot_statement_check` answers the target's axioms.
    def statement_check(self, text: str, cmd: Command, by_name: dict[str, Outcome]) -> list[dict[str, Any]]:
        m = re.search(r":=\s*@(\S+)\s*$", cmd.text)
        name = m.group(1) if m else ""
        out = by_name.get(name) or by_name.get(f"{cmd.namespace}.{name}" if cmd.namespace else name)
        if out is None:
            diag = {"start": cmd.start, "end": cmd.end, "severity": 1, "message": f"Unknown identifier `{name}`",
                    "tags": []}
            return [self.lsp_diag(text, diag)]
        by_name[STATEMENT_CHECK] = dataclasses.replace(out, diags=[])
        return []

    def audit(self, text: str, cmd: Command, by_name: dict[str, Outcome], script: Script) -> list[dict[str, Any]]:
        name = cmd.audit_of or ""
        out = by_name.get(name) or by_name.get(f"{cmd.namespace}.{name}" if cmd.namespace else name)
        if out is None:
            return [
                self.lsp_diag(
                    text,
                    {
                        "start": cmd.start,
                        "end": cmd.end,
                        "severity": 1,
                        "message": f"unknown constant '{name}'",
                        "tags": [],
                    },
                )
            ]
        if out.axioms is None:
            return []
        q = script.audit_quote
        full = name
        if out.axioms:
            msg = f"{q}{full}{q} depends on axioms: [{', '.join(out.axioms)}]"
        else:
            msg = f"{q}{full}{q} does not depend on any axioms"
        return [self.lsp_diag(text, {"start": cmd.start, "end": cmd.end, "severity": 3, "message": msg, "tags": []})]

    def crash(self, doc: Doc, version: int, text: str) -> None:
        print(
            f"fake-lean: worker for {doc.uri} crashed (Stack overflow detected. Aborting.)", file=sys.stderr, flush=True
        )
        doc.crashed, doc.worker_header = True, None
        err = self.crash_error(doc)
        self.publish(
            doc,
            version,
            [
                {
                    "range": lsp_range(text, 0, 0),
                    "fullRange": lsp_range(text, 0, 0),
                    "severity": 1,
                    "source": "Lean 4",
                    "message": err[1],
                }
            ],
            False if self.incremental_client else None,
        )
        self.progress(doc, version, text, 0, kind=2)
        for wid, _v in doc.waiters:
            self.reply(wid, error=err)
        doc.waiters.clear()


async def amain(args: argparse.Namespace) -> int:
    server = FakeLean(Path(args.script), Path(args.log) if args.log else None)
    try:
        await server.read_loop()
    finally:
        for doc in server.docs.values():
            if doc.task is not None:
                doc.task.cancel()
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
