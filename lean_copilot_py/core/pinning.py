"""Reducing a model's Lean code to a proof for a known target ("pinning" it under the original statement).

Models often echo the whole file: imports, `open`s, a namespace, helper lemmas, the theorem (maybe
renamed) and its proof. Only the proof body and the helpers survive; the statement is the user's own, so a
model that changed it is refused rather than silently accepted. Helpers are screened by the caller.

Helpers are `theorem`/`lemma` declarations only, emitted `private`, and bounded in number and size. A
theorem proves a proposition, and proofs are irrelevant to what any statement means, so a helper cannot
change the meaning of a later statement of the user's file (an `instance`, a `def` shadowing a name, a
notation, an `open` or an option could); `private` keeps its name out of the user's other files. The
target itself is made airtight by the pinned-statement check in the checked document (lean/shadow.py).
Echoes of what the user's file already has (imports, scopes, its `open`s and options, its declarations)
are dropped, which can only remove model code.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from .lexer import Kind, Token, significant, tokenize
from .targets import DECL_KEYWORDS, Decl, command_starts, in_tactic_position, outline
from .types import Candidate, Target, TargetKind, Verdict, refusal_verdict

_FENCE = re.compile(r"```[ \t]*(?:lean4?|Lean4?)?[ \t]*\r?\n(.*?)(?:```|\Z)", re.DOTALL)
_DROPPED = frozenset({"import", "namespace", "section", "end"})
_HELPER_KEYWORDS = frozenset({"theorem", "lemma"})
DEFAULT_MAX_HELPERS = 8
DEFAULT_MAX_HELPER_CHARS = 20_000
# Spellings Lean treats alike, so an echoed statement using the other one is not "drift".
_ALIASES = {"->": "→", "<->": "↔", "λ": "fun", "↦": "=>", "forall": "∀", "exists": "∃", "<=": "≤", ">=": "≥",
            "!=": "≠", "lemma": "theorem", "example": "theorem"}  # fmt: skip
_TACTIC_WORDS = frozenset(
    """
    intro intros rintro simp simp_all dsimp simpa rw rwa rewrite exact apply refine refine' constructor cases
    rcases obtain induction omega linarith nlinarith norm_num decide ring ring_nf field_simp aesop unfold
    use exists have show calc by_contra by_cases push_neg contradiction exfalso trivial rfl subst ext funext
    congr gcongr positivity split_ifs split specialize generalize left right tauto grind native_decide
    all_goals any_goals first try repeat · next case nth_rewrite nth_rw conv change set let symm
    """.split()
)


@dataclass(frozen=True)
class PinResult:
    """Either a candidate for the target or the reason the model's code was refused."""

    candidate: Candidate | None = None
    refused: str = ""

    @property
    def ok(self) -> bool:
        return self.candidate is not None


def extract_code(model_output: str) -> str:
    """The last fenced Lean block of ``model_output`` (or the text itself when it has no fence)."""
    blocks = _FENCE.findall(model_output)
    return blocks[-1] if blocks else model_output


def _normalized(tokens: list[Token], skip: set[int]) -> str:
    return " ".join(_ALIASES.get(t.text, t.text) for i, t in enumerate(tokens) if i not in skip)


def _statement_key(d: Decl, tokens: tuple[Token, ...], assign: int) -> str:
    """The statement from the keyword to `:=`, without the name, modulo whitespace and comments."""
    part = list(tokens[d.kw : assign])
    skip = {1} if d.name and len(part) > 1 and part[1].text == d.name else set()
    return _normalized(part, skip)


def _assign_index(d: Decl) -> int | None:
    return d.body - 1 if d.assign_end is not None else None


def _proof_text(code: str, d: Decl) -> str:
    start = d.assign_end if d.assign_end is not None else d.end
    return code[start : d.end].strip()


def _looks_like_tactics(code: str) -> bool:
    toks = significant(tokenize(code))
    if not toks:
        return False
    first = toks[0].text
    if first in _TACTIC_WORDS and first not in ("show", "calc", "fun", "rfl", "trivial"):
        return True
    # Several lines at one indentation are a tactic sequence, not a term.
    lines = [ln for ln in code.splitlines() if ln.strip()]
    return len(lines) > 1 and first in _TACTIC_WORDS


