"""The outline of a Lean document from its tokens alone (no Lean): top-level commands, declarations with
their headers, `:=`, bodies and `sorry`s, and the namespaces around them. Token-based, linear, cached per
text, because it runs on every code-action request.

Top-level commands are recognised the way Lean files are written: a command keyword (or `@[`, a doc
comment, `#cmd`) that is the first token on its line and not indented past the current declaration's
keyword. Decision on `example`: it is a declaration with ``decl_name == full_name == ""``; an axiom audit
(`#print axioms`) cannot name it, so the checker audits it under a name of its own (lean/shadow.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from .lexer import Kind, Token, significant, tokenize
from .lines import LineIndex

DECL_KEYWORDS = frozenset({"theorem", "lemma", "def", "example", "instance", "abbrev"})
_COMMAND_KEYWORDS = frozenset(
    """
    theorem lemma def example instance abbrev structure inductive class axiom opaque namespace section end open
    variable universe universes import export set_option attribute mutual private protected noncomputable
    partial unsafe nonrec scoped local macro macro_rules syntax elab elab_rules notation infix infixl infixr
    prefix postfix initialize builtin_initialize deriving declare_syntax_cat omit include
    """.split()
)
_MODIFIERS = frozenset({"private", "protected", "noncomputable", "partial", "unsafe", "nonrec", "scoped", "local"})
_OPEN = frozenset("([{⟨")
_CLOSE = frozenset(")]}⟩")


@dataclass(frozen=True)
class Decl:
    """One top-level command of a declaration kind. Offsets are code points; token indices refer to
    ``Outline.tokens`` (significant tokens)."""

    keyword: str
    name: str  # as written; "" for `example` and anonymous instances
    full_name: str  # namespace-qualified; "" when unnamed
    start: int  # first doc comment / attribute / modifier
    keyword_start: int
    end: int  # end of the last significant token
    limit: int  # where the next command starts (or the text's end)
    assign_end: int | None  # right after the top-level `:=`; None when there is none
    first: int  # token index of the first token of the command
    kw: int  # token index of the keyword
    last: int  # token index of the last token
    body: int  # token index of the first token after `:=` (== last + 1 when the body is empty)
    sorries: tuple[int, ...]  # token indices of `sorry` in the body


_T = TypeVar("_T")


class _lazy(Generic[_T]):
    """Computed on first use and kept on the instance. Unlike Python 3.11's cached_property it takes no
    class-wide lock, so a large document's tables built in one thread never make another thread wait while
    it reads a different outline's (two threads racing on one outline both compute the same value)."""

    def __init__(self, fn: Callable[[Any], _T]) -> None:
        self.fn = fn
        self.name = fn.__name__

    def __get__(self, obj: Any, owner: type | None = None) -> _T:
        value = self.fn(obj)
        obj.__dict__[self.name] = value  # shadows this non-data descriptor from now on
        return value


@dataclass(frozen=True)
class Outline:
    text: str
    tokens: tuple[Token, ...]  # significant tokens (doc comments included)
    all_tokens: tuple[Token, ...]
    decls: tuple[Decl, ...]

    # Lookup tables built on first use and kept with the outline (one per text): a code action on a large
    # document then costs binary searches, not scans from the file's start.
    @_lazy
    def lines(self) -> LineIndex:
        return LineIndex(self.text)

    @_lazy
    def decl_starts(self) -> list[int]:
        return [d.start for d in self.decls]

    @_lazy
    def token_starts(self) -> list[int]:
        """Start offsets of ``all_tokens``."""
        return [t.start for t in self.all_tokens]


def _col(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1)


def line_indent(text: str, offset: int) -> int:
    """Indentation of the line holding ``offset``: where continuation lines are measured from (the keyword's
    own column when, as usual, it starts its line; not when `@[simp] private` precede it on that line)."""
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    return len(line) - len(line.lstrip(" \t"))


def _line_start(text: str, toks: list[Token], i: int) -> bool:
    """No significant token before ``toks[i]`` on its line."""
    return i == 0 or "\n" in text[toks[i - 1].end : toks[i].start]


def _is_command_start(t: Token) -> bool:
    if t.kind in (Kind.COMMAND, Kind.ATTR_OPEN, Kind.DOC_COMMENT, Kind.MODULE_DOC):
        return True
    return t.kind is Kind.KEYWORD and t.text in _COMMAND_KEYWORDS


def _is_head(t: Token) -> bool:
    return t.kind in (Kind.DOC_COMMENT, Kind.ATTR_OPEN) or (t.kind is Kind.KEYWORD and t.text in _MODIFIERS)


def _skip_brackets(toks: list[Token], i: int) -> int:
    """``toks[i]`` opens a bracket (or `@[`); the index of its closer (or the last index)."""
    depth = 0
    for j in range(i, len(toks)):
        s = toks[j].text
        if toks[j].kind is Kind.ATTR_OPEN or (toks[j].kind is Kind.SYMBOL and s in _OPEN):
            depth += 1
        elif toks[j].kind is Kind.SYMBOL and s in _CLOSE:
            depth -= 1
            if depth <= 0:
                return j
    return len(toks) - 1


