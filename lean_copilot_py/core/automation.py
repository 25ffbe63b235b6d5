"""The cheap portfolio that runs before any model call: `rfl`, `decide`, `simp`, `omega`, `grind`, and the
search tactics `exact?` / `apply?`, whose "Try this" suggestion is turned into concrete text and checked
again strictly. A tactic is accepted only when its strict check is PROVED (or, for next-tactic suggestions,
when nothing but unsolved goals remains)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .protocols import CheckFn
from .screen import screen_candidate
from .targets import in_tactic_position
from .types import Candidate, Outcome, Severity, Target, TargetKind, Verdict
from .verification import checked

SEARCH_TACTICS = ("exact?", "apply?", "rw?", "simp?", "hint")

_TRY_THIS = re.compile(r"Try th(?:is|ese):[ \t]*", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:\[apply\]|•|\*|-)\s+")


def try_this_suggestions(text: str) -> list[str]:
    """Suggestions from a "Try this" message, in both forms:

    - ``Try this: exact Nat.le_refl n`` (continuation lines indented deeper belong to it)
    - ``Try this:\\n  [apply] exact Nat.le_refl n`` / ``Try these:\\n  [apply] a\\n  [apply] b`` / ``• a``
    """
    out: list[str] = []
    for m in _TRY_THIS.finditer(text):
        rest = text[m.end():]
        if rest and not rest.startswith("\n"):
            first, _, tail = rest.partition("\n")
            lines = [first.rstrip()]
            for ln in tail.split("\n"):
                # A continuation line of a multi-line suggestion is indented; anything else ends it.
                if ln.startswith((" ", "\t")) and ln.strip() and not _TRY_THIS.match(ln.strip()):
                    lines.append(ln.rstrip())
                else:
                    break
            out.append(_dedent_join(lines))
            continue
        current: list[str] | None = None
        for ln in rest.lstrip("\n").split("\n"):
            if not ln.strip():
                break
            item = _ITEM.match(ln)
            if item:
                if current:
                    out.append(_dedent_join(current))
                current = [ln[item.end():].rstrip()]
            elif current is not None and ln.startswith((" ", "\t")):
                current.append(ln.rstrip())
            else:
                break
        if current:
            out.append(_dedent_join(current))
    seen: set[str] = set()
    return [s for s in out if s and not (s in seen or seen.add(s))]


def _dedent_join(lines: list[str]) -> str:
    first, tail = lines[0].strip(), [ln for ln in lines[1:] if ln.strip()]
    if not tail:
        return first
    common = min(len(ln) - len(ln.lstrip()) for ln in tail)
    return "\n".join([first, *("  " + ln[common:] for ln in tail)])


def tactic_candidate(target: Target, tactic: str, origin: str = "") -> Candidate:
    """A DECLARATION's proof is ``by\\n  <tac>``; a SORRY / CURSOR in tactic position takes the tactic itself;
    a `sorry` in term position (``⟨n + 1, sorry⟩``) needs a term, so the tactic goes under `by`."""
    origin = origin or f"automation:{tactic}"
    if target.kind is TargetKind.DECLARATION:
        body = "\n".join("  " + ln if ln else "" for ln in tactic.split("\n"))
        return Candidate(proof=f"by\n{body}", origin=origin)
    if target.kind is TargetKind.SORRY and not in_tactic_position(target):
        return Candidate(proof=f"(by {tactic})", origin=origin)
    return Candidate(proof=tactic, origin=origin)


def is_search_tactic(tactic: str) -> bool:
    return tactic.strip().split(" ")[0] in SEARCH_TACTICS


Accept = Callable[[Verdict], bool]


def proved(verdict: Verdict) -> bool:
    return verdict.proved


def next_tactic_ok(verdict: Verdict) -> bool:
    """A next tactic is good when it leaves no error other than unsolved goals at the end."""
    if verdict.proved:
        return True
    if verdict.outcome is not Outcome.INCOMPLETE or verdict.sorries:
        return False
    errors = [m for m in verdict.messages if m.severity is Severity.ERROR]
    return all(m.unsolved_goals or m.text.lower().startswith("unsolved goals") for m in errors)


@dataclass
class Tried:
    tactic: str
    verdict: Verdict
    candidate: Candidate | None = None  # what was checked last (the concrete suggestion for exact?)


@dataclass
class AutomationResult:
    proof: Candidate | None = None
    verdict: Verdict | None = None
    tried: list[Tried] = field(default_factory=list)
    accepted: list[tuple[str, Candidate]] = field(default_factory=list)  # every accepted (tactic, candidate)


async def run_automation(
    target: Target,
    tactics: Sequence[str],
    check: CheckFn,
    *,
    slots: int = 4,
    accept: Accept = proved,
    first_wins: bool = True,
    allow_native_decide: bool = False,
    on_tried: Callable[[str, Verdict], None] | None = None,
    into: AutomationResult | None = None,
) -> AutomationResult:
    """Check each tactic (bounded by ``slots``). With ``first_wins`` the first accepted candidate cancels the
    rest (proof search); without it every tactic runs and all accepted ones are returned in input order
    (next-tactic suggestions). ``into`` collects results as they come, for a caller that may time out."""
    result = into if into is not None else AutomationResult()
    sem = asyncio.Semaphore(max(1, slots))
    found = asyncio.Event()
    order = {t.strip(): i for i, t in enumerate(tactics)}
    accepted: dict[str, tuple[Candidate, Verdict]] = {}

    async def one(tactic: str) -> None:
        async with sem:
            if first_wins and found.is_set():
                return
            cand, verdict = await _try_tactic(target, tactic, check, accept, allow_native_decide)
        result.tried.append(Tried(tactic, verdict, cand))
        if on_tried is not None:
            on_tried(tactic, verdict)
        if cand is not None and accept(verdict):
            accepted[tactic] = (cand, verdict)
            result.accepted.append((tactic, cand))
            found.set()

    tasks = [asyncio.create_task(one(t)) for t in dict.fromkeys(t.strip() for t in tactics if t.strip())]
    try:
        if first_wins:
            waiter = asyncio.create_task(found.wait())
            pending = set(tasks)
            while pending and not found.is_set():
                _, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
                pending.discard(waiter)
            waiter.cancel()
        else:
            await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    result.accepted = [(t, accepted[t][0]) for t in sorted(accepted, key=lambda t: order.get(t, 0))]
    if result.accepted:
        tac, cand = result.accepted[0]
        result.proof, result.verdict = cand, accepted[tac][1]
    return result


async def _try_tactic(
    target: Target, tactic: str, check: CheckFn, accept: Accept, allow_native_decide: bool
) -> tuple[Candidate | None, Verdict]:
    search = is_search_tactic(tactic)
    cand = tactic_candidate(target, tactic)
    refused = screen_candidate(cand, strict=not search, allow_native_decide=allow_native_decide)
    if refused is not None:
        return None, refused
    verdict = await checked(check, cand)
    if not search:
        return cand, verdict
    # `exact?` closes the goal with only an info message; the proof is its suggestion, checked strictly.
    infos = [m for m in verdict.messages if m.severity is not Severity.ERROR]
    suggestions = [s for m in infos for s in try_this_suggestions(m.text)]
    if not suggestions:
        # A search tactic that "proves" the goal without telling us how is not a proof we can offer.
        if verdict.proved:
            verdict = Verdict(Outcome.FAILED, verdict.messages, reason="no 'Try this' suggestion")
        return None, verdict
    last = verdict
    for suggestion in suggestions:
        concrete = _substitute(tactic_candidate(target, tactic), tactic, suggestion, f"automation:{tactic}")
        refused = screen_candidate(concrete, strict=True, allow_native_decide=allow_native_decide)
        if refused is not None:
            last = refused
            continue
        last = await checked(check, concrete)
        if accept(last):
            return concrete, last
    return None, last


def _substitute(cand: Candidate, tactic: str, suggestion: str, origin: str) -> Candidate:
    """Replace the search tactic by its suggestion, indenting continuation lines to the tactic's column."""
    idx = cand.proof.find(tactic)
    line_start = cand.proof.rfind("\n", 0, idx) + 1
    col = idx - line_start
    lines = suggestion.split("\n")
    text = "\n".join([lines[0], *((" " * col + ln) if ln else "" for ln in lines[1:])])
    proof = cand.proof[:idx] + text + cand.proof[idx + len(tactic):]
    return Candidate(proof=proof, helpers=cand.helpers, origin=origin)