def _shape(target: Target, proof: str) -> str:
    """Give ``proof`` the shape its place needs: `by …`/term for a declaration or a term-position sorry,
    bare tactics for a tactic-position sorry or cursor."""
    proof = proof.strip()
    if proof.startswith(":="):
        proof = proof[2:].strip()
    toks = significant(tokenize(proof))
    starts_by = bool(toks) and toks[0].text == "by"
    tactic_place = target.kind is not TargetKind.DECLARATION and in_tactic_position(target)
    if tactic_place:
        if starts_by:
            body = proof[toks[0].end :]
            return body.strip("\n").strip() if "\n" not in body.strip("\n") else _dedent(body)
        return proof
    if starts_by or not _looks_like_tactics(proof):
        return proof
    return "by\n" + "\n".join("  " + ln if ln.strip() else "" for ln in _dedent(proof).split("\n"))


def _dedent(block: str) -> str:
    lines = [ln.rstrip() for ln in block.replace("\r\n", "\n").strip("\n").split("\n")]
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
    cut = min(indents, default=0)
    return "\n".join(ln[cut:] if ln.strip() else "" for ln in lines)


@dataclass(frozen=True)
class _Helpers:
    text: str = ""
    refused: str = ""


def _helpers(code: str, upto: int, prefix: str, max_helpers: int, max_chars: int) -> _Helpers:
    """Top-level commands before offset ``upto``, as private theorems; echoes of the user's file dropped."""
    kept: list[str] = []
    starts = sorted(set(command_starts(code)) | {upto})
    known: str | None = None  # the user's prefix, whitespace-normalised, computed when first needed
    for a, b in itertools.pairwise(starts):
        if a >= upto:
            break
        piece = code[a:b].strip()
        chunk_toks = significant(tokenize(piece))
        if not chunk_toks or chunk_toks[0].kind is Kind.MODULE_DOC:
            continue
        head = next((t for t in chunk_toks if t.kind is Kind.KEYWORD or t.kind is Kind.COMMAND), None)
        if head is not None and head.text in _DROPPED:
            continue
        if known is None:
            known = " ".join(prefix.split())
        if " ".join(piece.split()) in known:
            continue  # the user's file already has exactly this
        helper = _as_private_theorem(piece, chunk_toks)
        if helper.refused:
            return helper
        kept.append(helper.text)
    if len(kept) > max_helpers:
        return _Helpers(refused=f"the model wrote {len(kept)} helper lemmas; at most {max_helpers} are accepted "
                        "(inline the small ones into the proof)")
    text = "\n\n".join(kept)
    if len(text) > max_chars:
        return _Helpers(refused=f"the helper lemmas are {len(text)} characters long; at most {max_chars} are "
                        "accepted")
    return _Helpers(text)


def _as_private_theorem(piece: str, toks: list[Token]) -> _Helpers:
    """``piece`` as a `private theorem`, or why it cannot be a helper."""
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind is Kind.DOC_COMMENT:
            i += 1
        elif t.kind is Kind.ATTR_OPEN:
            depth = 0
            while i < len(toks):
                depth += toks[i].kind is Kind.ATTR_OPEN or toks[i].text == "["
                depth -= toks[i].text == "]"
                i += 1
                if depth == 0:
                    break
        elif t.text in ("open", "set_option"):
            stops = ("in", *_HELPER_KEYWORDS)
            j = next((k for k in range(i + 1, len(toks)) if toks[k].text in stops), None)
            if j is None or toks[j].text != "in":
                return _Helpers(refused=f"`{t.text} …` in front of the statement would change how the rest of "
                                f"the file reads; write `{t.text} … in` before the lemma that needs it, or use full "
                                "names")
            i = j + 1
        elif t.text == "private" and i + 1 < len(toks) and toks[i + 1].text in _HELPER_KEYWORDS:
            return _Helpers(piece)
        elif t.text in _HELPER_KEYWORDS:
            return _Helpers(piece[: t.start] + "private " + piece[t.start :])
        else:
            what = f"`{t.text}`" + (f" {toks[i + 1].text}" if i + 1 < len(toks) and t.kind is Kind.KEYWORD else "")
            return _Helpers(refused=f"{what} is not accepted before the statement: helpers must be `theorem` or "
                            "`lemma` declarations (a definition, instance, notation or option there could change "
                            "what the statement means); state what you need as a lemma, or put it inside the proof")
    return _Helpers(refused="a helper without a `theorem` or `lemma` declaration")


