"""The other reading of a `"…"` literal: as an interpolated string, the way Lean's `interpolatedStrFn`
(``leanprover/lean4: src/Lean/Parser/StrInterpolation.lean``) reads it when the syntax before it asks for
one: text pieces (where `\\{` is an escape too) and `{…}` holes whose contents are a term, lexed as code,
up to the `}` that closes them. Strings inside holes are read both ways again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexer import Kind, Token, escape_end, next_token

_INTERP_BODY = re.compile(r'[^"\\{]*')

MAX_NESTING = 24  # strings inside `{…}` inside strings…: deeper than this is refused, not read


@dataclass
class InterpReading:
    """A `"…"` literal read as Lean's `interpolatedStrFn` reads it: text pieces and `{…}` holes whose
    contents are lexed as code (strings inside them read both ways again)."""

    end: int
    error: str = ""
    error_at: int = -1
    holes: list[Token] = field(default_factory=list)  # every token inside every hole, nested ones too
    pieces: list[tuple[int, int]] = field(default_factory=list)  # the literal text between the holes
    disagreements: list[int] = field(default_factory=list)  # nested literals whose two readings differ


class InterpReader:
    """Reads literals as interpolated strings, each start offset once (nested literals are shared by the
    readings of the literals around them), within a budget of lexed tokens."""

    def __init__(self, text: str, budget: int = 1_000_000) -> None:
        self.text = text
        self.budget = budget
        self.exhausted = False
        self._memo: dict[int, InterpReading] = {}

    def read(self, i: int, depth: int = 0) -> InterpReading:
        """``text[i]`` is `"`. Never raises; an error in either reading of a nested literal is recorded."""
        done = self._memo.get(i)
        if done is None:
            done = self._memo[i] = self._read(i, depth)
        return done

    def _read(self, i: int, depth: int) -> InterpReading:
        text = self.text
        n = len(text)
        out = InterpReading(end=n)
        j, piece = i + 1, i
        while True:
            j = _INTERP_BODY.match(text, j).end()  # type: ignore[union-attr]
            if j >= n:
                out.pieces.append((piece, n))
                out.error, out.error_at = "unterminated string literal", n
                return out
            c = text[j]
            if c == '"':
                out.pieces.append((piece, j + 1))
                out.end = j + 1
                return out
            if c == "\\":
                nxt, bad = escape_end(text, j, interpolated=True, in_string=True)
                if bad >= 0:
                    out.pieces.append((piece, min(bad, n)))
                    out.error, out.error_at = "invalid escape sequence in an interpolated string", bad
                    return out
                j = nxt
                continue
            # `{`: a term follows, up to the `}` that closes it
            out.pieces.append((piece, j + 1))
            close = self._hole(j + 1, depth, out)
            if close < 0:
                return out
            j = piece = close
            j += 1

    def _hole(self, pos: int, depth: int, out: InterpReading) -> int:
        """Lex code from ``pos`` to the `}` closing the hole; returns that offset, or -1 (``out.error`` set)."""
        text = self.text
        n = len(text)
        if depth >= MAX_NESTING:
            out.error, out.error_at = "strings nested too deeply inside `{…}`", pos
            return -1
        braces = 0
        while pos < n:
            if self.budget <= 0:
                self.exhausted = True
                out.error, out.error_at = "too many interpolated strings to read", pos
                return -1
            self.budget -= 1
            tok = next_token(text, pos)
            if tok.kind is Kind.SYMBOL and tok.text == "}" and braces == 0:
                return tok.start
            if tok.kind is Kind.SYMBOL and tok.text == "{":
                braces += 1
            elif tok.kind is Kind.SYMBOL and tok.text == "}":
                braces -= 1
            out.holes.append(tok)
            if tok.kind is Kind.STRING and tok.text.startswith('"') and not tok.error and "{" in tok.text:
                inner = self.read(tok.start, depth + 1)
                if inner.end != tok.end or inner.error:
                    out.disagreements.append(tok.start)
                else:
                    out.holes.extend(inner.holes)
                    out.disagreements.extend(inner.disagreements)
            if tok.error:
                out.error, out.error_at = tok.error, tok.error_pos
                return -1
            pos = tok.end
        out.error, out.error_at = "unterminated `{` in an interpolated string", n
        return -1


def interpolated_reading(text: str, i: int) -> InterpReading:
    """``text[i]`` is `"`: the literal read as an interpolated string. Never raises."""
    return InterpReader(text).read(i)
