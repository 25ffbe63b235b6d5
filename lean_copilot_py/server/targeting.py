"""Which target a command or code action means, from the text alone (never Lean, never the model).

Thin policy over core.targets: "prove" wants the declaration around the cursor, "fill" the sorry under
it, "fill all" every sorry; and after the document changed, the same target in the new text.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..core import targets as core_targets
from ..core.types import Pos, Target, TargetKind, offset_to_pos, pos_to_offset


def declaration_target(path: Path, text: str, pos: Pos) -> Target | None:
    """The declaration at ``pos`` whose proof is missing, `sorry` or incomplete (the whole proof is replaced)."""
    found = core_targets.target_at(path, text, pos)
    if found is not None and found.kind is TargetKind.SORRY:
        # On a sorry inside a longer proof: the declaration around it (asked at its start, off the sorry).
        found = core_targets.target_at(path, text, found.decl_span.start)
    if found is not None and found.kind is TargetKind.DECLARATION:
        return found
    return None


def sorry_target(path: Path, text: str, pos: Pos) -> Target | None:
    """The `sorry` under the cursor. A sorry that is the whole proof is its declaration's target."""
    found = core_targets.target_at(path, text, pos)
    if found is None:
        return None
    if found.kind is TargetKind.SORRY or _word_at(text, pos_to_offset(text, pos)) == "sorry":
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


def decl_text(target: Target) -> str:
    start = pos_to_offset(target.text, target.decl_span.start)
    end = pos_to_offset(target.text, target.decl_span.end)
    return target.text[start:end]


def _proof_offset_in_decl(target: Target) -> tuple[int, int]:
    decl_start = pos_to_offset(target.text, target.decl_span.start)
    return (
        pos_to_offset(target.text, target.proof_span.start) - decl_start,
        pos_to_offset(target.text, target.proof_span.end) - decl_start,
    )


def relocate(target: Target, new_text: str, version: int | None = None) -> Target | None:
    """The same target in ``new_text`` if its declaration's text is unchanged there, else None.

    core.targets is asked first (it also refreshes the namespace-qualified name); when it does not list
    this kind of target, the declaration is found textually and the spans are moved with it.
    """
    old_decl = decl_text(target)
    rel = _proof_offset_in_decl(target)
    old_offset = pos_to_offset(target.text, target.decl_span.start)
    same = [
        t
        for t in core_targets.find_targets(target.path, new_text)
        if t.kind is target.kind and decl_text(t) == old_decl and _proof_offset_in_decl(t) == rel
    ]
    if same:
        best = min(same, key=lambda t: abs(pos_to_offset(new_text, t.decl_span.start) - old_offset))
        return dataclasses.replace(best, version=version)
    hits = _occurrences(new_text, old_decl)
    if not hits:
        return None
    start = min(hits, key=lambda off: abs(off - old_offset))

    def moved(p: Pos) -> Pos:
        return offset_to_pos(new_text, pos_to_offset(target.text, p) - old_offset + start)

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
