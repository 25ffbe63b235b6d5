"""Finding what to repair, from Lean's own messages about a document: declarations whose proof Lean rejects
become repair targets (DECLARATION targets that carry the failing proof and Lean's messages about it); errors
in a statement, outside any declaration or in the imports are reported, never "repaired". Pure and fast: the
messages come from whoever already has them (a whole-document check, the editor's diagnostics).

Positions: ``diagnostics`` are document-absolute (``Verdict.messages`` of ``LeanChecker.check_document``, or the
editor's diagnostics converted to code points); a RepairContext holds them relative to the declaration's first
line, as a Verdict's are to its snippet.

Where each error belongs (read from real Lean 4.35, tests/core/test_repair.py):
- a type error, unknown identifier, unsolved goal in the proof starts after the declaration's `:=`;
- an error in the statement (an unknown constant in a binder) lies wholly before `:=`: the statement is pinned, so
  the declaration is unrepairable;
- a parse error that ran into the next command starts where the broken declaration's last token ends (right after
  `:=` for a missing proof) and runs on to the next command; one at the end of the file starts there;
- an error that spans the whole declaration (Lean reports some kernel errors, and prelude Lean its "internal
  exception #3", on the whole command) says nothing about the statement: it counts as a proof error;
- a failed import is reported at the file's start (line 0, column 0) with texts such as "unknown module prefix"
  or "object file … does not exist"; nothing else is elaborated then.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .lexer import Kind
from .outline import DECL_KEYWORDS, Decl, Outline, outline
from .protocols import PriorTurn
from .targets import enclosing_declaration
from .types import LeanMessage, Outcome, Pos, RepairContext, Severity, Span, Target, TargetKind, Verdict, pos_to_offset

# Declarations whose body is a proof: repairing anything else (a `def`, an `instance`) changes what it computes,
# though the pinned type stays the same. scan_for_repairs takes ``keywords`` for callers that want only these.
PROOF_KEYWORDS = frozenset({"theorem", "lemma", "example"})

# Texts of Lean's and Lake's import failures (leanprover/lean4: src/Lean/Util/Path.lean `findOLean`,
# src/Lean/Environment.lean `importModules`/`readModuleData`, src/Lean/Server/FileWorker/SetupFile.lean), as this
# Lean 4.35 binary holds them.
_IMPORT_TEXTS = re.compile(
    r"unknown module prefix|object file .* does not exist|imports are out of date and (?:must|should) be rebuilt"
    r"|failed to read file .*(?:invalid|incompatible) header|\bfile not found\b|unknown package\b"
    r"|import failed, trying to import module",
    re.IGNORECASE | re.DOTALL,
)
_HEADER_WORDS = frozenset({"prelude", "module", "public", "meta", "private"})


@dataclass(frozen=True)
class Unrepairable:
    """A place with errors that lean-copilot will not try to repair, and why."""

    decl_name: str  # as written; "" outside a declaration or for an unnamed one
    span: Span  # document position of the first error that decided it
    reason: str  # one line for humans
    messages: tuple[LeanMessage, ...]  # Lean's errors there (document-absolute)


@dataclass(frozen=True)
class RepairScan:
    """What a document's diagnostics say can be repaired. ``import_problem`` set: the file's imports failed, so its
    other errors say nothing (and there are no targets)."""

    targets: tuple[Target, ...] = ()  # earliest first
    import_problem: str | None = None
    unrepairable: tuple[Unrepairable, ...] = ()  # in text order

    @property
    def clean(self) -> bool:
        """No error anywhere: nothing to repair and nothing to report."""
        return not self.targets and self.import_problem is None and not self.unrepairable


# --- where messages belong ------------------------------------------------------------------------------------


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _errors(diagnostics: Iterable[LeanMessage]) -> list[LeanMessage]:
    return [m for m in diagnostics if m.severity is Severity.ERROR]


def import_header_end(o: Outline) -> int:
    """Offset where the import header ends (after `prelude`, `module` and the last `import` line); 0 when the
    file has none."""
    toks, end, i = o.tokens, 0, 0
    while i < len(toks):
        t = toks[i]
        if t.kind is Kind.KEYWORD and t.text == "import":
            i += 1
            if i < len(toks) and toks[i].text == "all":
                i += 1
            if i < len(toks) and toks[i].kind is Kind.IDENT:
                end = toks[i].end
                i += 1
            continue
        if t.kind is Kind.IDENT and t.text in _HEADER_WORDS:
            if t.text in ("prelude", "module"):
                end = t.end
            i += 1
            continue
        break
    return end


def import_problem(text: str, diagnostics: Iterable[LeanMessage], *, o: Outline | None = None) -> str | None:
    """Why the file's imports failed ("line 1: unknown module prefix 'Foo'"), or None when they did not: an error on
    the import header's lines, or one with the text of an import failure on the first line (where Lean reports a
    failed import, also of the `Init` a file without imports loads)."""
    o = o if o is not None else outline(text)
    last_header_line = _last_header_line(o)
    for m in diagnostics:
        line = m.span.start.line
        if line > max(0, last_header_line) or m.severity is not Severity.ERROR:
            continue  # most messages: two integer comparisons (the editor may pass a whole document's)
        if line <= last_header_line or _IMPORT_TEXTS.search(m.text):
            return f"line {line + 1}: {_first_line(m.text, 1000)}"  # paths in these are long
    return None


def _last_header_line(o: Outline) -> int:
    end = import_header_end(o)
    return o.lines.pos(end).line if end else -1


def _owner(o: Outline, off: int) -> Decl | None:
    """The declaration a message starting at ``off`` is about (it starts between the declaration's first token and
    the next command), or None when it lies outside every declaration."""
    i = bisect_right(o.decl_starts, off) - 1
    if i < 0:
        return None
    d = o.decls[i]
    return d if off < d.limit or d.limit == len(o.text) else None


def _in_statement(o: Outline, d: Decl, m: LeanMessage) -> bool:
    """The error lies wholly in the header: before `:=` and not running into the proof."""
    assert d.assign_end is not None
    return o.lines.offset(m.span.start) < d.assign_end and o.lines.offset(m.span.end) <= d.assign_end


def _relative(pos: Pos, origin: Pos) -> Pos:
    if pos.line == origin.line:
        return Pos(0, max(0, pos.col - origin.col))
    return Pos(pos.line - origin.line, pos.col)


def _context(o: Outline, target: Target, messages: Sequence[LeanMessage]) -> RepairContext:
    """The target's RepairContext: its proof's text and the messages, relative to the declaration and ending at
    its end (a parse error's range runs on to the next command)."""
    origin, last = target.decl_span.start, target.decl_span.end
    rel = []
    for m in sorted(messages, key=lambda m: (m.span.start, m.severity)):
        start = min(m.span.start, last)
        end = max(start, min(m.span.end, last))
        rel.append(replace(m, span=Span(_relative(start, origin), _relative(end, origin))))
    start, stop = o.lines.offset(target.proof_span.start), o.lines.offset(target.proof_span.end)
    return RepairContext(original=o.text[start:stop], messages=tuple(rel))


def _repair_target(path: Path, o: Outline, d: Decl, messages: Sequence[LeanMessage]) -> Target | None:
    target = enclosing_declaration(path, o.text, o.lines.pos(d.start), o=o)
    if target is None or target.kind is not TargetKind.DECLARATION:
        return None
    return replace(target, repair=_context(o, target, messages))


def _unrepairable(d: Decl | None, errors: Sequence[LeanMessage], why: str) -> Unrepairable:
    first = errors[0]
    where = f"line {first.span.start.line + 1}"
    return Unrepairable(
        decl_name=d.name if d is not None else "",
        span=first.span,
        reason=f"{where}: {why}: {_first_line(first.text)}",
        messages=tuple(errors),
    )


# --- the scan ---------------------------------------------------------------------------------------------------


def scan_for_repairs(
    path: Path,
    text: str,
    diagnostics: Sequence[LeanMessage],
    *,
    o: Outline | None = None,
    keywords: Collection[str] = DECL_KEYWORDS,
) -> RepairScan:
    """Sort Lean's messages about the whole of ``text`` (document-absolute positions) into repair targets,
    unrepairable places and an import problem. ``keywords``: which declarations may be repaired (the default:
    every declaration kind the outline knows; PROOF_KEYWORDS for proofs only); errors in others are unrepairable."""
    o = o if o is not None else outline(text)
    problem = import_problem(text, diagnostics, o=o)
    if problem is not None:
        return RepairScan(import_problem=problem)
    by_decl: dict[int, list[LeanMessage]] = {}
    outside: list[LeanMessage] = []
    for m in sorted(diagnostics, key=lambda m: (m.span.start, m.severity)):
        d = _owner(o, o.lines.offset(m.span.start))
        if d is not None:
            by_decl.setdefault(d.start, []).append(m)
        elif m.severity is Severity.ERROR:
            outside.append(m)
    decl_at = {d.start: d for d in o.decls}
    targets: list[Target] = []
    bad: list[tuple[int, Unrepairable]] = [
        (o.lines.offset(m.span.start), _unrepairable(None, [m], "an error outside any declaration")) for m in outside
    ]
    for start, messages in by_decl.items():
        d, errors = decl_at[start], _errors(messages)
        if not errors:
            continue
        if d.assign_end is None:
            bad.append((start, _unrepairable(d, errors, "the declaration has no `:=` proof to repair")))
        elif d.keyword not in keywords:
            bad.append((start, _unrepairable(d, errors, f"`{d.keyword}` declarations are not repaired")))
        elif stmt := [m for m in errors if _in_statement(o, d, m)]:
            why = "the statement has an error (statements are kept as written, so lean-copilot cannot repair it)"
            bad.append((start, _unrepairable(d, stmt, why)))
        elif (target := _repair_target(path, o, d, messages)) is not None:
            targets.append(target)
    targets.sort(key=lambda t: t.decl_span.start)
    bad.sort(key=lambda item: item[0])
    return RepairScan(targets=tuple(targets), unrepairable=tuple(u for _, u in bad))


def repair_target_at(
    path: Path,
    text: str,
    pos: Pos,
    diagnostics: Iterable[LeanMessage],
    *,
    o: Outline | None = None,
    keywords: Collection[str] = DECL_KEYWORDS,
) -> Target | None:
    """The editor's cheap test: the declaration at ``pos`` as a repair target when one of ``diagnostics`` (Lean's
    errors the editor holds, document-absolute, code points) lies in its proof and none in its statement or the
    imports; else None. Costs binary searches on ``o`` (the outline of ``text``) and a pass over the diagnostics."""
    o = o if o is not None else outline(text)
    target = enclosing_declaration(path, text, pos, o=o)
    if target is None:
        return None
    start = o.lines.offset(target.decl_span.start)
    i = bisect_right(o.decl_starts, start) - 1
    d = o.decls[i] if i >= 0 and o.decls[i].start == start else None
    if d is None or d.assign_end is None or d.keyword not in keywords:
        return None
    # One pass of integer comparisons keeps the errors that can matter: the editor may hold a whole document's.
    first, last = target.decl_span.start.line, o.lines.pos(d.limit).line
    header = max(0, _last_header_line(o))  # a failed import is reported on these lines
    near: list[LeanMessage] = []
    opening: list[LeanMessage] = []
    for m in diagnostics:
        line = m.span.start.line
        if m.severity is Severity.ERROR and (first <= line <= last or line <= header):
            (near if line >= first else opening).append(m)
    if import_problem(text, opening + near, o=o) is not None:
        return None
    mine = [m for m in near if _owner(o, o.lines.offset(m.span.start)) is d]
    if not mine or any(_in_statement(o, d, m) for m in mine):
        return None
    return replace(target, repair=_context(o, target, mine))


# --- the prior turn -----------------------------------------------------------------------------------------------


def prior_code(target: Target) -> str:
    """The user's declaration as the model would have written it: the header and the failing proof (line ends as
    LF, so the prompt never carries a CR)."""
    start, end = pos_to_offset(target.text, target.decl_span.start), pos_to_offset(target.text, target.decl_span.end)
    return target.text[start:end].replace("\r\n", "\n")


def _map_col(src: str, dst: str, col: int) -> int:
    """A column of line ``src`` on line ``dst``, which differs from it in one stretch (re-indentation, a renamed
    `example`): unchanged before the stretch, shifted after it, at its start inside it."""
    prefix = 0
    while prefix < min(len(src), len(dst)) and src[prefix] == dst[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(src), len(dst)) - prefix and src[-1 - suffix] == dst[-1 - suffix]:
        suffix += 1
    if col >= len(src) - suffix:  # first: at a pure insertion (re-indentation) the text after it is what moved
        return max(0, col - (len(src) - len(dst)))
    return col if col <= prefix else prefix


def rebase_verdict(verdict: Verdict, code: str) -> Verdict | None:
    """``verdict`` with its positions moved from its snippet onto ``code`` (the same declaration as the user wrote
    it: the checker re-indents a proof and names an `example`); None when the two do not line up line by line."""
    snippet = verdict.snippet.replace("\r\n", "\n")
    if not snippet or snippet == code:
        return replace(verdict, snippet=code)
    src, dst = snippet.split("\n"), code.split("\n")
    if len(src) != len(dst):
        return None

    def move(p: Pos) -> Pos:
        if p.line >= len(src):
            return p
        return Pos(p.line, _map_col(src[p.line], dst[p.line], p.col))

    def span(s: Span) -> Span:
        return Span(move(s.start), move(s.end))

    messages = tuple(replace(m, span=span(m.span)) for m in verdict.messages)
    sorries = tuple(replace(s, span=span(s.span)) for s in verdict.sorries)
    return replace(verdict, messages=messages, sorries=sorries, snippet=code)


def document_verdict(context: RepairContext, code: str) -> Verdict:
    """Lean's verdict of the user's proof as the whole-document check gave it (no Lean call)."""
    errors = context.errors
    reason = f"line {errors[0].span.start.line + 1}: {_first_line(errors[0].text)}" if errors else ""
    return Verdict(Outcome.FAILED if errors else Outcome.INCOMPLETE, messages=context.messages, reason=reason,
                   snippet=code)


def prior_turn(target: Target) -> PriorTurn:
    """The prior turn of a repair target's prompt: its declaration as written and Lean's verdict of it, the
    checker's (``target.repair.verdict``) when a search has one that lines up with the text, else the document's."""
    if target.repair is None:
        raise ValueError(f"{target.full_name or target.decl_name or 'the target'} is not a repair target")
    code = prior_code(target)
    checked = target.repair.verdict
    verdict = rebase_verdict(checked, code) if checked is not None else None
    if verdict is None:
        verdict = document_verdict(target.repair, code)
    return PriorTurn(code=code, verdict=verdict, elapsed=verdict.elapsed)
