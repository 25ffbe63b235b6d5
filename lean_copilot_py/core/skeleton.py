"""Verified skeletons: what a search that found no proof can still hand back. A skeleton is a candidate Lean
accepted except for its `sorry`s: checked under the pinned statement, no error at all (an unsolved goal is an
error), no search tactic left, screened like a final proof except that `sorry` is allowed, and its axioms known
and allowed apart from `sorryAx`. Its sorries are the goals still open, each a target of its own once written.

A search offers every checked (candidate, verdict) to a SkeletonKeeper, which keeps the best: fewest sorries,
then the earliest offered (a later equal one brings nothing new, and keeping the first keeps runs repeatable).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from .lexer import Kind, significant, tokenize
from .protocols import CheckFn, CheckPriority
from .screen import candidate_text, screen
from .structure import structure_findings
from .types import Candidate, Finding, LeanMessage, Outcome, Severity, Verdict
from .verification import checked

SORRY_AXIOM = "sorryAx"
# The texts lean/messages.py recognises (a test checks the two agree): the core reads verdicts without lean/.
_SORRY_WARNING = re.compile(r"^declaration uses ['`]sorry['`]", re.IGNORECASE)
_TRY_THIS = re.compile(r"^try this\b", re.IGNORECASE)
_SORRY_WORDS = frozenset({"sorry", "admit"})
# Tokens that make no progress on their own: a proof of only these and sorries leaves the goal as it was.
_NO_PROGRESS = frozenset({"by", "(", ")", "·", ".", ";", "exact", "refine"})


def is_sorry_warning(m: LeanMessage) -> bool:
    return m.severity is Severity.WARNING and _SORRY_WARNING.match(m.text.strip()) is not None


def is_try_this(m: LeanMessage) -> bool:
    return m.severity is not Severity.ERROR and _TRY_THIS.match(m.text.strip()) is not None


def sorry_count(candidate: Candidate) -> int:
    """`sorry`/`admit` tokens the candidate wrote (code only: comments and strings don't count)."""
    toks = significant(tokenize(candidate_text(candidate)))
    return sum(1 for t in toks if t.kind is Kind.KEYWORD and t.text in _SORRY_WORDS)


def makes_progress(candidate: Candidate) -> bool:
    """Not just `sorry` (or `by sorry`, `exact sorry`): such a skeleton leaves exactly the goal it was given."""
    if candidate.helpers.strip():
        return True
    toks = significant(tokenize(candidate.proof))
    return any(t.text not in _NO_PROGRESS and t.text not in _SORRY_WORDS for t in toks)


def skeleton_findings(candidate: Candidate, *, allow_native_decide: bool = False) -> list[Finding]:
    """Why ``candidate`` may not become a skeleton: everything a final proof must pass but `sorry` (search
    tactics such as `exact?` are refused: what they found is not written down)."""
    text = candidate_text(candidate)
    found = screen(text, allow_sorry=True, allow_search_tactics=False, allow_native_decide=allow_native_decide)
    found += structure_findings(candidate.helpers, candidate.proof, proof_offset=len(text) - len(candidate.proof))
    return found


def is_skeleton(verdict: Verdict, allowed_axioms: Collection[str], candidate: Candidate | None = None) -> bool:
    """Lean accepted the checked candidate except for its sorries. With ``candidate``: the sorries are its own (a
    declaration's other sorries make the same warning) and it does more than `sorry`."""
    if verdict.outcome is not Outcome.INCOMPLETE:
        return False
    if any(m.severity is Severity.ERROR for m in verdict.messages) or verdict.goals:
        return False
    if not any(is_sorry_warning(m) for m in verdict.messages):
        return False
    if any(is_try_this(m) for m in verdict.messages):
        return False
    if verdict.axioms is None or any(a not in allowed_axioms and a != SORRY_AXIOM for a in verdict.axioms):
        return False
    if candidate is not None and (sorry_count(candidate) == 0 or not makes_progress(candidate)):
        return False
    return True


def _conclusion(goal: str) -> str:
    """The `⊢ …` line of a pretty-printed goal (the hypotheses are context), or its first line."""
    first = goal.strip("\n").split("\n\n", 1)[0]  # several goals at one sorry: Lean separates them by a blank line
    lines = [ln.strip() for ln in first.split("\n") if ln.strip()]
    turnstile = next((i for i, ln in enumerate(lines) if ln.startswith("⊢")), None)
    if turnstile is None:
        return lines[0] if lines else ""
    return " ".join(lines[turnstile:])  # a long conclusion is printed over several lines


@dataclass(frozen=True)
class Skeleton:
    """A verified skeleton: ``candidate`` replaces the target's proof span like a proof would; ``goals`` are the
    goals at its sorries as Lean printed them (fewer than ``sorries`` when Lean did not say)."""

    candidate: Candidate
    verdict: Verdict
    sorries: int
    goals: tuple[str, ...] = ()

    def summary(self, limit: int = 160) -> str:
        """One line for a human: "2 sorries left: ⊢ Eq a b; ⊢ Eq c d"."""
        head = f"{self.sorries} {'sorry' if self.sorries == 1 else 'sorries'} left"
        shown = "; ".join(_conclusion(g) for g in self.goals if g.strip())
        line = f"{head}: {shown}" if shown else head
        return line if len(line) <= limit else line[: limit - 1] + "…"


class SkeletonKeeper:
    """Offered every checked candidate of one search; keeps the best skeleton among them."""

    def __init__(self, allowed_axioms: Iterable[str], *, allow_native_decide: bool = False) -> None:
        self.allowed = frozenset(allowed_axioms)
        self.allow_native_decide = allow_native_decide
        self._best: Skeleton | None = None
        self.offered = 0

    @property
    def best(self) -> Skeleton | None:
        return self._best

    def offer(self, candidate: Candidate, verdict: Verdict) -> bool:
        """Consider one checked candidate; True when it is now the best skeleton. Never raises."""
        self.offered += 1
        try:
            if not is_skeleton(verdict, self.allowed, candidate):
                return False
            if skeleton_findings(candidate, allow_native_decide=self.allow_native_decide):
                return False
            sorries = sorry_count(candidate)
            if self._best is not None and sorries >= self._best.sorries:
                return False
            goals = tuple(s.goal for s in verdict.sorries)
            self._best = Skeleton(candidate, verdict, sorries, goals)
            return True
        except Exception:  # a bug here must cost a skeleton, never the search
            return False

    def watching(self, check: CheckFn) -> CheckFn:
        """``check`` that also offers every verdict it returns (with its candidate) to this keeper: what a search
        hands its attempts and automation, so every sketch Lean checks is considered."""

        async def offered(candidate: Candidate, priority: CheckPriority | None = None, /) -> Verdict:
            verdict = await (check(candidate) if priority is None else check(candidate, priority))
            self.offer(candidate, verdict)
            return verdict

        return offered


async def verify_skeleton(
    check: CheckFn,
    skeleton: Skeleton,
    *,
    allowed_axioms: Collection[str],
    allow_native_decide: bool,
    priority: CheckPriority,
) -> Skeleton | None:
    """A skeleton's final verification, as a proof has its own: screened (all but `sorry`), checked once more
    under the pinned statement, and the verdict must still be a skeleton's (incomplete, no error, axioms allowed
    but for sorryAx). The re-checked skeleton, or None when it no longer passes (it is then dropped)."""
    candidate = skeleton.candidate
    if skeleton_findings(candidate, allow_native_decide=allow_native_decide):
        return None
    verdict = await checked(check, candidate, priority)
    if not is_skeleton(verdict, frozenset(allowed_axioms), candidate):
        return None
    return Skeleton(candidate, verdict, sorry_count(candidate), tuple(s.goal for s in verdict.sorries))
