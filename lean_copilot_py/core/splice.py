"""Putting a candidate into a target's text: the exact replacement for ``proof_span`` and the
declaration as Lean will check it. The checker and the editor edit use the same functions, so what is
applied is what was checked."""

from __future__ import annotations

from .types import Candidate, Target, TargetKind, pos_to_offset


def line_ending(target: Target) -> str:
    """The line ending of the text around the target ("\r\n" in a CRLF file): what inserted lines use, so
    that a proof does not put bare-LF lines into a CRLF file."""
    text = target.text
    at = pos_to_offset(text, target.decl_span.start)
    nl = text.find("\n", at)
    if nl < 0:
        nl = text.rfind("\n", 0, at)
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"


def helper_block(candidate: Candidate) -> str:
    """The candidate's helper declarations as one block: LF line endings, no blank lines around it."""
    return candidate.helpers.replace("\r\n", "\n").strip("\n")


def helpers_text(target: Target, candidate: Candidate) -> str:
    """The candidate's helper declarations as inserted before the target (with the blank line after them), in
    the file's line endings, or "" when there are none. The checked document (lean/shadow.py) holds exactly
    this text before the declaration, so what is written is byte for byte what Lean checked."""
    helpers = helper_block(candidate)
    if not helpers:
        return ""
    nl = line_ending(target)
    return (helpers + "\n\n").replace("\n", nl)


def _dedent_tail(lines: list[str]) -> list[str]:
    """Remove the common indentation of every line after the first (blank lines ignored)."""
    tail = [ln for ln in lines[1:] if ln.strip()]
    if not tail:
        return [ln.rstrip() for ln in lines]
    common = min(len(ln) - len(ln.lstrip(" ")) for ln in tail)
    return [lines[0].rstrip()] + [ln[common:].rstrip() if ln.strip() else "" for ln in lines[1:]]


def replacement_text(target: Target, candidate: Candidate) -> str:
    """The text that replaces ``target.proof_span``, re-indented for where it lands.

    DECLARATION: the proof after `:=` (``by ...`` or a term); continuation lines are indented two columns
    past the declaration keyword, keeping their relative structure. SORRY / CURSOR: continuation lines
    align with the replaced token's column, as Lean's tactic blocks require. Lines end as the file's do.
    """
    nl = line_ending(target)
    proof = candidate.proof.strip("\n").replace("\r\n", "\n").replace("\t", "  ")
    lines = _dedent_tail(proof.split("\n"))
    if target.kind is TargetKind.DECLARATION:
        first = lines[0].lstrip()
        base = target.indent + 2
        # A tactic block whose first line is only `by` keeps every tactic at the same base column.
        body = [first] + [(" " * base + ln) if ln else "" for ln in lines[1:]]
        return " " + nl.join(body)
    base = target.proof_span.start.col
    body = [lines[0].lstrip()] + [(" " * base + ln) if ln else "" for ln in lines[1:]]
    return nl.join(body)


def declaration_text(target: Target, candidate: Candidate) -> str:
    """The target declaration with the candidate in place of ``proof_span`` (original header kept)."""
    decl_start = pos_to_offset(target.text, target.decl_span.start)
    decl_end = pos_to_offset(target.text, target.decl_span.end)
    start = pos_to_offset(target.text, target.proof_span.start)
    end = pos_to_offset(target.text, target.proof_span.end)
    text = target.text
    return text[decl_start:start] + replacement_text(target, candidate) + text[end:decl_end]


def spliced_document(target: Target, candidate: Candidate) -> str:
    """The whole document with the candidate applied (helpers go right before the declaration)."""
    text = target.text
    decl_start = pos_to_offset(text, target.decl_span.start)
    decl_end = pos_to_offset(text, target.decl_span.end)
    before = text[:decl_start] + helpers_text(target, candidate)
    return before + declaration_text(target, candidate) + text[decl_end:]
