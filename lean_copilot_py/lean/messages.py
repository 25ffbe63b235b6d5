"""Reading Lean's diagnostics: raw LSP dicts (codepoint columns, as leanclient hands them over) to
LeanMessage, goals out of `unsolved goals` errors, and the texts the checker must recognise.

Plain Python: no leanclient here, so the rules are testable on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.types import LeanMessage, Pos, Severity, Span

UNSOLVED_GOALS_TAG = 1
_SORRY_RE = re.compile(r"^declaration uses ['`]sorry['`]", re.I)
_UNSOLVED_RE = re.compile(r"^unsolved goals\b", re.I)
_TRY_THIS_RE = re.compile(r"^try this\b", re.I)


def raw_span(diag: Mapping[str, Any]) -> Span | None:
    """The diagnostic's range (``fullRange`` preferred: it covers the whole offending syntax)."""
    rng = diag.get("fullRange") or diag.get("range")
    if not rng:
        return None
    start, end = rng.get("start", {}), rng.get("end", {})
    return Span(Pos(start.get("line", 0), start.get("character", 0)), Pos(end.get("line", 0), end.get("character", 0)))


def start_of(diag: Mapping[str, Any]) -> Pos | None:
    """Where the diagnostic begins (``range``: the position Lean reports the message at)."""
    rng = diag.get("range") or diag.get("fullRange")
    if not rng:
        return None
    start = rng.get("start", {})
    return Pos(start.get("line", 0), start.get("character", 0))


def severity_of(diag: Mapping[str, Any]) -> Severity:
    try:
        return Severity(int(diag.get("severity") or 1))
    except ValueError:
        return Severity.ERROR


def is_unsolved_goals(diag: Mapping[str, Any]) -> bool:
    """leanTags first (Lean's structured marker); the text only for servers that send no tags."""
    tags = diag.get("leanTags") or []
    if UNSOLVED_GOALS_TAG in tags:
        return True
    return not tags and _UNSOLVED_RE.match(str(diag.get("message", ""))) is not None


def is_sorry_warning(message: LeanMessage) -> bool:
    return message.severity is Severity.WARNING and _SORRY_RE.match(message.text) is not None


def is_try_this(message: LeanMessage) -> bool:
    return message.severity is not Severity.ERROR and _TRY_THIS_RE.match(message.text) is not None


def relative_pos(pos: Pos, origin: Pos) -> Pos:
    """``pos`` in coordinates whose (0, 0) is ``origin`` (the snippet's first character)."""
    if pos.line == origin.line:
        return Pos(0, max(0, pos.col - origin.col))
    return Pos(pos.line - origin.line, pos.col)


def to_message(diag: Mapping[str, Any], origin: Pos = Pos(0, 0)) -> LeanMessage:  # noqa: B008 (frozen)
    span = raw_span(diag) or Span(origin, origin)
    rel = Span(relative_pos(span.start, origin), relative_pos(span.end, origin))
    return LeanMessage(
        severity=severity_of(diag),
        span=rel,
        text=str(diag.get("message", "")),
        unsolved_goals=is_unsolved_goals(diag),
    )


def goals_from_unsolved(text: str) -> list[str]:
    """`unsolved goals\\n<g1>\\n\\n<g2>` -> [g1, g2]. Goals never contain blank lines, Lean separates them
    with exactly one."""
    _, _, rest = text.partition("\n")
    return [g.strip("\n") for g in re.split(r"\n\s*\n", rest) if g.strip()]


def open_goals(messages: Iterable[LeanMessage]) -> tuple[str, ...]:
    goals: list[str] = []
    for m in messages:
        if m.unsolved_goals and m.severity is Severity.ERROR:
            goals.extend(goals_from_unsolved(m.text))
    return tuple(goals)


def first_line(text: str, limit: int = 160) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
