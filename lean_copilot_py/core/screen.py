"""Screening of untrusted Lean text (model output) before Lean elaborates it.

Elaborating Lean runs code: `#eval`, `run_cmd`, macros, `initialize`, `@[implemented_by]` and friends can do
anything the Lean process can. Others cheat rather than attack: `sorry`, `axiom`, `native_decide`, options
that skip the kernel, or a `#print axioms` of the model's own that would be mistaken for our audit. Screening
works on tokens from :mod:`.lexer`, so words inside real comments and strings never count, and constructs
hidden by comment or string tricks are seen where Lean would see them.
"""

from __future__ import annotations

from .lexer import COMMENTS, Kind, Token, significant, tokenize
from .types import Finding

# Words that are refused wherever they appear as code (keywords compared by text, identifiers by name).
_ALWAYS: dict[str, str] = {
    **dict.fromkeys(
        ["run_cmd", "run_elab", "run_meta", "run_tac", "by_elab"],
        "`{w}` runs arbitrary meta code while elaborating",
    ),
    **dict.fromkeys(
        [
            "elab",
            "elab_rules",
            "macro",
            "macro_rules",
            "syntax",
            "declare_syntax_cat",
            "notation",
            "infix",
            "infixl",
            "infixr",
            "prefix",
            "postfix",
            "simproc",
            "dsimproc",
            "simproc_decl",
            "dsimproc_decl",
            "builtin_simproc",
            "builtin_dsimproc",
            "register_simp_attr",
            "register_option",
        ],
        "`{w}` extends Lean's syntax or elaborator; a proof may not",
    ),
    **dict.fromkeys(["initialize", "builtin_initialize"], "`{w}` runs IO code"),
    **dict.fromkeys(["implemented_by", "extern"], "`{w}` swaps compiled code in"),
    "axiom": "`axiom` would assume what must be proved",
    "opaque": "`opaque` introduces an unchecked constant",
    "unsafe": "`unsafe` code escapes the kernel's checks",
    "import": "`import` is not allowed in a proof (the file's imports are fixed)",
    "attribute": "`attribute` changes declarations outside the proof",
    "variable": "`variable` could change the statement being proved",
    "include": "`include` could change the statement being proved",
    "omit": "`omit` could change the statement being proved",
    "namespace": "`namespace` would move the declaration (scopes are the file's business)",
    "section": "`section` would change the file's scopes",
    "end": "`end` would close the file's scopes",
    "mutual": "`mutual` blocks are not accepted from a model",
    "sorryAx": "`sorryAx` is `sorry` in disguise",
}
_SORRY = frozenset({"sorry", "admit"})
_NATIVE_NAMES = frozenset({"native_decide", "ofReduceBool", "reduceBool", "trustCompiler"})
_SEARCH_WORDS = frozenset({"hint", "rw_search", "library_search", "polyrith", "show_term", "suggest", "says"})
# `?`-suffixed names that are ordinary functions, not search tactics.
_QUESTION_FUNCTIONS = frozenset(
    "get? find? head? getLast? min? max? toNat? toInt? getElem? find?_eq lookup? indexOf? idxOf? isSome? "
    "back? tail? last? fst? snd? toOption? get?_eq".split()
)
_BAD_OPTION_PREFIXES = ("debug", "kernel", "trace")
# Attributes a helper lemma may carry; anything else (elaborator/compiler/init attributes) is refused.
_ALLOWED_ATTRS = frozenset(
    """
    simp simps reducible irreducible semireducible instance default_instance inline noinline specialize
    macro_inline ext norm_cast push_cast aesop grind refl symm trans congr gcongr mono elab_as_elim nolint
    to_additive deprecated measurability fun_prop continuity coe nontriviality field_simps mfld_simps bound
    zify_simps qify_simps pp_nodot inherit_doc match_pattern induction_eliminator cases_eliminator
    positivity simp_arith norm_num local scoped class
    """.split()
)
# A comment glued to one of these might be part of a longer operator token Lean knows and we don't
# (`//-`, `<--`): then Lean would read on as code where we saw a comment.
_OP_CHARS = frozenset("<>-=!+*&|^%$@~:?\\/.#")


def _word_rule(tok: Token) -> str:
    return tok.text if tok.kind is Kind.KEYWORD else tok.name


def _attr_findings(toks: list[Token], i: int) -> tuple[list[Finding], int]:
    """Check the attribute list opened by ``toks[i]`` (`@[`); return findings and the index after `]`."""
    findings: list[Finding] = []
    depth, j, expect_name = 0, i + 1, True
    while j < len(toks):
        t = toks[j]
        if t.kind is Kind.SYMBOL and t.text in "([{⟨":
            depth += 1
        elif t.kind is Kind.SYMBOL and t.text in ")]}⟩":
            if depth == 0 and t.text == "]":
                return findings, j + 1
            depth -= 1
        elif t.kind is Kind.SYMBOL and t.text == "," and depth == 0:
            expect_name = True
        elif expect_name and t.kind in (Kind.IDENT, Kind.KEYWORD) and t.text not in ("local", "scoped"):
            expect_name = False
            if t.name not in _ALLOWED_ATTRS:
                findings.append(
                    Finding("attribute", f"attribute `@[{t.name}]` is not allowed in model output", t.start)
                )
        j += 1
    findings.append(Finding("attribute", "unterminated `@[` attribute list", toks[i].start))
    return findings, j


