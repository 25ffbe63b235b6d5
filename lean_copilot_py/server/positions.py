"""LSP positions (UTF-16 columns) <-> core positions (code-point columns).

This is the one place the conversion happens: Lean sources are full of non-BMP characters (mathematical
letters, emoji) that count as two UTF-16 units but one Python character. The server always negotiates
UTF-16 (see app.py), so every position on the wire is UTF-16.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from ..core.lines import LineIndex
from ..core.types import Pos, Span, pos_to_offset

# Every function taking ``text`` also takes the text's LineIndex: then a position costs a binary search
# instead of a scan from the file's start.
Text = str | LineIndex


def _line(text: Text, line: int) -> str:
    if isinstance(text, LineIndex):
        return text.line_text(line)
    start = 0
    for _ in range(line):
        nxt = text.find("\n", start)
        if nxt < 0:
            return ""
        start = nxt + 1
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def utf16_to_cp(line_text: str, character: int) -> int:
    """A UTF-16 column on ``line_text`` -> a code-point column (clamped to the line's end).
    A column pointing into the middle of a surrogate pair lands after the character."""
    if line_text.isascii():
        return max(0, min(character, len(line_text)))
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text)


def cp_to_utf16(line_text: str, col: int) -> int:
    prefix = line_text[: max(0, col)]
    if prefix.isascii():
        return len(prefix)
    return len(prefix) + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


def to_core(text: Text, position: lsp.Position) -> Pos:
    return Pos(position.line, utf16_to_cp(_line(text, position.line), position.character))


def to_lsp(text: Text, pos: Pos) -> lsp.Position:
    return lsp.Position(line=pos.line, character=cp_to_utf16(_line(text, pos.line), pos.col))


def span_to_range(text: Text, span: Span) -> lsp.Range:
    return lsp.Range(start=to_lsp(text, span.start), end=to_lsp(text, span.end))


def offset_of(text: Text, position: lsp.Position) -> int:
    """Code-point offset into ``text`` of an LSP position (clamped like the core's pos_to_offset)."""
    if isinstance(text, LineIndex):
        return text.offset(to_core(text, position))
    return pos_to_offset(text, to_core(text, position))
