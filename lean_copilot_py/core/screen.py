"""Screening of untrusted Lean text (model output) before Lean elaborates it.

Elaborating Lean runs code: `#eval`, `run_cmd`, macros, `initialize`, `@[implemented_by]` and friends can do
anything the Lean process can. Others cheat rather than attack: `sorry`, `axiom`, `native_decide`, options
that skip the kernel, or a `#print axioms` of the model's own that would be mistaken for our audit. Screening
works on tokens from :mod:`.lexer`, so words inside real comments and strings never count, and constructs
hidden by comment or string tricks are seen where Lean would see them.

Lean may read more than the straight token stream (:mod:`.recovery`): the holes of any literal that could
be an interpolated string, and what follows a parse error inside a literal or a hole. The straight stream
and the holes get every rule; the other streams, which Lean only reaches after an error (so such a check
can never be PROVED), get the rules about running code.
"""

from __future__ import annotations

from .lexer import COMMENTS, Kind, Token, significant
from .recovery import OP_CHARS, CodeView, code_view
from .structure import structure_findings
from .types import Candidate, Finding, Verdict, refusal_verdict

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
    "notation3": "`notation3` extends Lean's syntax; a proof may not",
}
# What runs code or changes how Lean reads the rest of the text: refused in every reading of the text.
_EXEC = frozenset(
    """
    run_cmd run_elab run_meta run_tac by_elab elab elab_rules macro macro_rules syntax declare_syntax_cat
    notation notation3 infix infixl infixr prefix postfix simproc dsimproc simproc_decl dsimproc_decl
    builtin_simproc builtin_dsimproc register_simp_attr register_option initialize builtin_initialize
    implemented_by extern import attribute unsafe
    """.split()
)
# Our own names in the checked document (the pinned statement, the check, the renamed example).
RESERVED_PREFIX = "lean_copilot_"
_SORRY = frozenset({"sorry", "admit"})
_NATIVE_NAMES = frozenset({"native_decide", "ofReduceBool", "reduceBool", "trustCompiler"})
_SEARCH_WORDS = frozenset({"hint", "rw_search", "library_search", "polyrith", "show_term", "suggest", "says"})
# `?`-suffixed names that are ordinary functions, not search tactics.
_QUESTION_FUNCTIONS = frozenset(
    "get? find? head? getLast? min? max? toNat? toInt? getElem? find?_eq lookup? indexOf? idxOf? isSome? "
    "back? tail? last? fst? snd? toOption? get?_eq".split()
)
_BAD_OPTION_PREFIXES = ("debug", "kernel", "trace", "doc")
# Attributes model code may carry; anything else (elaborator/compiler/init attributes) is refused. Not
# `instance`, `default_instance`, `class` or `coe`: they change how later statements of the user's file
# elaborate (a `where` clause or a helper could otherwise bring an instance with it).
_ALLOWED_ATTRS = frozenset(
    """
    simp simps reducible irreducible semireducible inline noinline specialize
    macro_inline ext norm_cast push_cast aesop grind refl symm trans congr gcongr mono elab_as_elim nolint
    to_additive deprecated measurability fun_prop continuity nontriviality field_simps mfld_simps bound
    zify_simps qify_simps pp_nodot inherit_doc match_pattern induction_eliminator cases_eliminator
    positivity simp_arith norm_num local scoped
    """.split()
)


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


def _lexical_findings(text: str, view: CodeView) -> list[Finding]:
    found = [Finding("ambiguous-string", a.message, a.offset) for a in view.ambiguities]
    for t in view.tokens:
        if t.error:
            found.append(Finding("lexical", f"{t.error}: Lean would not read this as intended", t.start))
        elif t.kind in COMMENTS and t.start > 0 and text[t.start - 1] in OP_CHARS:
            found.append(Finding("comment", "a comment glued to an operator is ambiguous; add a space", t.start))
        elif t.kind is Kind.CHAR and ("\t" in t.text or "\n" in t.text):
            # The splice turns tabs into spaces and re-indents lines: that would change this literal's extent.
            found.append(Finding("lexical", "a raw tab or line break in a character literal; escape it", t.start))
    if not view.complete:
        found.append(Finding("lexical", "the text has too many ways of being read to be screened", 0))
    return found


