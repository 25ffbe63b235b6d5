"""Finding what to prove, from a document's text alone (no Lean): the `sorry`s of each declaration, the
declaration or tactic block under a cursor, and which of them an editor command means ("prove" the declaration
around the cursor, "fill" the sorry under it). Built on the document outline (core/outline.py); where a
target's parts are and where it moved after an edit is core/geometry.py."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from pathlib import Path

from .lexer import COMMENTS, Kind
from .outline import DECL_KEYWORDS, Decl, Outline, command_starts, declarations, line_indent, outline
from .types import Pos, Span, Target, TargetKind

__all__ = [
    "DECL_KEYWORDS",
    "Decl",
    "command_starts",
    "cursor_target",
    "declaration_to_prove",
    "declarations",
    "enclosing_declaration",
    "find_targets",
    "has_targets",
    "in_tactic_position",
    "outline",
    "sorry_at",
    "sorry_targets_in",
    "target_at",
]


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
    pos = o.lines.pos
    return Target(
        path=path,
        text=text,
        kind=kind,
        decl_name=d.name,
        full_name=d.full_name,
        decl_span=Span(pos(d.start), pos(max(d.end, end))),
        header=text[d.start : header_end],
        proof_span=Span(pos(start), pos(end)),
        indent=line_indent(text, d.keyword_start),
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


def find_targets(path: Path, text: str, *, o: Outline | None = None) -> list[Target]:
    """Every `sorry` in a proof, in text order: a sorry that is the whole proof becomes a DECLARATION
    target, any other a SORRY target. ``o``: the outline of ``text`` when the caller already holds it."""
    o = o if o is not None else outline(text)
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


def has_targets(o: Outline) -> bool:
    """Whether :func:`find_targets` would find anything, without building the targets."""
    return any(d.sorries for d in o.decls)  # each sorry yields a target (see find_targets)


def sorry_targets_in(path: Path, text: str, span: Span) -> list[Target]:
    """The targets of :func:`find_targets` whose proof span lies within ``span`` (e.g. a selection)."""
    return [t for t in find_targets(path, text) if span.start <= t.proof_span.start and t.proof_span.end <= span.end]


def _near(o: Outline, off: int) -> tuple[Decl, ...]:
    """The declarations that can hold ``off``, in text order: the last one starting at or before it, and
    the one before that (whose `limit` may touch it). Declarations do not overlap, so no other can."""
    i = bisect_right(o.decl_starts, off)
    return o.decls[max(0, i - 2) : i]


def _decl_at(o: Outline, off: int) -> Decl | None:
    for d in _near(o, off):
        if d.start <= off <= d.end or (d.end < off < d.limit and "\n" not in o.text[d.end : off]):
            return d
    return None


def target_at(path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None:
    """For a code action at ``pos``: the sorry under or touching the cursor, else the enclosing declaration
    when its proof is missing, `sorry` or incomplete (a DECLARATION target); None elsewhere."""
    o = o if o is not None else outline(text)
    off = o.lines.offset(pos)
    d = _decl_at(o, off)
    if d is None:
        return None
    for i in d.sorries:
        if o.tokens[i].start <= off <= o.tokens[i].end:
            return _sorry_target(path, o, d, i)
    return _declaration_target(path, o, d) if _proof_missing(o, d) else None


def enclosing_declaration(path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None:
    """The enclosing declaration as a DECLARATION target, whatever its proof (to re-prove a failing one)."""
    o = o if o is not None else outline(text)
    d = _decl_at(o, o.lines.offset(pos))
    return _declaration_target(path, o, d) if d is not None else None


def declaration_to_prove(path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None:
    """What "prove" means at ``pos``: the declaration there whose proof is missing, `sorry` or incomplete, as a
    DECLARATION target (its whole proof is replaced); None on a declaration that is proved."""
    o = o if o is not None else outline(text)
    found = target_at(path, text, pos, o=o)
    if found is not None and found.kind is TargetKind.SORRY:
        # On a sorry inside a longer proof: the declaration around it (asked at its start, off the sorry).
        found = target_at(path, text, found.decl_span.start, o=o)
    if found is not None and found.kind is TargetKind.DECLARATION:
        return found
    return None


def sorry_at(path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None:
    """What "fill this sorry" means at ``pos``: the `sorry` under the cursor (a sorry that is the whole proof
    is its declaration's target)."""
    o = o if o is not None else outline(text)
    found = target_at(path, text, pos, o=o)
    if found is None:
        return None
    if found.kind is TargetKind.SORRY or _word_at(text, o.lines.offset(pos)) == "sorry":
        return found
    return None


def _word_at(text: str, offset: int) -> str:
    def ident(ch: str) -> bool:
        return ch.isalnum() or ch in "_'"

    start = offset
    while start > 0 and ident(text[start - 1]):
        start -= 1
    end = offset
    while end < len(text) and ident(text[end]):
        end += 1
    return text[start:end]


def _inside_comment_or_string(o: Outline, off: int) -> bool:
    # Tokens tile the text, so only the last token starting before ``off`` can contain it.
    i = bisect_left(o.token_starts, off) - 1
    if i < 0:
        return False
    t = o.all_tokens[i]
    if t.start < off < t.end or (t.kind is Kind.LINE_COMMENT and t.start < off <= t.end):
        return t.kind in COMMENTS or t.kind in (Kind.STRING, Kind.CHAR)
    return False


def cursor_target(path: Path, text: str, pos: Pos) -> Target | None:
    """A CURSOR target (zero-width proof span at ``pos``) when ``pos`` is inside a `by` block of a
    declaration's proof, for next-tactic suggestions."""
    o = outline(text)
    off = o.lines.offset(pos)
    d = next((d for d in _near(o, off) if d.start <= off < max(d.limit, d.end + 1)), None)
    if d is None or d.assign_end is None or off < d.assign_end:
        return None
    if off > d.end and "\n\n" in text[d.end : off].replace("\r", "").replace(" ", ""):
        return None
    opened = any(o.tokens[i].text == "by" and o.tokens[i].end <= off for i in range(d.body, d.last + 1))
    if not opened or _inside_comment_or_string(o, off) or not _fresh_tactic_position(o, text, off):
        return None
    return _make(path, o, d, TargetKind.CURSOR, off, off, len(d.sorries))


# Tokens after which a new tactic may start on the same line. A word among them must be followed by whitespace
# before the cursor, or the suggestion would be glued to it (`byrfl`).
_NEW_TACTIC_AFTER = frozenset({"by", ";", "<;>", "·", "=>"})


def _fresh_tactic_position(o: Outline, text: str, off: int) -> bool:
    """Is ``off`` where a whole new tactic can be inserted: nothing but whitespace (or a comment) after it on its
    line, and before it only indentation or a token that opens a tactic? An editor asks again right after a
    suggestion was accepted (the cursor then ends `omega|`); a suggestion there would be glued on (`omegarfl`)."""
    line_end = text.find("\n", off)
    after = text[off : len(text) if line_end < 0 else line_end].strip()
    if after and not after.startswith(("--", "/-")):
        return False
    line_start = text.rfind("\n", 0, off) + 1
    before = text[line_start:off]
    if not before.strip():
        return True
    i = bisect_left(o.token_starts, off) - 1
    while i >= 0 and o.all_tokens[i].kind in (Kind.WHITESPACE, *COMMENTS) and o.all_tokens[i].start >= line_start:
        i -= 1
    if i < 0 or o.all_tokens[i].start < line_start or o.all_tokens[i].text not in _NEW_TACTIC_AFTER:
        return False
    return not o.all_tokens[i].text.isalpha() or before[-1:].isspace()


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
    off = o.lines.offset(target.proof_span.start)
    d = next((d for d in _near(o, off) if d.start <= off <= max(d.end, d.limit)), None)
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