def _choose(target: Target, code: str) -> Decl | None:
    """The model's declaration that stands for the target: same name, else same statement, else the last."""
    o = outline(code)
    decls = [d for d in o.decls if d.keyword in DECL_KEYWORDS]
    if not decls:
        return None
    want = {target.decl_name, target.full_name, target.full_name.rsplit(".", 1)[-1]} - {""}
    for d in reversed(decls):
        if d.name.replace("«", "").replace("»", "") in want or d.full_name in want:
            return d
    if target.kind is not TargetKind.DECLARATION:
        return decls[-1]  # a wrapper `theorem X : <goal> := by …` for a sorry or cursor
    target_key = _target_key(target)
    for d in reversed(decls):
        a = _assign_index(d)
        if a is not None and _statement_key(d, o.tokens, a) == target_key:
            return d
    return decls[-1]


def _target_key(target: Target) -> str:
    o = outline(target.header)
    if not o.decls:
        return ""
    d = o.decls[0]
    toks = o.tokens
    a = next((i for i in range(len(toks) - 1, -1, -1) if toks[i].text == ":="), len(toks))
    part = list(toks[d.kw : a])
    skip = {1} if d.name and len(part) > 1 and part[1].text == d.name else set()
    return _normalized(part, skip)


def pin(
    target: Target,
    model_code: str,
    *,
    max_helpers: int = DEFAULT_MAX_HELPERS,
    max_helper_chars: int = DEFAULT_MAX_HELPER_CHARS,
) -> PinResult:
    """Reduce ``model_code`` to a Candidate for ``target``, or refuse it (statement drift, no proof, helpers
    that are not theorems or too many). Never raises."""
    try:
        return _pin(target, model_code, max_helpers, max_helper_chars)
    except Exception as exc:  # untrusted text must never crash the search
        return PinResult(refused=f"could not read the model's code ({type(exc).__name__})")


def _pin(target: Target, model_code: str, max_helpers: int, max_helper_chars: int) -> PinResult:
    code = extract_code(model_code if isinstance(model_code, str) else "").replace("\r\n", "\n")
    if not code.strip():
        return PinResult(refused="the model gave no code")
    d = _choose(target, code)
    if d is None:  # only a proof: `by …`, `:= …`, a term, or bare tactics
        proof = _shape(target, code)
        return PinResult(Candidate(proof=proof)) if proof else PinResult(refused="the model gave no proof")
    o = outline(code)
    a = _assign_index(d)
    if a is None:
        return PinResult(refused=f"the model's `{d.name or d.keyword}` has no `:=` proof")
    if target.kind is TargetKind.DECLARATION:
        mine, theirs = _target_key(target), _statement_key(d, o.tokens, a)
        if mine != theirs:
            stated = code[o.tokens[d.kw].start : o.tokens[a].start].strip()
            return PinResult(
                refused=f"the model changed the statement:\n  target: {target.statement}\n  model:  {stated}"
            )
    proof = _shape(target, _proof_text(code, d))
    if not proof:
        return PinResult(refused="the model's declaration has an empty proof")
    helpers = _helpers(code, d.start, target.prefix, max_helpers, max_helper_chars)
    if helpers.refused:
        return PinResult(refused=helpers.refused)
    return PinResult(Candidate(proof=proof, helpers=helpers.text))


def pin_code(
    target: Target, code: str, origin: str, *, max_helpers: int = DEFAULT_MAX_HELPERS,
    max_helper_chars: int = DEFAULT_MAX_HELPER_CHARS,
) -> Candidate | Verdict:
    """The model's Lean code as a candidate under the target's original statement, or a REFUSED verdict."""
    result = pin(target, code, max_helpers=max_helpers, max_helper_chars=max_helper_chars)
    if result.candidate is None:
        return refusal_verdict(result.refused or "the code does not contain the target declaration", code)
    return replace(result.candidate, origin=origin)