def _screen_tokens(
    text: str, tokens: list[Token], *, allow_sorry: bool, allow_search_tactics: bool, allow_native_decide: bool
) -> list[Finding]:
    findings: list[Finding] = []
    for t in tokens:
        if t.error:
            findings.append(Finding("lexical", f"{t.error}: Lean would not read this as intended", t.start))
        elif t.kind in COMMENTS and t.start > 0 and text[t.start - 1] in _OP_CHARS:
            findings.append(Finding("comment", "a comment glued to an operator is ambiguous; add a space", t.start))
    toks = significant(tokens)
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.kind is Kind.ATTR_OPEN:
            found, i = _attr_findings(toks, i)
            findings.extend(found)
            continue
        if t.kind is Kind.COMMAND:
            vector_literal = len(t.text) == 2 and nxt is not None and nxt.text == "[" and nxt.start == t.end
            if not vector_literal:
                findings.append(
                    Finding(
                        t.text,
                        f"`{t.text}` is a command; model output may not run commands (the axiom audit is ours alone)",
                        t.start,
                    )
                )
        elif t.kind in (Kind.IDENT, Kind.KEYWORD):
            findings.extend(_word_findings(t, nxt, allow_sorry, allow_search_tactics, allow_native_decide))
        elif t.kind is Kind.SYMBOL and t.text == "+" and nxt is not None and nxt.name == "native":
            if not allow_native_decide and nxt.start == t.end:
                findings.append(Finding("native_decide", "`decide +native` trusts the compiler", t.start))
        elif t.kind is Kind.STRING and "{" in t.text and t.text.startswith('"'):
            findings.extend(_string_findings(t, allow_sorry, allow_search_tactics, allow_native_decide))
        i += 1
    return findings


def _word_findings(
    t: Token, nxt: Token | None, allow_sorry: bool, allow_search: bool, allow_native: bool
) -> list[Finding]:
    word = _word_rule(t)
    last = word.rsplit(".", 1)[-1]
    if word in _ALWAYS or last == "sorryAx":
        return [Finding(last, _ALWAYS.get(word, _ALWAYS["sorryAx"]).format(w=word), t.start)]
    if word in _SORRY:
        return [] if allow_sorry else [Finding("sorry", f"`{word}` leaves the proof unfinished", t.start)]
    if last in _NATIVE_NAMES or (word == "native" and nxt is not None and nxt.text == ":="):
        msg = f"`{word}` trusts the compiler instead of the kernel"
        return [] if allow_native else [Finding("native_decide", msg, t.start)]
    if word == "set_option":
        return _option_findings(t, nxt)
    searchy = word in _SEARCH_WORDS or (
        "." not in word and word.rstrip("!").endswith("?") and word.rstrip("!") not in _QUESTION_FUNCTIONS
    )
    if searchy and not allow_search:
        return [Finding("search", f"`{word}` is a search tactic; a final proof must use what it finds", t.start)]
    return []


def _option_findings(t: Token, nxt: Token | None) -> list[Finding]:
    if nxt is None or nxt.kind not in (Kind.IDENT, Kind.KEYWORD):
        return [Finding("set_option", "`set_option` without an option name", t.start)]
    head = nxt.name.split(".", 1)[0]
    if head in _BAD_OPTION_PREFIXES:
        return [Finding("set_option", f"option `{nxt.name}` may not be set by a model", nxt.start)]
    return []


def _string_findings(t: Token, allow_sorry: bool, allow_search: bool, allow_native: bool) -> list[Finding]:
    """Some macros (`throwError`, custom ones) read `{...}` inside a string as code: screen those parts too.
    Lexical noise of the string's own text (escapes, quotes) is not a finding."""
    inner = t.text[1:-1] if t.text.endswith('"') and len(t.text) > 1 else t.text[1:]
    found = _screen_tokens(
        inner,
        tokenize(inner),
        allow_sorry=allow_sorry,
        allow_search_tactics=allow_search,
        allow_native_decide=allow_native,
    )
    return [
        Finding(f.rule, f.message + " (inside a string's `{…}`)", f.offset + t.start + 1)
        for f in found
        if f.rule not in ("lexical", "comment")
    ]


def screen(
    candidate: str, *, allow_sorry: bool = False, allow_search_tactics: bool = False, allow_native_decide: bool = False
) -> list[Finding]:
    """Why ``candidate`` may not be handed to Lean; an empty list means admissible. Never raises.

    Sketches (partial proofs) pass ``allow_sorry=True``; final proofs use the strict defaults.
    """
    if not isinstance(candidate, str):
        return [Finding("input", "candidate is not text", 0)]
    try:
        found = _screen_tokens(
            candidate,
            tokenize(candidate),
            allow_sorry=allow_sorry,
            allow_search_tactics=allow_search_tactics,
            allow_native_decide=allow_native_decide,
        )
    except Exception as exc:  # a screening bug must refuse, never crash and never admit
        return [Finding("internal", f"screening failed: {type(exc).__name__}", 0)]
    return sorted(found, key=lambda f: f.offset)
