"""A lossless tokenizer for Lean 4 source, following the lexical rules of
``leanprover/lean4: src/Lean/Parser/Basic.lean`` (`whitespace`, `finishCommentBlock`, `tokenFnAux`,
`strLitFnAux`, `quotedCharCoreFn`, `stringGapFn`, `charLitFnAux`, `rawStrLitFnAux`, `numberFnAux`,
`identFnAux`), closely enough that screening can trust it: anything Lean reads as code we read as code.

Tokens tile the input: ``"".join(t.text for t in tokenize(s)) == s`` for every ``s``, and offsets are
code-point offsets. The lexer never raises; malformed input yields tokens carrying ``error`` and
``error_at``, the offset where Lean reports that error (Lean's parse-error recovery resumes reading
there, so screening must read on from it too: see :mod:`.recovery`).

Strings are lexed as plain string literals, which is what Lean's tokenizer does. Whether a literal is an
*interpolated* string depends on the syntax around it (`s!`, `m!`, `dbg_trace`, `throwError`, any
user syntax using `interpolatedStr`), which no list can know; :mod:`.interpolation` gives the other
reading, and :mod:`.recovery` requires both to agree.
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
    STRING = "string"  # "...", r#"..."#
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
    error: str = ""  # non-empty: Lean would reject this (unterminated comment/string, bad escape, ...)
    error_at: int = -1  # where Lean reports ``error`` (-1: at ``start``)

    @property
    def trivia(self) -> bool:
        return self.kind in TRIVIA

    @property
    def name(self) -> str:
        """For identifiers: the name with `«»` escapes removed (`«a.b».c` -> `a.b.c`)."""
        return self.text.replace("«", "").replace("»", "") if "«" in self.text else self.text

    @property
    def error_pos(self) -> int:
        return self.error_at if self.error_at >= 0 else self.start


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

# Lean's `isLetterLike` (Init/Meta/Defs.lean, with the Latin-1 / Latin Extended-A letters of Lean 4.35)
# and `isSubScriptAlnum`.
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
    "''",  # Lean reads `'` followed by `'` as a token, never as a character literal
]

_MASTER = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<line>--[^\n]*)"
    r"|(?P<block>/-)"
    r"|(?P<str>\")"
    r"|(?P<raw>r#*\")"
    r"|(?P<char>'(?!'))"
    r"|(?P<num>[0-9])"
    rf"|(?P<cmd>#[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<attr>@\[)"
    rf"|(?P<name>``?(?={_PART}){_IDENT})"
    rf"|(?P<ident>{_IDENT})"
    r"|(?P<sym>" + "|".join(re.escape(s) for s in _SYMBOLS) + r"|.)",
    re.DOTALL,
)
_COMMENT_DELIM = re.compile(r"/-|-/")
_PLAIN_BODY = re.compile(r'[^"\\]*')
_HEX = frozenset("0123456789abcdefABCDEF")
_QUOTABLE = frozenset("\\\"'rnt")
_LEAN_SPACE = frozenset(" \t\r\n")  # Lean's `Char.isWhitespace`


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


def escape_end(text: str, j: int, *, interpolated: bool, in_string: bool) -> tuple[int, int]:
    """``text[j]`` is a backslash. Returns (where reading resumes, error offset or -1), like Lean's
    `quotedCharCoreFn`: `\\\\ \\" \\' \\r \\n \\t`, `\\xHH`, `\\uHHHH`, `\\{` only in interpolated strings,
    and in strings a gap (backslash, newline, whitespace with no second newline)."""
    n = len(text)
    k = j + 1
    if k >= n:
        return n, n
    c = text[k]
    if c in _QUOTABLE or (interpolated and c == "{"):
        return k + 1, -1
    if c in "xu":
        for p in range(k + 1, k + (3 if c == "x" else 5)):
            if p >= n or text[p] not in _HEX:
                return p, p
        return k + (3 if c == "x" else 5), -1
    if in_string and c == "\n":
        p = k + 1
        while p < n and text[p] in _LEAN_SPACE:
            if text[p] == "\n":
                return p, p  # "unexpected additional newline in string gap"
            p += 1
        return p, -1
    return k, k  # "invalid escape sequence", reported at the escaped character


def plain_string_end(text: str, i: int) -> tuple[int, str, int]:
    """``text[i]`` is `"`. (end, error, error offset) of the plain string literal starting there. After an
    error the scan goes on (so that tokens still tile the text); Lean stops at the first error."""
    n = len(text)
    j = i + 1
    err, err_at = "", -1
    while True:
        j = _PLAIN_BODY.match(text, j).end()  # type: ignore[union-attr]
        if j >= n:
            return n, err or "unterminated string literal", err_at if err else i
        if text[j] == '"':
            return j + 1, err, err_at
        nxt, bad = escape_end(text, j, interpolated=False, in_string=True)
        if bad >= 0 and not err:
            err, err_at = "invalid escape sequence in a string literal", bad
        j = min(n, max(nxt, j + 1) if bad < 0 else max(bad + 1, j + 2))


def _char_literal(text: str, i: int) -> tuple[int, str, int]:
    """``text[i]`` is `'` and the next character is not `'`: Lean's `charLitFnAux`."""
    n = len(text)
    j = i + 1
    if j >= n:
        return n, "unterminated character literal", n
    k = j + 1
    if text[j] == "\\":
        k, bad = escape_end(text, j, interpolated=False, in_string=False)
        if bad >= 0:
            return min(max(bad, j + 1), n), "invalid escape sequence in a character literal", bad
    if k < n and text[k] == "'":
        return k + 1, "", -1
    # Lean reads one more character before it reports the missing quote, and resumes after it.
    return min(k, n), "missing end of character literal", min(k + 1, n)


