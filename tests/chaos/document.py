"""The chaos document and the checks on what happened to it.

Each run opens a fresh document of K theorems, each ending in `sorry`, between comment lines the "user"
types into. Text outside the proof bodies is tracked semantically (``expected``), so after the run we can
say exactly what the document must look like: the user's edits, plus verified proofs in place of `by sorry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types as lsp

from tests.server.conftest import _utf16_offset

SORRY_BODY = " by\n  sorry"
# A theorem: its header up to and including `:=`, then the body up to the blank line that ends it.
DECL_RE = re.compile(r"^(theorem t(\d+) [^\n]*?:=)(.*?)(?=\n\n|\Z)", re.M | re.S)


def original(k: int) -> str:
    # Unicode outside the BMP and tabs on purpose: positions are UTF-16 on the wire.
    parts = ["-- chaos: ℕ → 𝔽 😀\tend\n\n"]
    for i in range(k):
        parts.append(f"-- note {i}\ntheorem t{i} (n : Nat) : n + {i} = {i} + n :={SORRY_BODY}\n\n")
    return "".join(parts)


@dataclass(frozen=True)
class DeclSpan:
    index: int
    header: str  # `theorem tI ... :=`
    start: int  # offset of `theorem`
    body_start: int  # just after `:=`
    body_end: int
    body: str


def decls(text: str) -> dict[int, DeclSpan]:
    out: dict[int, DeclSpan] = {}
    for m in DECL_RE.finditer(text):
        i = int(m.group(2))
        out[i] = DeclSpan(i, m.group(1), m.start(1), m.end(1), m.end(3), m.group(3))
    return out


def skeleton(text: str) -> str:
    """The document with every proof body blanked: what only the user may change."""
    return DECL_RE.sub(lambda m: m.group(1) + "<BODY>", text)


def line_end(text: str, line_prefix: str) -> lsp.Position | None:
    """LSP position (UTF-16) of the end of the first line starting with ``line_prefix``."""
    for n, line in enumerate(text.split("\n")):
        if line.startswith(line_prefix):
            return lsp.Position(n, len(line.encode("utf-16-le")) // 2)
    return None


def edit_offsets(text: str, edit: lsp.TextEdit) -> tuple[int, int]:
    return _utf16_offset(text, edit.range.start), _utf16_offset(text, edit.range.end)


def workspace_edits(edit: lsp.WorkspaceEdit) -> list[tuple[str, list[lsp.TextEdit]]]:
    out: list[tuple[str, list[lsp.TextEdit]]] = []
    for change in edit.document_changes or []:
        assert isinstance(change, lsp.TextDocumentEdit)
        out.append((change.text_document.uri, list(change.edits)))
    for uri, edits in (edit.changes or {}).items():
        out.append((uri, list(edits)))
    return out


def check_applied_edit(before: str, edits: list[lsp.TextEdit]) -> tuple[int, str, str]:
    """An applied proof edit must change exactly one theorem's proof, inside its body (nothing else: our
    model writes no helpers). Returns (theorem index, header, the new body)."""
    assert len(edits) == 1, f"expected one TextEdit, got {edits}"
    a, b = edit_offsets(before, edits[0])
    inside = [d for d in decls(before).values() if d.body_start <= a <= b <= d.body_end]
    assert inside, f"edit [{a}:{b}] {before[a:b]!r} is not inside a theorem's proof body in:\n{before}"
    d = inside[0]
    rel_a, rel_b = a - d.body_start, b - d.body_start
    return d.index, d.header, d.body[:rel_a] + edits[0].new_text + d.body[rel_b:]
