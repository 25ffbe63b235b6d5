"""A lossless tokenizer for Lean 4 source, following the lexical rules of
``leanprover/lean4: src/Lean/Parser/Basic.lean`` (identifiers, nested comments, strings, raw strings, chars,
numbers) closely enough that screening can trust it: anything Lean reads as code we read as code.

Tokens tile the input: ``"".join(t.text for t in tokenize(s)) == s`` for every ``s``, and offsets are
code-point offsets. The lexer never raises; malformed input yields tokens carrying ``error``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import NamedTuple


class Kind(enum.StrEnum):
    WHITESPACE = "whitespace"
    LINE_COMMENT = "line_comment"  # `-- ...` up to (not including) the newline
    BLOCK_COMMENT = "block_comment"  # `/- ... -/`, nested
    DOC_COMMENT = "doc_comment"  # `/-- ... -/`
    MODULE_DOC = "module_doc"  # `/-! ... -/`
    IDENT = "ident"  # `foo`, `Nat.succ`, `h'`, `x₁`, `«weird name».b`, `exact?`
    KEYWORD = "keyword"  # an identifier-shaped token Lean reserves (`theorem`, `by`, `sorry`, ...)
    COMMAND = "command"  # `#eval`, `#check`, `#print`, ...
    NUMBER = "number"
    STRING = "string"  # "...", r#"..."#, and the pieces of an interpolated string
    CHAR = "char"
    NAME_LIT = "name_lit"  # `` `foo `` / ``` ``foo ```
    ATTR_OPEN = "attr_open"  # `@[`
    SYMBOL = "symbol"


TRIVIA = frozenset({Kind.WHITESPACE, Kind.LINE_COMMENT, Kind.BLOCK_COMMENT})
COMMENTS = frozenset({Kind.LINE_COMMENT, Kind.BLOCK_COMMENT, Kind.DOC_COMMENT, Kind.MODULE_DOC})


class Token(NamedTuple):
    # A NamedTuple rather than a dataclass: a 2000-line file has ~20k tokens and creation cost dominates.
    kind: Kind
    start: int  # code-point offset, inclusive
    end: int  # exclusive
    text: str
    error: str = ""  # non-empty: Lean would reject this (unterminated comment/string, bad char literal, ...)

    @property
    def trivia(self) -> bool:
        return self.kind in TRIVIA

    @property
    def name(self) -> str:
        """For identifiers: the name with `«»` escapes removed (`«a.b».c` -> `a.b.c`)."""
        return self.text.replace("«", "").replace("»", "") if "«" in self.text else self.text


KEYWORDS = frozenset(
    """
    theorem lemma def example instance abbrev structure inductive class axiom opaque namespace section end open
    variable universe universes import export set_option attribute mutual private protected noncomputable
    partial unsafe nonrec scoped local macro macro_rules syntax elab elab_rules notation infix infixl infixr
    prefix postfix initialize builtin_initialize deriving where extends fun λ by have show from let calc match
    with at if then else do return sorry admit in termination_by decreasing_by run_cmd run_elab run_meta
    run_tac by_elab declare_syntax_cat omit include Type Sort Prop
    """.split()
)

# Lean's `isLetterLike` (plus the Latin-1/Latin Extended-A letters newer Lean accepts) and `isSubScriptAlnum`.
_LETTER = (
    "A-Za-z_\u03b1-\u03ba\u03bc-\u03c9\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9\u03ca-\u03fb\u1f00-\u1ffe"
    "\u2100-\u214f\U0001d49c-\U0001d59f\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u017f"
)
_SUB = "\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a\u2c7c"
_PART = rf"(?:«[^»]*»|[{_LETTER}][{_LETTER}0-9'!?{_SUB}]*)"
_IDENT = rf"{_PART}(?:\.{_PART})*"

# Multi-character symbols worth keeping whole (longest first). Everything else is one code point.
_SYMBOLS = [
    "<;>",
    "<->",
    "...",
    ">>=",
    "<|>",
    "|>.",
    ":=",
    "::",
    "=>",
    "->",
    "<-",
    "..",
    "<|",
    "|>",
    "++",
    "&&",
    "||",
    "==",
    "!=",
    "<=",
    ">=",
    "%[",
    "#[",
    "$(",
    "`(",
    "``(",
]

_MASTER = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<line>--[^\n]*)"
    r"|(?P<block>/-)"
    r"|(?P<str>\")"
    r"|(?P<raw>r#*\")"
    r"|(?P<char>'(?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\\\"'rnt])|[^\\'])')"
    r"|(?P<num>0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\.(?:[0-9][0-9_]*)?)?(?:[eE][+-]?[0-9]+)?)"
    rf"|(?P<cmd>#[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<attr>@\[)"
    rf"|(?P<name>``?(?={_PART}){_IDENT})"
    rf"|(?P<ident>{_IDENT})"
    r"|(?P<sym>" + "|".join(re.escape(s) for s in _SYMBOLS) + r"|.)",
    re.DOTALL,
)
_COMMENT_DELIM = re.compile(r"/-|-/")
_INTERP_OPENERS = frozenset({"s!", "m!", "f!", "throwError", "throwErrorAt", "logInfo", "logWarning", "logError"})
_INTERP_BODY = re.compile(r'(?:[^"\\{]|\\.)*', re.DOTALL)


def _block_comment_end(text: str, i: int) -> tuple[int, Kind, str]:
    """``i`` is at `/-`. Returns (end, kind, error). Mirrors Lean's `finishCommentBlock`, including
    that the character right after a plain `/-` is skipped before nesting is counted."""
    n = len(text)
    nxt = text[i + 2] if i + 2 < n else ""
    if nxt == "-":
        kind, pos = Kind.DOC_COMMENT, i + 3
    elif nxt == "!":
        kind, pos = Kind.MODULE_DOC, i + 3
    else:
        kind, pos = Kind.BLOCK_COMMENT, i + 3
        if i + 2 >= n:
            return n, kind, "unterminated comment"
    depth = 1
    while True:
        m = _COMMENT_DELIM.search(text, pos)
        if m is None:
            return n, kind, "unterminated comment"
        if m.group() == "/-":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.end(), kind, ""
        pos = m.end()


def _string_end(text: str, i: int) -> tuple[int, str]:
    """``i`` is just after the opening quote of a plain string."""
    n = len(text)
    j = i
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
        elif c == '"':
            return j + 1, ""
        else:
            j += 1
    return n, "unterminated string literal"


def _raw_string_end(text: str, i: int, hashes: int) -> tuple[int, str]:
    """``i`` is just after `r##"`: the literal ends at the first `"` followed by ``hashes`` `#`."""
    close = '"' + "#" * hashes
    j = text.find(close, i)
    if j < 0:
        return len(text), "unterminated raw string literal"
    return j + len(close), ""


_new_token = Token._make


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []
        # One entry per open `{` of an interpolated string: the depth of plain braces inside it.
        self.interp: list[int] = []
        self.pending_interp = False

    def add(self, kind: Kind, start: int, end: int, error: str = "") -> None:
        self.tokens.append(_new_token((kind, start, end, self.text[start:end], error)))

    def interp_piece(self, start: int, body_from: int) -> int:
        """Lex string text from ``body_from`` up to `"` (end of literal) or `{` (start of a nested term)."""
        text = self.text
        m = _INTERP_BODY.match(text, body_from)
        j = m.end() if m else body_from
        if j >= len(text) or text[j] not in '{"':
            self.add(Kind.STRING, start, len(text), "unterminated string literal")
            return len(text)
        if text[j] == "{":
            self.interp.append(0)
        self.add(Kind.STRING, start, j + 1)
        return j + 1

    def run(self) -> list[Token]:
        text, n, pos = self.text, len(self.text), 0
        tokens, new = self.tokens, _new_token
        while pos < n:
            m = _MASTER.match(text, pos)
            if m is None:  # unreachable: `.` with DOTALL matches anything; kept so we can never loop
                self.add(Kind.SYMBOL, pos, pos + 1, "unexpected character")
                pos += 1
                continue
            group, end = m.lastgroup, m.end()
            if group == "ws":
                tokens.append(new((Kind.WHITESPACE, pos, end, text[pos:end], "")))
            elif group == "line":
                self.add(Kind.LINE_COMMENT, pos, end)
            elif group == "block":
                end, kind, err = _block_comment_end(text, pos)
                self.add(kind, pos, end, err)
            elif group in ("str", "raw"):
                if group == "str" and self.pending_interp:
                    end = self.interp_piece(pos, pos + 1)
                elif group == "str":
                    end, err = _string_end(text, pos + 1)
                    self.add(Kind.STRING, pos, end, err)
                else:
                    end, err = _raw_string_end(text, end, end - pos - 2)
                    self.add(Kind.STRING, pos, end, err)
                self.pending_interp = False
            elif group == "sym" and m.group() in "{}" and self.interp:
                if m.group() == "{":
                    self.interp[-1] += 1
                    self.add(Kind.SYMBOL, pos, end)
                elif self.interp[-1] > 0:
                    self.interp[-1] -= 1
                    self.add(Kind.SYMBOL, pos, end)
                else:  # closes the interpolated term: resume the string
                    self.interp.pop()
                    end = self.interp_piece(pos, pos + 1)
                self.pending_interp = False
            else:
                kind, err = self._simple_kind(group, m.group(), text, pos)
                self.add(kind, pos, end, err)
                if kind is not Kind.WHITESPACE:
                    self.pending_interp = kind is Kind.IDENT and m.group() in _INTERP_OPENERS
            pos = end
        if self.interp and self.tokens:  # an interpolated string whose `{` term never closed
            last = self.tokens[-1]
            self.tokens[-1] = Token(last.kind, last.start, last.end, last.text, "unterminated interpolated string")
        return self.tokens

    @staticmethod
    def _simple_kind(group: str | None, value: str, text: str, pos: int) -> tuple[Kind, str]:
        if group == "char":
            return Kind.CHAR, ""
        if group == "num":
            return Kind.NUMBER, ""
        if group == "cmd":
            return Kind.COMMAND, ""
        if group == "attr":
            return Kind.ATTR_OPEN, ""
        if group == "name":
            return Kind.NAME_LIT, ("unterminated identifier escape" if value.count("«") != value.count("»") else "")
        if group == "ident":
            return (Kind.KEYWORD if value in KEYWORDS else Kind.IDENT), ""
        if value == "'" and text[pos + 1 : pos + 2] != "'":
            return Kind.SYMBOL, "malformed character literal"
        if value == "«":
            return Kind.SYMBOL, "unterminated identifier escape"
        return Kind.SYMBOL, ""


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, trivia included, in order; they tile the text exactly. Never raises."""
    if not isinstance(text, str):
        return []
    try:
        return _Lexer(text).run()
    except Exception:  # defensive: a lexer bug must not crash a language server on user input
        return [Token(Kind.SYMBOL, 0, len(text), text, "lexer failure")]


def significant(tokens: Iterable[Token]) -> list[Token]:
    """Tokens that are not whitespace or plain comments (doc comments are kept: they start commands)."""
    return [t for t in tokens if t.kind not in TRIVIA]
