"""What a shadow document holds for one check, and where its parts are.

Layout: ``target.prefix`` (the user's file before the declaration) + helpers + the declaration under its
original header + ``#print axioms``. The document ends right after the audit so Lean elaborates nothing
the check does not need (edits re-elaborate from the changed command to the end).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..core.lexer import Kind, tokenize
from ..core.splice import declaration_text, replacement_text
from ..core.types import Candidate, Pos, Target, offset_to_pos, pos_to_offset

_HEADER_LINE = re.compile(r"^\s*(?:(?:public|meta|private)\s+)*(?:import\s|prelude\b|module\b)")


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

    def in_snippet(self, pos: Pos) -> bool:
        return self.origin <= pos and pos.line < self.audit_line

    def offset_pos(self, offset: int) -> Pos:
        return offset_to_pos(self.text, offset)


def shadow_for(target: Target, candidate: Candidate) -> ShadowText:
    prefix = target.prefix
    helpers = candidate.helpers.strip("\n")
    helper_text = helpers + "\n\n" if helpers else ""
    decl = declaration_text(target, candidate)
    name, renamed = target.full_name, 0
    if not name:
        decl, name, renamed = _name_example(decl)
    snippet = helper_text + decl
    audit = f"\n\n#print axioms {name}\n"
    text = prefix + snippet + audit
    origin = offset_to_pos(text, len(prefix))
    decl_off = len(prefix) + len(helper_text)
    # The candidate's own text inside the declaration: the replacement of proof_span.
    into_decl = pos_to_offset(target.text, target.proof_span.start) - pos_to_offset(target.text, target.decl_span.start)
    proof_off = decl_off + into_decl + renamed
    replaced = replacement_text(target, candidate)
    ranges = [(len(prefix), len(prefix) + len(helpers))] if helpers else []
    ranges.append((proof_off, proof_off + len(replaced)))
    return ShadowText(
        text=text,
        snippet=snippet,
        origin=origin,
        decl_start=offset_to_pos(text, decl_off),
        audit_line=offset_to_pos(text, len(prefix) + len(snippet) + 2).line,
        candidate_ranges=tuple(ranges),
    )


AUDIT_NAME = "lean_copilot_audited_example"


def _name_example(decl: str) -> tuple[str, str, int]:
    """`#print axioms` needs a name, and an `example` has none: check it as an equivalent theorem with a
    name of ours (the statement is untouched). Returns the text, the name, and how many characters the
    rename added before the proof."""
    for tok in tokenize(decl):
        if tok.kind is Kind.KEYWORD and tok.text == "example":
            named = f"theorem {AUDIT_NAME}"
            return decl[: tok.start] + named + decl[tok.end :], AUDIT_NAME, len(named) - len("example")
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