def _digits(text: str, j: int, ok: frozenset[str] | None, need: bool) -> tuple[int, int]:
    """Lean's `takeDigitsFn`: digits and `_`, a `_` needing a digit after it. (end, error offset or -1)."""
    n = len(text)
    while True:
        if j >= n:
            return j, (j if need else -1)
        c = text[j]
        if c == "_":
            j, need = j + 1, True
        elif (c.isascii() and c.isdigit()) if ok is None else (c in ok):
            j, need = j + 1, False
        else:
            return j, (j if need else -1)


_BIN, _OCT = frozenset("01"), frozenset("01234567")


def _number(text: str, i: int) -> tuple[int, str, int]:
    """``text[i]`` is a digit: Lean's `numberFnAux` (binary/octal/hex, decimal, scientific)."""
    n = len(text)
    if text[i] == "0" and i + 1 < n and text[i + 1] in "bBoOxX":
        ok = {"b": _BIN, "o": _OCT, "x": _HEX}[text[i + 1].lower()]
        end, bad = _digits(text, i + 2, ok, True)
        return (end, "malformed number literal", bad) if bad >= 0 else (end, "", -1)
    end, bad = _digits(text, i + 1, None, False)
    if bad >= 0:
        return end, "malformed number literal", bad
    if end < n and text[end] == ".":
        end += 1
        if end < n and text[end].isascii() and text[end].isdigit():
            end, bad = _digits(text, end, None, False)
            if bad >= 0:
                return end, "malformed number literal", bad
    if end < n and text[end] in "eE":
        e = end
        p = e + 1 + (1 if e + 1 < n and text[e + 1] in "+-" else 0)
        if not (p < n and text[p].isascii() and text[p].isdigit()):
            return e, "missing exponent digits in scientific literal", e
        end, bad = _digits(text, p, None, False)
        if bad >= 0:
            return end, "malformed number literal", bad
    return end, "", -1


def _raw_string_end(text: str, i: int, hashes: int) -> tuple[int, str]:
    """``i`` is just after `r##"`: the literal ends at the first `"` followed by ``hashes`` `#`."""
    close = '"' + "#" * hashes
    j = text.find(close, i)
    if j < 0:
        return len(text), "unterminated raw string literal"
    return j + len(close), ""


_new_token = Token._make


def next_token(text: str, pos: int) -> Token:
    """The one token starting at ``pos`` (``pos < len(text)``), read as Lean's tokenizer would from there."""
    m = _MASTER.match(text, pos)
    if m is None:  # unreachable: `.` with DOTALL matches anything; kept so callers can never loop
        return Token(Kind.SYMBOL, pos, pos + 1, text[pos : pos + 1], "unexpected character")
    group, end = m.lastgroup, m.end()
    err, err_at = "", -1
    if group == "ws":
        return _new_token((Kind.WHITESPACE, pos, end, text[pos:end], "", -1))
    if group == "line":
        kind = Kind.LINE_COMMENT
    elif group == "block":
        end, kind, err = _block_comment_end(text, pos)
        err_at = len(text) if err else -1
    elif group == "str":
        kind = Kind.STRING
        end, err, err_at = plain_string_end(text, pos)
    elif group == "raw":
        kind = Kind.STRING
        end, err = _raw_string_end(text, end, end - pos - 2)
    elif group == "char":
        kind = Kind.CHAR
        end, err, err_at = _char_literal(text, pos)
    elif group == "num":
        kind = Kind.NUMBER
        end, err, err_at = _number(text, pos)
        end = max(end, pos + 1)
    elif group == "cmd":
        kind = Kind.COMMAND
    elif group == "attr":
        kind = Kind.ATTR_OPEN
    elif group == "name":
        kind = Kind.NAME_LIT
    elif group == "ident":
        kind = Kind.KEYWORD if m.group() in KEYWORDS else Kind.IDENT
    else:
        kind = Kind.SYMBOL
        if m.group() == "«":  # an identifier escape that never closes
            err, err_at = "unterminated identifier escape", pos + 1
    return _new_token((kind, pos, end, text[pos:end], err, err_at))


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, trivia included, in order; they tile the text exactly. Never raises."""
    if not isinstance(text, str):
        return []
    try:
        tokens: list[Token] = []
        pos, n = 0, len(text)
        while pos < n:
            tok = next_token(text, pos)
            tokens.append(tok)
            pos = tok.end
        return tokens
    except Exception:  # defensive: a lexer bug must not crash a language server on user input
        return [Token(Kind.SYMBOL, 0, len(text), text, "lexer failure")]


def significant(tokens: Iterable[Token]) -> list[Token]:
    """Tokens that are not whitespace or plain comments (doc comments are kept: they start commands)."""
    return [t for t in tokens if t.kind not in TRIVIA]
