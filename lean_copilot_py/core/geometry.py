"""Where a target's parts are in its text, and where the same target is after the text changed.

Text only (no Lean): where Lean is asked for the goal (``proof_start``), where a human looks for the target
(``location``), the declaration's own text, and ``relocate``, which follows a target into an edited text
when its declaration is unchanged there (the editor applies a proof only then, after checking it again).
"""

from __future__ import annotations

import dataclasses

from .lines import LineIndex
from .outline import outline
from .targets import find_targets
from .types import Pos, Target, TargetKind, offset_to_pos, pos_to_offset


def proof_start(target: Target) -> Pos:
    """Where the goal of a target is read: after `by` (at the first tactic) when the proof is a tactic
    block, else the start of the replaced span."""
    text = target.text
    start = pos_to_offset(text, target.proof_span.start)
    end = pos_to_offset(text, target.proof_span.end)
    body = text[start:end]
    stripped = body.lstrip()
    if target.kind is TargetKind.DECLARATION and stripped.startswith("by") and stripped[2:3] in ("", " ", "\n"):
        off = start + (len(body) - len(stripped)) + 2
        rest = text[off:end]
        off += len(rest) - len(rest.lstrip())  # the first tactic, if any
        return offset_to_pos(text, off)
    return target.proof_span.start


def location(target: Target) -> Pos:
    """Where a human looks for the target: the `sorry` token itself when the proof span holds one
    (a DECLARATION's span starts right after `:=`, often a line above its `sorry`)."""
    start = pos_to_offset(target.text, target.proof_span.start)
    end = pos_to_offset(target.text, target.proof_span.end)
    hit = target.text.find("sorry", start, end)
    off = hit if hit >= 0 else start
    line = target.text.count("\n", 0, off)
    return Pos(line, off - (target.text.rfind("\n", 0, off) + 1))


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
        for t in find_targets(target.path, new_text, o=o)
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
