"""Every way Lean could read a piece of text as code, not only the straight one.

Screening must see what Lean will elaborate, and two things make that more than one token stream:

1. *Interpolated strings.* Whether `"…{…}…"` is a plain literal or an interpolated one depends on the syntax
   before it (`s!`, `dbg_trace`, `throwError`, any user syntax using `interpolatedStr`), which no list can
   know. So every literal containing `{` is read both ways (core/interpolation.py); when the two
   readings end in different places, no screen can know where Lean's code resumes and the text is
   refused; when they agree, the holes are code in one reading and get screened as code.
2. *Parse-error recovery.* After a parse error Lean's `parseCommand` (src/Lean/Parser/Module.lean) resumes
   at the position of the error and, when that makes no progress, one token (or, when the token itself
   is malformed, one character) later. A lexical error inside a literal (a bad escape, an unterminated
   string, `1.5e`) therefore makes Lean read the rest of the literal as commands, and an error inside a
   `{…}` hole makes it read the rest of the string as code. Measured on Lean 4.35: `"\\q #print Eq"` runs
   `#print Eq`. Each such resumption point starts another token stream, followed until it falls back
   into step with the straight one.

A straight stream without lexical errors, ambiguous literals or holes has no other readings, which is
why this costs nothing for ordinary proofs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .interpolation import InterpReader
from .lexer import COMMENTS, Kind, Token, next_token, tokenize

# A comment right after one of these might really be part of a longer operator token that Lean's token
# table has and we don't (`//-`, `<--`): then Lean reads on as code where we saw a comment.
OP_CHARS = frozenset("<>-=!+*&|^%$@~:?\\/.#")
_STEP_BUDGET = 200_000  # tokens lexed along recovery streams; beyond it the text is refused, not read


@dataclass
class Ambiguity:
    offset: int
    message: str


@dataclass
class CodeView:
    """``tokens``: the straight reading (tiles the text). ``holes``: for each literal (by start offset)
    whose two readings agree, the code inside its holes. ``streams``: tokens of the other readings Lean
    could reach after a parse error. ``ambiguities``: places no single reading can be trusted."""

    tokens: list[Token]
    holes: dict[int, list[Token]] = field(default_factory=dict)
    streams: list[list[Token]] = field(default_factory=list)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    complete: bool = True  # False when the step budget ran out before every reading was followed


def _may_interpolate(tok: Token) -> bool:
    return tok.kind is Kind.STRING and tok.text.startswith('"') and "{" in tok.text and not tok.error


class _Explorer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.view = CodeView(tokenize(text))
        self.straight = {t.start for t in self.view.tokens}
        self.straight.add(len(text))
        self.visited: set[int] = set()
        self.starts: list[int] = []
        self.steps = 0
        self.reader = InterpReader(text, budget=_STEP_BUDGET)

    def resumptions(self, tok: Token, *, straight: bool) -> list[Token]:
        """Queue the places Lean may resume reading at because of ``tok``; return the code inside its
        holes (empty when there is none, or when the two readings disagree)."""
        if tok.error:
            self.starts.extend((tok.error_pos, tok.start + 1))
        elif tok.kind is Kind.SYMBOL and tok.end - tok.start > 1:
            # A token the user's token table may lack (`''` is Mathlib's, not Lean's): then Lean fails on it
            # and resumes one character later.
            self.starts.append(tok.start + 1)
        if tok.kind in COMMENTS and tok.start > 0 and self.text[tok.start - 1] in OP_CHARS:
            self.starts.append(tok.start + 1)
        if not _may_interpolate(tok):
            return []
        reading = self.reader.read(tok.start)
        if self.reader.exhausted:
            self.view.complete = False
        for h in reading.holes:
            if not h.trivia:
                self.starts.append(h.start)  # an error in the hole resumes there, in code
            if h.error:
                self.starts.extend((h.error_pos, h.start + 1))
        if reading.error:
            self.starts.append(reading.error_at)
        agree = reading.end == tok.end and not reading.error and not reading.disagreements
        if agree:
            return reading.holes
        if not reading.error:
            self.starts.append(reading.end)  # where code resumes if Lean takes the interpolated reading
        if straight:
            where = reading.error_at if reading.error else reading.end
            self.view.ambiguities.append(
                Ambiguity(
                    tok.start,
                    "this string literal reads differently as a plain and as an interpolated string "
                    f"(plain: ends at offset {tok.end}, interpolated: "
                    f"{reading.error or 'ends'} at offset {where}), so where Lean's code resumes depends "
                    "on syntax no screen can know; write the string without `{`, or balance its braces",
                )
            )
        return reading.holes

    def run(self) -> CodeView:
        for tok in self.view.tokens:
            holes = self.resumptions(tok, straight=True)
            if holes:
                self.view.holes[tok.start] = holes
        n = len(self.text)
        while self.starts:
            pos = self.starts.pop()
            stream: list[Token] = []
            while pos < n and pos not in self.straight and pos not in self.visited:
                if self.steps >= _STEP_BUDGET:
                    self.view.complete = False
                    return self.view
                self.visited.add(pos)
                self.steps += 1
                tok = next_token(self.text, pos)
                stream.append(tok)
                stream.extend(self.resumptions(tok, straight=False))
                pos = tok.end
            if stream:
                self.view.streams.append(stream)
        return self.view


def code_view(text: str) -> CodeView:
    """Every reading of ``text`` Lean could elaborate (see the module docstring). Never raises."""
    return _Explorer(text).run()
