"""One document of the fake Lean server (fake_lean.py): its worker's state, the requests waiting
on it, and what its elaboration sends, in the shapes real Lean 4.35 sends them (docs/PROTOCOLS.md §1, the
"Measured on a real Lean 4.35.0 server" paragraph; tests/lean/test_fake_matches_real.py compares the two)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from .lean_judge import Outcome
from .lean_text import Command, Decl, lsp_range, offset_of, term_span

WORKER_CRASHED = -32902
CONTENT_MODIFIED = -32801
REQUEST_CANCELLED = -32800
FORMAT_WIDTH = 120  # Lean's pretty-printer width: a longer `#print axioms` list is printed one axiom per line
UNKNOWN_IDENTIFIER = "lean.unknownIdentifier"

CAPABILITIES = {  # Lean 4.35's keys; the values the fake's clients read are Lean's too
    "callHierarchyProvider": True,
    "codeActionProvider": {"codeActionKinds": ["quickfix", "refactor", "source.organizeImports"],
                           "resolveProvider": True, "workDoneProgress": False},
    "colorProvider": {"workDoneProgress": False},
    "completionProvider": {"resolveProvider": True, "triggerCharacters": ["."]},
    "declarationProvider": True,
    "definitionProvider": True,
    "documentHighlightProvider": True,
    "documentSymbolProvider": True,
    "experimental": {"moduleHierarchyProvider": {}, "rpcProvider": {"highlightMatchesProvider": {},
                                                                    "rpcWireFormat": "v1"}},
    "foldingRangeProvider": True,
    "hoverProvider": True,
    "inlayHintProvider": {"resolveProvider": False, "workDoneProgress": False},
    "referencesProvider": True,
    "renameProvider": {"prepareProvider": True},
    "semanticTokensProvider": {"full": True, "legend": {"tokenModifiers": [], "tokenTypes": []}, "range": True},
    "signatureHelpProvider": {"triggerCharacters": [" "], "workDoneProgress": False},
    "textDocumentSync": {"change": 2, "openClose": True, "save": {"includeText": True}, "willSave": False,
                         "willSaveWaitUntil": False},
    "typeDefinitionProvider": True,
    "workspaceSymbolProvider": True,
}


@dataclass
class Pending:
    """A request Lean has not answered yet."""

    req_id: Any
    method: str
    params: dict[str, Any]
    version: int = 0  # waitForDiagnostics: the version waited for
    cancelled: bool = False  # `$/cancelRequest` came: answered -32800 when it would have been answered


@dataclass
class Finished:
    """The last version the worker elaborated to the end: what a later version may reuse, and goals."""

    text: str
    script_mtime: int
    commands: dict[int, tuple[Outcome | None, list[dict[str, Any]]]]  # by start offset: outcome, LSP diagnostics
    outcomes: list[tuple[Decl, Outcome]]


@dataclass
class Doc:
    uri: str
    version: int
    text: str
    worker_header: str | None = None  # the import header the live worker loaded; None: no live worker
    crashed: bool = False  # the worker died: requests queue unanswered until a didChange starts a new one
    task: asyncio.Task[None] | None = None
    done_version: int = 0
    finished: Finished | None = None
    waiters: list[Pending] = field(default_factory=list)  # textDocument/waitForDiagnostics
    queued: list[Pending] = field(default_factory=list)  # goal requests: answered from the next finished version

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def pending(self) -> list[Pending]:
        return [*self.waiters, *self.queued]

    def find(self, req_id: Any) -> Pending | None:
        return next((p for p in self.pending() if p.req_id == req_id), None)


def crash_error(uri: str) -> tuple[int, str]:
    return WORKER_CRASHED, f"Server process for {uri} crashed, likely due to a stack overflow or a bug."


def closed_file_error(uri: str) -> tuple[int, str]:
    return CONTENT_MODIFIED, f"Cannot process request to closed file '{uri}'"


def terminated_error(uri: str) -> tuple[int, str]:
    return CONTENT_MODIFIED, f"The file worker for {uri} has been terminated."


def reusable(prev: Finished | None, text: str, commands: list[Command], script_mtime: int) -> set[int]:
    """Start offsets of the commands a new version reuses: Lean re-elaborates from the first changed command
    to the end, and keeps every command before it (with its messages). Nothing is reused by a new worker, or
    when the test rewrote the script (the fake would otherwise keep answers the test has just changed)."""
    if prev is None or prev.script_mtime != script_mtime:
        return set()
    same = 0
    limit = min(len(prev.text), len(text))
    while same < limit and prev.text[same] == text[same]:
        same += 1
    identical = same == len(text) == len(prev.text)
    return {c.start for c in commands if (identical or c.end < same) and c.start in prev.commands}


def progress_spans(commands: list[Command], i: int, text_len: int) -> list[tuple[int, int]]:
    """What `$/lean/fileProgress` lists while command ``i`` elaborates: the command, everything after it, and
    a zero-width span where the previous command's snapshot is still being reported (Lean sends several
    spans, some zero-width, never a single "from here to the end")."""
    spans = [(commands[i - 1].start, commands[i - 1].start)] if i > 0 else []
    spans.append((commands[i].start, commands[i].end))
    if i + 1 < len(commands):
        spans.append((commands[i + 1].start, text_len))
    return spans


def lean_name_key(name: str) -> tuple[int, list[str]]:
    """Lean's `Name.lt` order, in which `#print axioms` lists axioms: fewer components first, then by
    component (so `propext` < `user_ax` < `Classical.choice` < `Quot.sound`)."""
    parts = name.split(".")
    return len(parts), parts


def axioms_message(name: str, axioms: list[str], quote: str = "'") -> str:
    if not axioms:
        return f"{quote}{name}{quote} does not depend on any axioms"
    ordered = sorted(axioms, key=lean_name_key)
    flat = f"{quote}{name}{quote} depends on axioms: [{', '.join(ordered)}]"
    if len(flat) <= FORMAT_WIDTH:
        return flat
    wrapped = ",\n ".join(ordered)
    return f"{quote}{name}{quote} depends on axioms: [{wrapped}]"


def lsp_diagnostic(text: str, x: dict[str, Any]) -> dict[str, Any]:
    """A diagnostic as Lean 4.35 sends it: `range` and `fullRange`, `code` when Lean has one, `leanTags`."""
    rng = lsp_range(text, x["start"], x["end"])
    out: dict[str, Any] = {
        "range": rng,
        "fullRange": rng,
        "severity": x["severity"],
        "source": "Lean 4",
        "message": x["message"],
    }
    if x.get("code"):
        out["code"] = x["code"]
    if x.get("tags"):
        out["leanTags"] = x["tags"]
    return out


def audit_diagnostics(
    text: str, cmd: Command, by_name: dict[str, Outcome], quote: str
) -> list[dict[str, Any]]:
    """`#print axioms X`: the answer is an info on the `#print` token; an unknown X an error at the name."""
    name = cmd.audit_of or ""
    out = by_name.get(name) or by_name.get(f"{cmd.namespace}.{name}" if cmd.namespace else name)
    if out is None:
        at = cmd.start + cmd.text.find(name, len("#print axioms"))
        x = {"start": at, "end": at + len(name), "severity": 1, "message": f"Unknown constant `{name}`",
             "code": UNKNOWN_IDENTIFIER}
        return [lsp_diagnostic(text, x)]
    if out.axioms is None:
        return []
    x = {"start": cmd.start, "end": cmd.start + len("#print"), "severity": 3,
         "message": axioms_message(name, out.axioms, quote)}
    return [lsp_diagnostic(text, x)]


def goal_at(doc: Doc, position: dict[str, int], term: bool) -> Any:
    """`$/lean/plainGoal` / `$/lean/plainTermGoal` from the last finished version."""
    if doc.finished is None:
        return None
    text = doc.finished.text
    off = offset_of(text, position)
    for d, out in doc.finished.outcomes:
        if d.body_start < 0 or not (d.body_start <= off <= d.end):
            continue
        body = text[d.body_start : d.end]
        at_sorry = any(
            d.body_start + m.start() <= off <= d.body_start + m.end() for m in re.finditer(r"\bsorry\b", body)
        )
        if term:
            if d.by_span is None or at_sorry:
                goal = out.goals[0] if out.goals else ""
                return {"goal": goal, "range": lsp_range(text, *term_span(text, off))}
            return None
        if d.by_span is None:
            return None
        if out.closed and not at_sorry and off >= d.end:
            return {"goals": [], "rendered": "no goals"}
        goals = out.goals
        rendered = "\n---\n".join(f"```lean\n{g}\n```" for g in goals) or "no goals"
        return {"goals": goals, "rendered": rendered}
    return None
