"""What a shadow document holds for one check, and where its parts are.

Layout::

    <target.prefix: the user's file before the declaration>
    axiom _lean_copilot_pinned_statement <the user's signature>        -- pinned before any model code
    <helpers>                                                            -- the snippet starts here
    <the declaration under its original header, with the candidate's proof>
    theorem lean_copilot_statement_check : type_of% @_lean_copilot_pinned_statement := @<declaration>
    #print axioms lean_copilot_statement_check

The pinned axiom elaborates the user's statement before the model's helpers can change anything (an
instance, a notation, an option), and the check line makes Lean confirm that the declaration that was
proved has exactly that type (up to definitional equality, checked by the kernel). The audit is of the
check constant: its axioms are the declaration's, and it only exists when the check elaborated. The
axiom's name starts with `_`, so library search (`exact?`) skips it as an internal detail. The document
ends right after the audit so Lean elaborates nothing the check does not need.

Written back to the user's file is the snippet alone (core/splice.py), never the pinned axiom or the check.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..core.lexer import Kind, Token, significant, tokenize
from ..core.splice import declaration_text, helpers_text, line_ending, replacement_text
from ..core.types import Candidate, Pos, Target, offset_to_pos, pos_to_offset

PINNED_NAME = "_lean_copilot_pinned_statement"
CHECK_NAME = "lean_copilot_statement_check"
AUDIT_NAME = "lean_copilot_audited_example"
_PROP_KEYWORDS = frozenset({"theorem", "lemma", "example"})  # checked as `theorem`; the rest are data
_HEADER_LINE = re.compile(r"^\s*(?:(?:public|meta|private)\s+)*(?:import\s|prelude\b|module\b)")
_OPEN, _CLOSE = frozenset("([{⦃⟨"), frozenset(")]}⦄⟩")


def import_header(text: str) -> str:
    """The leading `import` lines (with the blank and `--` comment lines among them), as written."""
    end = 0
    offset = 0
    for line in text.split("\n"):
        nxt = offset + len(line) + 1
        stripped = line.strip()
        if _HEADER_LINE.match(line):
            end = min(nxt, len(text))
        elif stripped and not stripped.startswith("--"):
            break
        offset = nxt
    return text[:end]


def header_key(text: str) -> str:
    """Pool key: the imports, normalised so comments and spacing don't split pools."""
    lines = [" ".join(ln.split()) for ln in import_header(text).split("\n")]
    return "\n".join(ln for ln in lines if ln and not ln.startswith("--"))