def _code_tokens(view: CodeView) -> list[Token]:
    """The straight reading's code with the code of each literal's holes right after the literal."""
    out: list[Token] = []
    for t in significant(view.tokens):
        out.append(t)
        holes = view.holes.get(t.start)
        if holes:
            out.extend(significant(holes))
    return out


def _screen_tokens(
    toks: list[Token], *, allow_sorry: bool, allow_search_tactics: bool, allow_native_decide: bool, exec_only: bool
) -> list[Finding]:
    findings: list[Finding] = []
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
        elif exec_only:
            if t.kind in (Kind.IDENT, Kind.KEYWORD) and _word_rule(t) in _EXEC:
                findings.extend(_word_findings(t, nxt, True, True, True))
        elif t.kind in (Kind.IDENT, Kind.KEYWORD, Kind.NAME_LIT):
            findings.extend(_word_findings(t, nxt, allow_sorry, allow_search_tactics, allow_native_decide))
        elif t.kind is Kind.SYMBOL and t.text == "+" and nxt is not None and nxt.name == "native":
            if not allow_native_decide and nxt.start == t.end:
                findings.append(Finding("native_decide", "`decide +native` trusts the compiler", t.start))
        i += 1
    return findings


def _reserved(t: Token) -> bool:
    return any(part.lstrip("_").startswith(RESERVED_PREFIX) for part in t.name.lstrip("`").split("."))


def _word_findings(
    t: Token, nxt: Token | None, allow_sorry: bool, allow_search: bool, allow_native: bool
) -> list[Finding]:
    if _reserved(t):
        msg = f"`{t.name}`: names starting with `lean_copilot_` are reserved for lean-copilot's own checks"
        return [Finding("reserved", msg, t.start)]
    if t.kind is Kind.NAME_LIT:
        return []
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


def screen(
    candidate: str, *, allow_sorry: bool = False, allow_search_tactics: bool = False, allow_native_decide: bool = False
) -> list[Finding]:
    """Why ``candidate`` may not be handed to Lean; an empty list means admissible. Never raises.

    Sketches (partial proofs) pass ``allow_sorry=True``; final proofs use the strict defaults.
    """
    if not isinstance(candidate, str):
        return [Finding("input", "candidate is not text", 0)]
    try:
        view = code_view(candidate)
        found = _lexical_findings(candidate, view)
        found += _screen_tokens(
            _code_tokens(view),
            allow_sorry=allow_sorry,
            allow_search_tactics=allow_search_tactics,
            allow_native_decide=allow_native_decide,
            exec_only=False,
        )
        seen = {(f.rule, f.offset) for f in found}
        for stream in view.streams:
            for f in _screen_tokens(
                significant(stream), allow_sorry=True, allow_search_tactics=True, allow_native_decide=True,
                exec_only=True,
            ):
                if (f.rule, f.offset) not in seen:
                    seen.add((f.rule, f.offset))
                    found.append(Finding(f.rule, f"{f.message} (Lean reads it as code after a parse error)", f.offset))
    except Exception as exc:  # a screening bug must refuse, never crash and never admit
        return [Finding("internal", f"screening failed: {type(exc).__name__}", 0)]
    return sorted(found, key=lambda f: f.offset)


def candidate_text(candidate: Candidate) -> str:
    """What of a candidate Lean will see besides the (trusted) original header."""
    return f"{candidate.helpers}\n\n{candidate.proof}" if candidate.helpers.strip() else candidate.proof


def screen_candidate(candidate: Candidate, *, strict: bool, allow_native_decide: bool = False) -> Verdict | None:
    """None when admissible; a REFUSED verdict naming every finding otherwise. ``strict``: a final proof (no
    `sorry`, no search tactics); a sketch may hold both."""
    text = candidate_text(candidate)
    findings = screen(
        text,
        allow_sorry=not strict,
        allow_search_tactics=not strict,
        allow_native_decide=allow_native_decide,
    )
    # Nothing but the proof and private helper theorems may reach the user's file.
    findings += structure_findings(candidate.helpers, candidate.proof, proof_offset=len(text) - len(candidate.proof))
    if not findings:
        return None
    reason = "; ".join(f.message for f in findings)
    return refusal_verdict(f"refused: {reason}", text, [(f.offset, f.message) for f in findings])
