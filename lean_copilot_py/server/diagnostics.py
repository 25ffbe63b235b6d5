"""The editor's diagnostics as the core's LeanMessages: what "Repair this proof" is offered from.

They come in a code action's context (lsp.Diagnostic) or, as JSON, in a leanCopilot.repair command's arguments
(what the code action put there, or what an editor plugin collected). Only errors count, and never our own
(source "lean-copilot"): a repair target is a declaration Lean rejects. Positions become document-absolute code
points here, once (positions.py), through the version's LineIndex: a few binary searches per diagnostic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from lsprotocol import types as lsp

from ..core.lines import LineIndex
from ..core.types import LeanMessage, Severity, Span
from .positions import to_core

log = logging.getLogger(__name__)

OUR_SOURCE = "lean-copilot"
MAX_ARGUMENT_DIAGNOSTICS = 10_000  # a command argument is untrusted input: a bound on what one costs


def is_foreign_error(d: lsp.Diagnostic) -> bool:
    # No severity: LSP leaves it to the client; Lean always sets one, so only an explicit error counts.
    return d.severity == lsp.DiagnosticSeverity.Error and d.source != OUR_SOURCE


def editor_errors(diagnostics: Iterable[lsp.Diagnostic], lines: LineIndex) -> list[LeanMessage]:
    """Lean's errors among ``diagnostics`` (UTF-16 positions) as messages on the text of ``lines``."""
    out: list[LeanMessage] = []
    for d in diagnostics:
        if not is_foreign_error(d):
            continue
        start, end = to_core(lines, d.range.start), to_core(lines, d.range.end)
        out.append(LeanMessage(Severity.ERROR, Span(start, max(start, end)), d.message))
    return out


def to_json(d: lsp.Diagnostic) -> dict[str, Any]:
    """The part of a diagnostic a repair command needs back (a code action's argument is plain JSON)."""
    r = d.range
    return {
        "range": {
            "start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character},
        },
        "severity": int(d.severity) if d.severity is not None else None,
        "message": d.message,
        "source": d.source,
    }


def _position(raw: Any) -> lsp.Position:
    return lsp.Position(line=max(0, int(raw["line"])), character=max(0, int(raw["character"])))


def from_json(raw: Any) -> list[lsp.Diagnostic]:
    """Diagnostics from a command argument; malformed entries are skipped (and logged), never fatal."""
    if not isinstance(raw, list):
        return []
    out: list[lsp.Diagnostic] = []
    for item in raw[:MAX_ARGUMENT_DIAGNOSTICS]:
        try:
            rng = item["range"]
            severity = item.get("severity")
            out.append(
                lsp.Diagnostic(
                    range=lsp.Range(start=_position(rng["start"]), end=_position(rng["end"])),
                    message=str(item["message"]),
                    severity=lsp.DiagnosticSeverity(int(severity)) if severity is not None else None,
                    source=str(item["source"]) if item.get("source") is not None else None,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:  # Infinity: json reads it
            log.info("ignoring a malformed diagnostic in a command argument: %s", exc)
    return out


def on_lines(diagnostics: Sequence[lsp.Diagnostic], first: int, last: int) -> list[dict[str, Any]]:
    """The foreign errors starting on lines ``first``..``last``, as JSON (what a repair action carries)."""
    return [to_json(d) for d in diagnostics if is_foreign_error(d) and first <= d.range.start.line <= last]
