"""The editor edit of a verified proof: exactly the proof span (and helpers before the declaration), in the
document's own line endings, so a CRLF buffer gets no bare-LF lines."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate, TargetKind
from lean_copilot_py.server.documents import Document
from lean_copilot_py.server.edits import build_edit

TEXT = "theorem a (n : N) : Eq n n := by\n  sorry\n\ntheorem b : True := by\n  constructor\n  sorry\n"
PROOF = "by\n  induction n with\n  | z => exact Eq.refl _\n  | s k ih => exact Eq.refl _"


def _apply(text: str, edits: list[Any]) -> str:
    lines = text.split("\n")
    starts = [0]
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln) + 1)
    spans = sorted(((starts[e.range.start.line] + e.range.start.character,
                     starts[e.range.end.line] + e.range.end.character, e.new_text) for e in edits), reverse=True)
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_the_edit_uses_the_documents_line_endings(newline: str) -> None:
    text = TEXT.replace("\n", newline)
    doc = Document("file:///p/A.lean", Path("/p/A.lean"), 3, text)
    server = SimpleNamespace(client_capabilities=None)
    by_name = {t.decl_name: t for t in find_targets(doc.path, text)}
    decl, inner = by_name["a"], by_name["b"]
    assert decl.kind is TargetKind.DECLARATION and inner.kind is TargetKind.SORRY
    helpers = "theorem h : True := by\n  trivial"

    edit = build_edit(server, doc, decl, Candidate(PROOF, helpers))  # type: ignore[arg-type]
    new = _apply(text, edit.changes[doc.uri])
    expected = ("theorem h : True := by\n  trivial\n\ntheorem a (n : N) : Eq n n := by\n  induction n with\n"
                "  | z => exact Eq.refl _\n  | s k ih => exact Eq.refl _\n\ntheorem b").replace("\n", newline)
    assert new.startswith(expected)
    assert new.count("\n") == new.count(newline)  # CRLF: no bare LF anywhere

    edit = build_edit(server, doc, inner, Candidate("exact True.intro\nall_goals trivial"))  # type: ignore[arg-type]
    new = _apply(text, edit.changes[doc.uri])
    assert new.endswith(f"  constructor{newline}  exact True.intro{newline}  all_goals trivial{newline}")
    assert new.count("\n") == new.count(newline)
