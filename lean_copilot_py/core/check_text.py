"""What a check is about, as text: the candidate in a normal form that Lean cannot tell apart from the
original, a key for sharing, and the way back from the normal form's coordinates to the candidate's own.

Lean is whitespace-sensitive (tactic blocks and `·` compare token columns, ``colGt``/``checkColGe`` compare a
token with a saved position, ``checkWsBefore``/``checkLinebreakBefore`` ask whether whitespace or a line break
separates two tokens), so the normal form changes nothing a parser can see:

- a line's trailing whitespace and its end-of-line ``--`` comment go (CRLF's ``\\r`` is trailing whitespace);
- lines that hold only whitespace and ``--`` comments go;
- nothing else changes: indentation, spacing inside a line, block comments, doc comments (``/-- -/`` is
  syntax), string literals and every line that ends inside one of them are kept byte for byte.

Every remaining token keeps its line's text before it, hence its column; two tokens that were separated by a
line break still are (a dropped line sat between two line breaks). Comments are found with core/lexer.py, so a
``--`` inside a string or a block comment is not one; text the lexer flags (an unterminated comment or string)
is not normalised at all. The normal form is what is sent to Lean, and only when splicing it gives exactly the
normal form of what splicing the original gives (``declaration_text`` re-indents proofs: a dropped comment line
could change the common indentation it removes) — otherwise the original is sent and keyed as it is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

from .lexer import Kind, tokenize
from .splice import declaration_text, helper_block, replacement_text
from .types import Candidate, Pos, SorryGoal, Span, Target, TargetKind, Verdict

_NO_CONTENT = frozenset({Kind.WHITESPACE, Kind.LINE_COMMENT})
_LINE_REASON = re.compile(r"^line (\d+): ")


@dataclass(frozen=True)
class Lines:
    """A text in normal form and, for each of its lines, the line of the original it came from."""

    text: str
    kept: tuple[int, ...]


def normal_lines(text: str, *, attached: bool = False) -> Lines | None:
    """``text`` without trailing whitespace, end-of-line ``--`` comments and comment-only lines; None when the
    lexer finds something it cannot vouch for. ``attached``: the first line continues a line of the document
    (a proof after ``:=``), so it is trimmed but never dropped."""
    tokens = tokenize(text)
    if any(t.error for t in tokens):
        return None
    lines = text.split("\n")
    ends: list[int] = []  # per line: where its content ends (an offset into text), -1 = no content
    starts: list[int] = []
    offset = 0
    for line in lines:
        starts.append(offset)
        ends.append(-1)
        offset += len(line) + 1
    line_no = 0
    for tok in tokens:
        if tok.kind in _NO_CONTENT:
            continue
        # Every line the token touches has content up to the token's end, or up to the line's end when the
        # token runs on past it.
        while line_no + 1 < len(starts) and starts[line_no + 1] <= tok.start:
            line_no += 1
        k = line_no
        while True:
            line_end = starts[k] + len(lines[k])
            if tok.end <= line_end or k + 1 >= len(lines):
                ends[k] = max(ends[k], min(tok.end, line_end))
                break
            ends[k] = line_end  # the line ends inside the token (a string, a block comment): kept whole
            k += 1
    out: list[str] = []
    kept: list[int] = []
    for i, line in enumerate(lines):
        if ends[i] < 0 and not (attached and i == 0):
            continue
        out.append(line[: max(0, ends[i] - starts[i])])
        kept.append(i)
    return Lines("\n".join(out), tuple(kept))


@dataclass(frozen=True)
class CheckForm:
    """One candidate for one target, ready to be shared: ``sent`` is what Lean checks, ``key`` names it
    (together with the checker's environment), and ``translate`` moves a verdict on ``sent`` back to the
    candidate's own snippet."""

    key: str
    sent: Candidate
    identity: bool  # sent is the candidate itself (nothing to translate)
    line_map: tuple[int, ...] = ()  # sent snippet line -> own snippet line
    own_lines: tuple[str, ...] = ()  # the own snippet, naively spliced (no `example` rename)
    sent_lines: tuple[str, ...] = ()

    def translate(self, verdict: Verdict) -> Verdict:
        if self.identity:
            return verdict
        return dataclasses.replace(
            verdict,
            messages=tuple(dataclasses.replace(m, span=self._span(m.span)) for m in verdict.messages),
            sorries=tuple(SorryGoal(self._span(s.span), s.goal) for s in verdict.sorries),
            reason=self._reason(verdict),
            snippet=self._snippet(verdict.snippet),
        )

    def _line(self, line: int) -> int:
        if 0 <= line < len(self.line_map):
            return self.line_map[line]
        if self.line_map and line >= len(self.line_map):  # past the snippet (Lean's end-of-input errors)
            return self.line_map[-1] + line - len(self.line_map) + 1
        return line

    def _span(self, span: Span) -> Span:
        return Span(Pos(self._line(span.start.line), span.start.col), Pos(self._line(span.end.line), span.end.col))

    def _reason(self, verdict: Verdict) -> str:
        # lean/verdict.py names the first error's snippet line ("line 3: unknown identifier ..."); a reason
        # about the user's own file before the snippet has no message in the verdict and stays as it is.
        m = _LINE_REASON.match(verdict.reason)
        if m is None or not any(msg.span.start.line == int(m.group(1)) - 1 for msg in verdict.messages):
            return verdict.reason
        return f"line {self._line(int(m.group(1)) - 1) + 1}: {verdict.reason[m.end():]}"

    def _snippet(self, snippet: str) -> str:
        """The candidate's own snippet, rebuilt from the checked one line by line: a kept line is the checked
        line (which carries any rename the checker made, e.g. `example` -> a named theorem) plus what the
        normal form trimmed; a dropped line comes back as written."""
        if not snippet:
            return snippet
        checked = snippet.split("\n")
        if len(checked) != len(self.sent_lines):
            return "\n".join(self.own_lines)  # a checker that lays snippets out differently: the plain splice
        own = list(self.own_lines)
        for i, j in enumerate(self.line_map):
            line, sent = checked[i], self.sent_lines[i]
            cr = "\r" if line.endswith("\r") and not sent.endswith("\r") else ""  # a CRLF file's, added when checked
            own[j] = line.removesuffix(cr) + self.own_lines[j][len(sent):] + cr
        return "\n".join(own)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _snippet_lines(helpers: str, decl: str) -> list[str]:
    """How lean/shadow.py lays out the checked snippet: the helpers, a blank line, the declaration (in a CRLF
    file the checked helper lines also end in "\\r": core.splice.helpers_text)."""
    return [*helpers.split("\n"), "", *decl.split("\n")] if helpers else decl.split("\n")


def check_form(target: Target, candidate: Candidate) -> CheckForm:
    """The candidate's normal form for ``target`` (the original when normalising could change anything)."""
    helpers = helper_block(candidate)
    decl = declaration_text(target, candidate)
    context = (target.prefix, target.full_name, target.kind.value, str(target.other_sorries))
    raw = CheckForm(_digest("raw", *context, helpers, decl), candidate, identity=True)
    n_helpers = normal_lines(helpers) if helpers else Lines("", ())
    n_decl = normal_lines(decl)
    n_repl = normal_lines(replacement_text(target, candidate), attached=True)
    if n_helpers is None or n_decl is None or n_repl is None:
        return raw
    proof = n_repl.text
    if target.kind is TargetKind.DECLARATION:
        proof = proof.removeprefix(" ")  # replacement_text puts it back
    sent = Candidate(proof=proof, helpers=n_helpers.text, origin=candidate.origin)
    if n_helpers.text.strip("\n") != n_helpers.text or declaration_text(target, sent) != n_decl.text:
        return raw  # splicing the normal form is not the normal form of the splice: send the original
    key = _digest("normal", *context, n_helpers.text, n_decl.text)
    if n_helpers.text == helpers and n_decl.text == decl:
        return CheckForm(key, candidate, identity=True)  # already normal (the usual case)
    own = _snippet_lines(helpers, decl)
    sent_lines = _snippet_lines(n_helpers.text, n_decl.text)
    own_decl_at = len(helpers.split("\n")) + 1 if helpers else 0
    line_map = list(n_helpers.kept)
    if n_helpers.text:
        line_map.append(own_decl_at - 1)  # the blank line between helpers and declaration
    line_map += [own_decl_at + k for k in n_decl.kept]
    return CheckForm(key, sent, identity=False, line_map=tuple(line_map), own_lines=tuple(own),
                     sent_lines=tuple(sent_lines))

