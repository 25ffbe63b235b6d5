"""What turns a candidate into a proof that may be offered: a check whose failures are verdicts, the axiom
audit, and the final verification (strict screen → one more check → audit) that every proof passes before
anyone sees it — the search's winner and a stored or relocated proof re-verified by the engine alike."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from .cancel import raise_if_cancelled
from .protocols import CheckFn, CheckPriority
from .screen import screen_candidate
from .types import Candidate, Outcome, Verdict


async def checked(check: CheckFn, candidate: Candidate, priority: CheckPriority | None = None) -> Verdict:
    """Run a check; a checker that raises becomes a CRASHED verdict (cancellation still propagates)."""
    try:
        verdict = await (check(candidate) if priority is None else check(candidate, priority))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the checker is a seam: any failure there is a verdict, not a crash of ours
        return Verdict(Outcome.CRASHED, reason=f"checker failed: {type(exc).__name__}: {exc}")
    raise_if_cancelled()
    return verdict


def audit_failure(verdict: Verdict, allowed: tuple[str, ...]) -> str:
    """Why a PROVED verdict's axioms are not acceptable ("" when they are, or when no audit answered)."""
    if verdict.axioms is None:
        return ""
    bad = [a for a in verdict.axioms if a not in allowed]
    return f"uses axioms outside the allowed set: {', '.join(bad)}" if bad else ""


async def final_verification(
    check: CheckFn,
    candidate: Candidate,
    *,
    allowed_axioms: tuple[str, ...],
    allow_native_decide: bool,
    priority: CheckPriority,
) -> Verdict:
    """Strict screen + one more check + axiom audit. PROVED only when Lean proved it with allowed axioms."""
    refused = screen_candidate(candidate, strict=True, allow_native_decide=allow_native_decide)
    if refused is not None:
        return refused
    verdict = await checked(check, candidate, priority)
    if not verdict.proved:
        return verdict
    why = audit_failure(verdict, allowed_axioms)
    return replace(verdict, outcome=Outcome.FAILED, reason=why) if why else verdict
