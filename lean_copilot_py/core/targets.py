"""Finding what to prove, from a document's text alone (no Lean): declarations, their `sorry`s, the
declaration or tactic block under a cursor. Runs on every code-action request, so it is token-based,
linear, and cached per text.

Top-level commands are recognised the way Lean files are written: a command keyword (or `@[`, a doc
comment, `#cmd`) that is the first token on its line and not indented past the current declaration's
keyword. Decision on `example`: it is a declaration with ``decl_name == full_name == ""``; an axiom audit
(`#print axioms`) cannot name it, so the checker must audit it under a name of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .lexer import COMMENTS, Kind, Token, significant, tokenize
from .types import Pos, Span, Target, TargetKind, offset_to_pos, pos_to_offset

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


@dataclass(frozen=True)
class Outline:
    text: str
    tokens: tuple[Token, ...]  # significant tokens (doc comments included)
    all_tokens: tuple[Token, ...]
    decls: tuple[Decl, ...]


def _col(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1)


def _line_indent(text: str, offset: int) -> int:
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


@lru_cache(maxsize=16)
def _outline_cached(text: str) -> Outline:
    return _build(text)


def outline(text: str) -> Outline:
    """Declarations and tokens of ``text`` (cached: code actions ask again and again for the same text)."""
    try:
        return _outline_cached(text)
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


# --- targets ----------------------------------------------------------------------------------------


def _whole_proof_sorry(o: Outline, d: Decl) -> bool:
    body = [t.text for t in o.tokens[d.body : d.last + 1]]
    return d.assign_end is not None and body in (["sorry"], ["by", "sorry"])


def _proof_missing(o: Outline, d: Decl) -> bool:
    body = [t.text for t in o.tokens[d.body : d.last + 1]]
    return d.assign_end is not None and (body in ([], ["by"]) or bool(d.sorries))


def _make(path: Path, o: Outline, d: Decl, kind: TargetKind, start: int, end: int, others: int) -> Target:
    text = o.text
    header_end = d.assign_end if d.assign_end is not None else o.tokens[d.body].start if d.body <= d.last else d.end
    return Target(
        path=path,
        text=text,
        kind=kind,
        decl_name=d.name,
        full_name=d.full_name,
        decl_span=Span(offset_to_pos(text, d.start), offset_to_pos(text, max(d.end, end))),
        header=text[d.start : header_end],
        proof_span=Span(offset_to_pos(text, start), offset_to_pos(text, end)),
        indent=_line_indent(text, d.keyword_start),
        other_sorries=others,
    )


def _declaration_target(path: Path, o: Outline, d: Decl) -> Target | None:
    if d.assign_end is None:
        return None
    return _make(path, o, d, TargetKind.DECLARATION, d.assign_end, max(d.end, d.assign_end), 0)


def _sorry_target(path: Path, o: Outline, d: Decl, i: int) -> Target | None:
    if _whole_proof_sorry(o, d):
        return _declaration_target(path, o, d)
    t = o.tokens[i]
    return _make(path, o, d, TargetKind.SORRY, t.start, t.end, len(d.sorries) - 1)


def find_targets(path: Path, text: str) -> list[Target]:
    """Every `sorry` in a proof, in text order: a sorry that is the whole proof becomes a DECLARATION
    target, any other a SORRY target."""
    o = outline(text)
    out: list[Target] = []
    for d in o.decls:
        if _whole_proof_sorry(o, d):
            target = _declaration_target(path, o, d)
            out.extend([target] if target else [])
            continue
        for i in d.sorries:
            target = _sorry_target(path, o, d, i)
            out.extend([target] if target else [])
    return out


def sorry_targets_in(path: Path, text: str, span: Span) -> list[Target]:
    """The targets of :func:`find_targets` whose proof span lies within ``span`` (e.g. a selection)."""
    return [t for t in find_targets(path, text) if span.start <= t.proof_span.start and t.proof_span.end <= span.end]


def _decl_at(o: Outline, off: int) -> Decl | None:
    for d in o.decls:
        if d.start <= off <= d.end or (d.end < off < d.limit and "\n" not in o.text[d.end : off]):
            return d
    return None


def target_at(path: Path, text: str, pos: Pos) -> Target | None:
    """For a code action at ``pos``: the sorry under or touching the cursor, else the enclosing declaration
    when its proof is missing, `sorry` or incomplete (a DECLARATION target); None elsewhere."""
    o = outline(text)
    off = pos_to_offset(text, pos)
    d = _decl_at(o, off)
    if d is None:
        return None
    for i in d.sorries:
        if o.tokens[i].start <= off <= o.tokens[i].end:
            return _sorry_target(path, o, d, i)
    return _declaration_target(path, o, d) if _proof_missing(o, d) else None


def declaration_target(path: Path, text: str, pos: Pos) -> Target | None:
    """The enclosing declaration as a DECLARATION target, whatever its proof (to re-prove a failing one)."""
    o = outline(text)
    d = _decl_at(o, pos_to_offset(text, pos))
    return _declaration_target(path, o, d) if d is not None else None


def _inside_comment_or_string(o: Outline, off: int) -> bool:
    for t in o.all_tokens:
        if t.start < off < t.end or (t.kind is Kind.LINE_COMMENT and t.start < off <= t.end):
            return t.kind in COMMENTS or t.kind in (Kind.STRING, Kind.CHAR)
        if t.start >= off:
            break
    return False


def cursor_target(path: Path, text: str, pos: Pos) -> Target | None:
    """A CURSOR target (zero-width proof span at ``pos``) when ``pos`` is inside a `by` block of a
    declaration's proof, for next-tactic suggestions."""
    o = outline(text)
    off = pos_to_offset(text, pos)
    d = next((d for d in o.decls if d.start <= off < max(d.limit, d.end + 1)), None)
    if d is None or d.assign_end is None or off < d.assign_end:
        return None
    if off > d.end and "\n\n" in text[d.end : off].replace("\r", "").replace(" ", ""):
        return None
    opened = any(o.tokens[i].text == "by" and o.tokens[i].end <= off for i in range(d.body, d.last + 1))
    if not opened or _inside_comment_or_string(o, off):
        return None
    return _make(path, o, d, TargetKind.CURSOR, off, off, len(d.sorries))