def _chunks(text: str, toks: list[Token]) -> list[tuple[int, int | None]]:
    """(first token index, keyword index) of every top-level command, in order."""
    chunks: list[tuple[int, int | None]] = []
    first: int | None = None
    kw: int | None = None
    indent = -1
    i = 0
    while i < len(toks):
        t = toks[i]
        if first is not None and kw is None:
            if _is_head(t):
                i = _skip_brackets(toks, i) + 1 if t.kind is Kind.ATTR_OPEN else i + 1
                continue
            kw, indent = i, _col(text, t.start)
            chunks[-1] = (first, kw)
            i += 1
            continue
        if _is_command_start(t) and _line_start(text, toks, i) and (first is None or _col(text, t.start) <= indent):
            if first is not None and toks[i - 1].text == "in" and toks[i - 1].kind is Kind.KEYWORD:
                kw = None  # `set_option … in` / `open … in` modify the command that follows
                continue
            first, kw = i, None
            chunks.append((first, None))
            continue
        i += 1
    return chunks


def _decl_name(toks: list[Token], kw: int, last: int) -> tuple[str, int]:
    """The declared name (or "") and the index where the signature starts."""
    keyword = toks[kw].text
    j = kw + 1
    if keyword == "example":
        return "", j
    if keyword == "instance" and j <= last and toks[j].text == "(" and j + 1 <= last and toks[j + 1].text == "priority":
        j = _skip_brackets(toks, j) + 1
    if j <= last and toks[j].kind is Kind.IDENT:
        return toks[j].text, j + 1
    return "", j


def _assign(toks: list[Token], j: int, last: int) -> int | None:
    """Index of the top-level `:=` (not one inside brackets or a `let`/`have` in the statement)."""
    depth = pending = 0
    for i in range(j, last + 1):
        t = toks[i]
        if t.kind is not Kind.SYMBOL and t.kind is not Kind.KEYWORD:
            continue
        s = t.text
        if s in _OPEN:
            depth += 1
        elif s in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            if s in ("let", "have"):
                pending += 1
            elif s == ":=":
                if pending == 0:
                    return i
                pending -= 1
            elif s in ("|", "where"):
                return None
    return None


def _qualify(scopes: list[list[str]], name: str) -> str:
    if not name:
        return ""
    bare = name.replace("«", "").replace("»", "")
    if bare.startswith("_root_."):
        return bare[len("_root_.") :]
    return ".".join([p for scope in scopes for p in scope] + [bare])


def _build(text: str) -> Outline:
    all_tokens = tokenize(text)
    toks = significant(all_tokens)
    chunks = _chunks(text, toks)
    scopes: list[list[str]] = []
    decls: list[Decl] = []
    for n, (first, kw) in enumerate(chunks):
        last = (chunks[n + 1][0] if n + 1 < len(chunks) else len(toks)) - 1
        limit = toks[chunks[n + 1][0]].start if n + 1 < len(chunks) else len(text)
        if kw is None or kw > last:
            continue
        word = toks[kw].text
        nxt = toks[kw + 1] if kw + 1 <= last else None
        if word == "namespace" and nxt is not None:
            scopes.append(nxt.name.split("."))
        elif word == "section":
            scopes.append([])
        elif word == "end" and scopes:
            scopes.pop()
        elif word in DECL_KEYWORDS:
            name, sig = _decl_name(toks, kw, last)
            a = _assign(toks, sig, last)
            body = a + 1 if a is not None else sig
            sorries = tuple(
                i for i in range(body, last + 1) if toks[i].kind is Kind.KEYWORD and toks[i].text == "sorry"
            )
            decls.append(
                Decl(
                    keyword=word,
                    name=name,
                    full_name=_qualify(scopes, name),
                    start=toks[first].start,
                    keyword_start=toks[kw].start,
                    end=toks[last].end,
                    limit=limit,
                    assign_end=toks[a].end if a is not None else None,
                    first=first,
                    kw=kw,
                    last=last,
                    body=body,
                    sorries=sorries,
                )
            )
    return Outline(text, tuple(toks), tuple(all_tokens), tuple(decls))


# An outline weighs ~100 times its text (a 2 MB document: ~200 MB of tokens), so large texts get a cache of
# their own, two deep: typing in a large file makes a new text per keystroke, and sixteen of them would be GBs.
LARGE_TEXT = 256_000


@lru_cache(maxsize=16)
def _outline_cached(text: str) -> Outline:
    return _build(text)


@lru_cache(maxsize=2)
def _outline_large(text: str) -> Outline:
    return _build(text)


def outline(text: str) -> Outline:
    """Declarations and tokens of ``text`` (cached: code actions ask again and again for the same text)."""
    try:
        return _outline_large(text) if len(text) > LARGE_TEXT else _outline_cached(text)
    except Exception:  # never let a parsing bug reach the editor
        return Outline(text, (), (), ())


def declarations(text: str) -> list[Decl]:
    return list(outline(text).decls)


def command_starts(text: str) -> list[int]:
    """Offsets where the top-level commands of ``text`` start (doc comments and attributes included)."""
    o = outline(text)
    try:
        return [o.tokens[first].start for first, _ in _chunks(text, list(o.tokens))]
    except Exception:
        return []
