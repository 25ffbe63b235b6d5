"""A repair's first step inside a search: the user's own proof, checked once under the pinned statement through
the search's own (scheduled) check, before anything replaces it.

Lean's verdict goes into ``target.repair.verdict`` (the prior turn then shows what this checker says, positions on
the user's text: core/repair.py ``prior_turn``). A proof Lean proves needs no repair: the errors the file showed
were stale, or came from elsewhere. A check that crashed says nothing about the proof: the document's messages
stay the prior turn's feedback then.
"""

from __future__ import annotations

from dataclasses import replace

from .protocols import CheckFn, CheckPriority
from .types import Candidate, Outcome, Target, Verdict
from .verification import checked

ACCEPTED_AS_IS = "Lean accepts this proof as it is: nothing to repair"
ORIGINAL_ORIGIN = "user:original"


def original_candidate(target: Target) -> Candidate:
    """The proof in the file, exactly as written (the checker splices it in place of the proof span)."""
    assert target.repair is not None
    return Candidate(target.repair.original, origin=ORIGINAL_ORIGIN)


async def check_original(target: Target, check: CheckFn, *, owner: str) -> tuple[Target, Verdict]:
    """Check the user's proof of a repair target; the target with the verdict kept in ``repair.verdict``."""
    if target.repair is None:
        raise ValueError("not a repair target")
    # The user's proof is one check from "nothing to repair": it goes ahead of first guesses.
    verdict = await checked(check, original_candidate(target), CheckPriority(final=True, owner=f"{owner}/original"))
    if verdict.outcome is Outcome.CRASHED:
        return target, verdict
    return replace(target, repair=replace(target.repair, verdict=verdict)), verdict


def original_note(verdict: Verdict) -> str:
    """The transcript's line about the user's proof as this search's checker saw it."""
    why = f": {verdict.reason}" if verdict.reason else ""
    return f"the proof in the file, checked under the pinned statement: {verdict.outcome.value}{why}"