_TACTIC_BEFORE = frozenset(
    {"by", ";", "<;>", "·", ".", "then", "else", "next", "try", "repeat", "first", "all_goals", "any_goals", "focus"}
)
_TERM_BEFORE = frozenset(
    {
        ":=",
        "(",
        "[",
        "{",
        ",",
        "⟨",
        "from",
        "fun",
        "λ",
        "exact",
        "refine",
        "apply",
        "use",
        "show",
        "=",
        "←",
        "<-",
        "$",
        "<|",
        "|>",
    }
)
_TACTIC_ARMS = frozenset({"induction", "cases", "rcases", "case", "next", "obtain", "with"})


def in_tactic_position(target: Target) -> bool:
    """Heuristic: does ``target.proof_span`` (a sorry or cursor) sit where Lean expects a tactic rather
    than a term? Decides whether a proof replacing it must be bare tactics or a term such as `by …`."""
    if target.kind is TargetKind.DECLARATION:
        return False
    o = outline(target.text)
    off = pos_to_offset(target.text, target.proof_span.start)
    d = next((d for d in o.decls if d.start <= off <= max(d.end, d.limit)), None)
    if d is None:
        return False
    prev_i = max((i for i in range(d.kw, d.last + 1) if o.tokens[i].end <= off), default=None)
    if prev_i is None:
        return False
    prev = o.tokens[prev_i].text
    by_seen = any(o.tokens[i].text == "by" for i in range(d.body, prev_i + 1))
    if prev in _TACTIC_BEFORE:
        return True
    if prev == "=>":
        for i in range(prev_i - 1, d.body - 1, -1):
            word = o.tokens[i].text
            if word in ("fun", "λ"):
                return False
            if word in _TACTIC_ARMS or word == "match":
                return by_seen
        return by_seen
    if prev in _TERM_BEFORE:
        return False
    return by_seen and "\n" in target.text[o.tokens[prev_i].end : off]
