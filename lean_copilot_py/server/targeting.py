"""Which target a command or code action means, from the text alone (never Lean, never the model).

Thin policy over core.targets: "prove" wants the declaration around the cursor, "fill" the sorry under
it, "fill all" every sorry; and after the document changed, the same target in the new text.

``o``, where given, is the outline of ``text`` the caller already holds (a document version's index).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..core import targets as core_targets
from ..core.lines import LineIndex
from ..core.outline import Outline, outline
from ..core.types import Pos, Target, TargetKind


def declaration_target(path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None:
    """The declaration at ``pos`` whose proof is missing, `sorry` or incomplete (the whole proof is replaced)."""
    o = o if o is not None else outline(text)
    found = core_targets.target_at(path, text, pos, o=o)
    if found is not None and found.kind is TargetKind.SORRY:
        # On a sorry inside a longer proof: the declaration around it (asked at its start, off the sorry).
        found = core_targets.target_at(path, text, found.decl_span.start, o=o)
    if found is not None and found.kind is TargetKind.DECLARATION:
        return found
    return None


def sorry_target(path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None:
    """The `sorry` under the cursor. A sorry that is the whole proof is its declaration's target."""
    o = o if o is not None else outline(text)
    found = core_targets.target_at(path, text, pos, o=o)
    if found is None:
        return None
    if found.kind is TargetKind.SORRY or _word_at(text, o.lines.offset(pos)) == "sorry":
        return found
    return None


def sorry_targets(path: Path, text: str) -> list[Target]:
    """Every sorry of the file, in text order (whole-proof sorries as DECLARATION targets)."""
    return core_targets.find_targets(path, text)


def _word_at(text: str, offset: int) -> str:
    def ident(ch: str) -> bool:
        return ch.isalnum() or ch in "_'"

    start = offset
    while start > 0 and ident(text[start - 1]):
        start -= 1
    end = offset
    while end < len(text) and ident(text[end]):
        end += 1
    return text[start:end]


def decl_text(target: Target, lines: LineIndex | None = None) -> str:
    """The declaration's text; ``lines``: the LineIndex of ``target.text`` when the caller holds one."""
    lines = lines if lines is not None else LineIndex(target.text)
    return target.text[lines.offset(target.decl_span.start) : lines.offset(target.decl_span.end)]


def _proof_offset_in_decl(target: Target, lines: LineIndex) -> tuple[int, int]:
    decl_start = lines.offset(target.decl_span.start)
    return (
        lines.offset(target.proof_span.start) - decl_start,
        lines.offset(target.proof_span.end) - decl_start,
    )


def relocate(target: Target, new_text: str, version: int | None = None) -> Target | None:
    """The same target in ``new_text`` if its declaration's text is unchanged there, else None.

    core.targets is asked first (it also refreshes the namespace-qualified name); when it does not list
    this kind of target, the declaration is found textually and the spans are moved with it.
    """
    old_lines = LineIndex(target.text)
    old_decl = decl_text(target, old_lines)
    rel = _proof_offset_in_decl(target, old_lines)
    old_offset = old_lines.offset(target.decl_span.start)
    o = outline(new_text)
    new_lines = o.lines
    same = [
        t
        for t in core_targets.find_targets(target.path, new_text, o=o)
        if t.kind is target.kind
        and t.decl_name == target.decl_name  # cheap first: a large file has thousands of targets
        and decl_text(t, new_lines) == old_decl
        and _proof_offset_in_decl(t, new_lines) == rel
    ]
    if same:
        best = min(same, key=lambda t: abs(new_lines.offset(t.decl_span.start) - old_offset))
        return dataclasses.replace(best, version=version)
    hits = _occurrences(new_text, old_decl)
    if not hits:
        return None
    start = min(hits, key=lambda off: abs(off - old_offset))

    def moved(p: Pos) -> Pos:
        return new_lines.pos(old_lines.offset(p) - old_offset + start)

    return dataclasses.replace(
        target,
        text=new_text,
        version=version,
        decl_span=dataclasses.replace(
            target.decl_span, start=moved(target.decl_span.start), end=moved(target.decl_span.end)
        ),
        proof_span=dataclasses.replace(
            target.proof_span, start=moved(target.proof_span.start), end=moved(target.proof_span.end)
        ),
    )


def _occurrences(text: str, needle: str) -> list[int]:
    hits: list[int] = []
    if not needle:
        return hits
    i = text.find(needle)
    while i >= 0:
        hits.append(i)
        i = text.find(needle, i + 1)
    return hits