def slot_stem(key: str) -> str:
    return "LeanCopilotShadow_" + hashlib.sha1(key.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class ShadowText:
    text: str  # the whole shadow document
    snippet: str  # helpers + declaration: what message positions are relative to
    origin: Pos  # where the snippet starts in ``text``
    decl_start: Pos  # where the target declaration starts in ``text``
    audit_line: int  # the line of the appended `#print axioms`
    candidate_ranges: tuple[tuple[int, int], ...]  # offsets in ``text`` of text the candidate wrote
    pinned_lines: tuple[int, int] | None = None  # [first, end) lines of the pinned axiom
    check_line: int = -1  # first line of the statement check (-1: none, the declaration is audited)
    audited: str = ""  # the constant `#print axioms` is asked about

    def in_snippet(self, pos: Pos) -> bool:
        end = self.check_line if self.check_line >= 0 else self.audit_line
        return self.origin <= pos and pos.line < end

    def in_check(self, pos: Pos) -> bool:
        return 0 <= self.check_line <= pos.line < self.audit_line

    def in_pinned(self, pos: Pos) -> bool:
        return self.pinned_lines is not None and self.pinned_lines[0] <= pos.line < self.pinned_lines[1]

    def offset_pos(self, offset: int) -> Pos:
        return offset_to_pos(self.text, offset)


@dataclass(frozen=True)
class Signature:
    keyword: str  # `theorem`, `def`, `instance`, ...
    universes: str  # `.{u v}` right after the name, or ""
    binders_and_type: str  # `(a b : N) : Eq (Op.op a b) (Op.op b a)`


def _header_signature(header: str) -> Signature | None:
    """The user's statement without modifiers, attributes and name; None when it has no `: type` (the
    type then comes from the proof, so there is no statement to pin)."""
    toks = significant(tokenize(header))
    kw = next((i for i, t in enumerate(toks) if t.kind is Kind.KEYWORD and t.text in _DECL_KEYWORDS), None)
    assign = next((i for i in range(len(toks) - 1, -1, -1) if toks[i].text == ":="), None)
    if kw is None or assign is None or assign <= kw:
        return None
    keyword, j, universes = toks[kw].text, kw + 1, ""
    if keyword == "instance" and j + 1 < assign and toks[j].text == "(" and toks[j + 1].text == "priority":
        j = _after_brackets(toks, j)
    if keyword != "example" and j < assign and toks[j].kind is Kind.IDENT:
        name_end = toks[j].end
        j += 1
        if j + 1 < assign and toks[j].text == "." and toks[j].start == name_end and toks[j + 1].text == "{":
            k = _after_brackets(toks, j + 1)
            universes = header[toks[j].start : toks[k - 1].end]
            j = k
    if j >= assign or not _has_type(toks[j:assign]):
        return None
    return Signature(keyword, universes, header[toks[j].start : toks[assign].start].strip())


_DECL_KEYWORDS = frozenset({"theorem", "lemma", "def", "example", "instance", "abbrev"})


def _after_brackets(toks: list[Token], i: int) -> int:
    depth = 0
    for k in range(i, len(toks)):
        if toks[k].text in _OPEN:
            depth += 1
        elif toks[k].text in _CLOSE:
            depth -= 1
            if depth == 0:
                return k + 1
    return len(toks)


def _has_type(toks: list[Token]) -> bool:
    depth = 0
    for t in toks:
        if t.kind is not Kind.SYMBOL:
            continue
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth -= 1
        elif t.text == ":" and depth == 0:
            return True
    return False


def shadow_for(target: Target, candidate: Candidate) -> ShadowText:
    prefix = target.prefix
    if prefix and not prefix.endswith("\n"):
        prefix += "\n"
    signature = _header_signature(target.header)
    pinned = ""
    if signature is not None:
        pinned = f"axiom {PINNED_NAME}{signature.universes} {signature.binders_and_type}\n\n"
    helper_text = helpers_text(target, candidate)  # as the file will hold them: its line endings, a blank line after
    helpers_len = len(helper_text) - 2 * len(line_ending(target)) if helper_text else 0
    decl = declaration_text(target, candidate)
    name, renamed = target.full_name, 0
    if not name:
        decl, name, renamed = _name_unnamed(decl)
    snippet = helper_text + decl
    head = prefix + pinned
    if signature is not None and name:
        kw = "theorem" if signature.keyword in _PROP_KEYWORDS else "noncomputable def"
        check = f"\n\n{kw} {CHECK_NAME} : type_of% @{PINNED_NAME} := @{name}"
        audited = CHECK_NAME
    else:
        check, audited = "", name
    audit = f"\n\n#print axioms {audited}\n"
    text = head + snippet + check + audit
    origin = offset_to_pos(text, len(head))
    decl_off = len(head) + len(helper_text)
    # The candidate's own text inside the declaration: the replacement of proof_span.
    into_decl = pos_to_offset(target.text, target.proof_span.start) - pos_to_offset(target.text, target.decl_span.start)
    proof_off = decl_off + into_decl + renamed
    replaced = replacement_text(target, candidate)
    ranges = [(len(head), len(head) + helpers_len)] if helper_text else []
    ranges.append((proof_off, proof_off + len(replaced)))
    after_snippet = len(head) + len(snippet)
    return ShadowText(
        text=text,
        snippet=snippet,
        origin=origin,
        decl_start=offset_to_pos(text, decl_off),
        audit_line=offset_to_pos(text, after_snippet + len(check) + 2).line,
        candidate_ranges=tuple(ranges),
        pinned_lines=(offset_to_pos(text, len(prefix)).line, origin.line) if pinned else None,
        check_line=offset_to_pos(text, after_snippet + 2).line if check else -1,
        audited=audited,
    )


def _name_unnamed(decl: str) -> tuple[str, str, int]:
    """`#print axioms` and the statement check need a name, and an `example` or an anonymous `instance`
    has none: check it under a name of ours (the statement is untouched; an `example` becomes the
    equivalent `theorem`). Returns the text, the name, and how many characters the rename added before
    the proof."""
    toks = significant(tokenize(decl))
    for i, tok in enumerate(toks):
        if tok.kind is Kind.KEYWORD and tok.text == "example":
            named = f"theorem {AUDIT_NAME}"
            return decl[: tok.start] + named + decl[tok.end :], AUDIT_NAME, len(named) - len("example")
        if tok.kind is Kind.KEYWORD and tok.text == "instance":
            j = i + 1
            if j + 1 < len(toks) and toks[j].text == "(" and toks[j + 1].text == "priority":
                j = _after_brackets(toks, j)
            if j < len(toks) and toks[j].kind is not Kind.IDENT:
                at = toks[j - 1].end
                named = f" {AUDIT_NAME}"
                return decl[:at] + named + decl[at:], AUDIT_NAME, len(named)
            return decl, "", 0
    return decl, "", 0


def sorry_positions(shadow: ShadowText, limit: int = 16) -> list[Pos]:
    """Positions of `sorry` tokens the candidate wrote (not the user's other sorries)."""
    found: list[Pos] = []
    for start, end in shadow.candidate_ranges:
        for m in re.finditer(r"(?<![\w.'])sorry(?![\w'])", shadow.text[start:end]):
            found.append(shadow.offset_pos(start + m.start()))
            if len(found) >= limit:
                return found
    return found
