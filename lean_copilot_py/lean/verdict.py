"""Turning the diagnostics of one shadow document into a Verdict.

PROVED needs: the user's statement elaborated (the pinned axiom), no error in the candidate's snippet, no
`sorry`, no leftover search tactic, no error on the statement check (the proved declaration has the
pinned statement's type), and an acceptable `#print axioms` answer of the audited constant found *at the
audit line*. Messages before the pinned statement (problems that were already in the user's file) are
neither counted nor reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.types import LeanMessage, Outcome, Pos, Severity, Span, Target, TargetKind, Verdict
from .audit import AuditAnswer, AuditResult, judge_axioms, parse_axioms_answer
from .messages import first_line, is_sorry_warning, is_try_this, open_goals, relative_pos, start_of, to_message
from .shadow import PINNED_NAME, ShadowText


@dataclass(frozen=True)
class Sorted:
    messages: tuple[LeanMessage, ...]  # the snippet's, relative positions
    audit: AuditAnswer | None
    audit_errors: tuple[str, ...]  # errors Lean logged on the audit line (e.g. unknown constant)
    prefix_errors: tuple[str, ...]  # errors in the user's file before the snippet (never the candidate's)
    pinned_errors: tuple[str, ...] = ()  # the user's statement did not elaborate as an axiom
    check_errors: tuple[str, ...] = ()  # the proved declaration's type is not the pinned statement's


def sort_diagnostics(shadow: ShadowText, items: Sequence[Mapping[str, Any]]) -> Sorted:
    messages: list[LeanMessage] = []
    audit: AuditAnswer | None = None
    audit_errors: list[str] = []
    prefix_errors: list[str] = []
    pinned_errors: list[str] = []
    check_errors: list[str] = []
    for diag in items:
        start = start_of(diag)
        if start is None:
            continue
        error = diag.get("severity") == Severity.ERROR
        if start.line == shadow.audit_line:
            text = str(diag.get("message", ""))
            if diag.get("severity") == Severity.INFORMATION and audit is None:
                audit = parse_axioms_answer(text)
            elif error:
                audit_errors.append(first_line(text))
        elif shadow.in_check(start):
            if error:
                check_errors.append(str(diag.get("message", "")))
        elif shadow.in_pinned(start):
            if error:
                pinned_errors.append(first_line(str(diag.get("message", ""))))
        elif shadow.in_snippet(start):
            messages.append(to_message(diag, shadow.origin))
        elif start < shadow.origin and diag.get("severity") == Severity.ERROR:
            prefix_errors.append(f"line {start.line + 1}: {first_line(str(diag.get('message', '')))}")
    messages.sort(key=lambda m: (m.span.start, m.severity))
    return Sorted(
        tuple(messages), audit, tuple(audit_errors), tuple(prefix_errors), tuple(pinned_errors), tuple(check_errors)
    )


def _names_match(printed: str, ours: str) -> bool:
    """`#print axioms` prints names fully qualified (`A.lean_copilot_statement_check` inside `namespace A`)."""
    printed, ours = printed.replace("«", "").replace("»", ""), ours.replace("«", "").replace("»", "")
    return printed == ours or printed.endswith("." + ours)


def _where(m: LeanMessage) -> str:
    return f"line {m.span.start.line + 1}: {first_line(m.text)}"


def classify(
    target: Target,
    shadow: ShadowText,
    items: Sequence[Mapping[str, Any]],
    allowed: frozenset[str],
    *,
    elapsed: float,
) -> Verdict:
    found = sort_diagnostics(shadow, items)
    msgs = found.messages
    # Other sorries of the same declaration are the user's: tolerated for a SORRY target (the
    # candidate's own text was screened by the caller), but a helper's sorry still counts.
    tolerate_sorry = target.kind is TargetKind.SORRY and target.other_sorries > 0
    decl_line = shadow.decl_start.line - shadow.origin.line

    def sorry_counts(m: LeanMessage) -> bool:
        return is_sorry_warning(m) and not (tolerate_sorry and m.span.start.line >= decl_line)

    errors = [m for m in msgs if m.severity is Severity.ERROR]
    hard = [m for m in errors if not m.unsolved_goals]
    goals = open_goals(msgs)
    axioms = found.audit.axioms if found.audit else None
    if found.audit is not None and shadow.audited and not _names_match(found.audit.name, shadow.audited):
        axioms = None  # an answer about another constant is no answer
    common = {"messages": msgs, "goals": goals, "axioms": axioms, "elapsed": elapsed, "snippet": shadow.snippet}
    if found.pinned_errors:
        reason = f"the statement itself does not elaborate before the proof: {found.pinned_errors[0]}"
        return Verdict(Outcome.FAILED, reason=reason, **common)
    if hard:
        return Verdict(Outcome.FAILED, reason=_where(hard[0]), **common)
    if found.check_errors:
        lean_says = found.check_errors[0]
        lost = "unknown identifier" in lean_says.lower() or "unknown constant" in lean_says.lower()
        what = "the statement check could not find the proved declaration" if lost else (
            "the proof changes what the statement means")
        # Shown to the model as an error on the declaration, so that its feedback says what went wrong.
        at = relative_pos(shadow.decl_start, shadow.origin)
        note = LeanMessage(Severity.ERROR, Span(at, Pos(at.line, at.col + 1)), f"{what}: {lean_says}")
        common["messages"] = (*msgs, note)
        return Verdict(Outcome.FAILED, reason=f"{what}: {first_line(lean_says)}", **common)
    if errors:
        return Verdict(Outcome.INCOMPLETE, reason=f"{len(goals)} goal(s) left unsolved", **common)
    sorries = [m for m in msgs if sorry_counts(m)]
    if sorries:
        return Verdict(Outcome.INCOMPLETE, reason="declaration uses 'sorry'", **common)
    searches = [m for m in msgs if is_try_this(m)]
    if searches:
        return Verdict(
            Outcome.INCOMPLETE, reason="proof still runs a search tactic: " + first_line(searches[0].text), **common
        )
    decision = judge_axioms(axioms, allowed, tolerate_sorry=tolerate_sorry)
    if decision.result is AuditResult.MISSING and found.audit_errors:
        return Verdict(Outcome.FAILED, reason=f"axiom audit failed: {found.audit_errors[0]}", **common)
    if decision.result is AuditResult.MISSING and found.prefix_errors:
        # e.g. imports that failed to load: Lean stopped before reaching the declaration
        reason = f"{decision.reason} (the file has errors before the declaration: {found.prefix_errors[0]})"
        return Verdict(Outcome.FAILED, reason=reason, **common)
    if axioms is not None and any(_names_match(a, PINNED_NAME) for a in axioms):
        reason = f"the proof uses lean-copilot's pinned copy of the statement (`{PINNED_NAME}`)"
        return Verdict(Outcome.FAILED, reason=reason, **common)
    if decision.result is AuditResult.SORRY:
        return Verdict(Outcome.INCOMPLETE, reason=decision.reason, **common)
    if decision.result is not AuditResult.OK:
        return Verdict(Outcome.FAILED, reason=decision.reason, **common)
    shown = ", ".join(axioms or ()) or "none"
    return Verdict(Outcome.PROVED, reason=f"Lean accepted the proof (axioms: {shown})", **common)


def classify_document(items: Sequence[Mapping[str, Any]], text: str, *, elapsed: float) -> Verdict:
    """A whole document: any error fails it; `sorry` warnings make it incomplete. Absolute positions."""
    msgs = tuple(sorted((to_message(d) for d in items), key=lambda m: (m.span.start, m.severity)))
    errors = [m for m in msgs if m.severity is Severity.ERROR]
    common = {"messages": msgs, "goals": open_goals(msgs), "elapsed": elapsed, "snippet": text}
    if errors:
        return Verdict(Outcome.FAILED, reason=_where(errors[0]), **common)
    if any(is_sorry_warning(m) for m in msgs):
        return Verdict(Outcome.INCOMPLETE, reason="the document uses 'sorry'", **common)
    return Verdict(Outcome.PROVED, reason="the document elaborates without errors", **common)
