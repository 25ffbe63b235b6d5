"""Which commands a candidate may bring into the user's file.

A candidate is written into the user's file: its helpers right above the target declaration, its proof in
place of the target's. Whatever else Lean would read there as a command would also be written, and could
change what *later* declarations of the file mean (an instance, a notation, an `open`, an option). So:

- the proof is one term or tactic block: no token that only starts a command (`instance`, `def`, a bare
  `open` or `set_option` — the `… in` forms are terms and tactics);
- helpers are `private theorem`/`private lemma` declarations, each optionally with a doc comment, allowed
  attributes and `open … in` / `set_option … in` in front, and nothing else. A theorem is a proof of a
  proposition, and proofs are irrelevant to what any statement means; `private` keeps its name out of
  the rest of the project. (core/pinning.py makes helpers so; this is the check for every candidate.)

Lean's command keywords come from the grammar of the user's own imports, so the list below holds Lean's
and Mathlib's/Batteries' command keywords; `pinning` and the pinned-statement check in lean/shadow.py
do not depend on it.
"""

from __future__ import annotations

from .lexer import Kind, Token, significant, tokenize
from .types import Finding

COMMAND_WORDS = frozenset(
    """
    theorem lemma def example instance abbrev structure class inductive coinductive axiom opaque universe
    universes export deriving mutual namespace section end noncomputable private protected partial nonrec
    unsafe variable omit include attribute import initialize builtin_initialize macro macro_rules syntax elab
    elab_rules notation notation3 infix infixl infixr prefix postfix declare_syntax_cat local scoped alias
    irreducible_def add_decl_doc assert_not_exists suppress_compilation unseal seal compile_inductive
    initialize_simps_projections mk_iff_of_inductive_prop library_note proof_wanted recall open set_option
    """.split()
)
HELPER_KEYWORDS = frozenset({"theorem", "lemma"})
# What may follow `open` before its `in`: namespaces and the `open` syntax's own words.
_OPEN_PARTS = frozenset({"(", ")", ",", "hiding", "renaming", "→", "->", "scoped"})


def _word(t: Token) -> str:
    return t.text if t.kind in (Kind.IDENT, Kind.KEYWORD) else ""


def _skip_attributes(toks: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind is Kind.ATTR_OPEN or toks[j].text == "[":
            depth += 1
        elif toks[j].text == "]":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(toks)


def _in_form(toks: list[Token], i: int) -> int | None:
    """``toks[i]`` is `open` or `set_option`: the index after its `in`, or None when it has none (a
    command of its own)."""
    if toks[i].text == "set_option":
        j = i + 3
        if i + 2 < len(toks) and toks[i + 2].text == "-":
            j += 1  # a negative number
        return j + 1 if j < len(toks) and toks[j].text == "in" else None
    j = i + 1
    while j < len(toks) and (toks[j].kind is Kind.IDENT or toks[j].text in _OPEN_PARTS):
        j += 1
    return j + 1 if j > i + 1 and j < len(toks) and toks[j].text == "in" else None


def _findings(text: str, offset: int, *, helpers: bool) -> list[Finding]:
    toks = significant(tokenize(text))
    found: list[Finding] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind is Kind.ATTR_OPEN:
            i = _skip_attributes(toks, i)
            continue
        word = _word(t)
        if word in ("open", "set_option"):
            after = _in_form(toks, i)
            if after is not None:
                i = after
                continue
            found.append(Finding("command", f"`{word}` without `… in` is a command of its own; write "
                                 f"`{word} … in` in front of what needs it", t.start + offset))
        elif helpers and word in HELPER_KEYWORDS:
            if i == 0 or toks[i - 1].text != "private":
                found.append(Finding("helper", f"helper `{word}` must be `private`", t.start + offset))
        elif helpers and word == "private":
            if i + 1 >= len(toks) or _word(toks[i + 1]) not in HELPER_KEYWORDS:
                found.append(Finding("helper", "only `private theorem` / `private lemma` helpers are accepted",
                                     t.start + offset))
        elif word in COMMAND_WORDS:
            where = "helpers may only be `theorem`/`lemma` declarations" if helpers else (
                "a proof is one term or tactic block")
            found.append(Finding("command", f"`{word}` starts a command of its own; {where}", t.start + offset))
        i += 1
    return found


def structure_findings(helpers: str, proof: str, *, proof_offset: int) -> list[Finding]:
    """Why the candidate would bring other commands into the user's file (offsets: helpers at 0, the
    proof at ``proof_offset``). Never raises."""
    try:
        return _findings(helpers, 0, helpers=True) + _findings(proof, proof_offset, helpers=False)
    except Exception as exc:  # a bug here must refuse, never crash and never admit
        return [Finding("internal", f"structure check failed: {type(exc).__name__}", 0)]
