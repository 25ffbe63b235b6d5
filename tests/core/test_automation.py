"""The automation portfolio: parallel cheap tactics, `exact?` Try-this round trips, strict acceptance."""

from __future__ import annotations

from pathlib import Path

from lean_copilot_py.core.automation import (
    next_tactic_ok,
    run_automation,
    tactic_candidate,
    try_this_suggestions,
)
from lean_copilot_py.core.events import ProofFound, SearchStatus
from lean_copilot_py.core.search import Search
from lean_copilot_py.core.types import LeanMessage, Outcome, Pos, Severity, Span, TargetKind, Verdict
from tests.helpers import make_target

from .conftest import FakeChecker, FakeFamily, FakeGenerator, config, failed, final_reply, proved, thm

S = Span(Pos(1, 2), Pos(1, 8))


def info(text: str) -> LeanMessage:
    return LeanMessage(Severity.INFORMATION, S, text)


def test_try_this_forms():
    assert try_this_suggestions("Try this: exact Nat.add_zero n") == ["exact Nat.add_zero n"]
    assert try_this_suggestions("Try this:\n  [apply] exact Nat.add_zero n") == ["exact Nat.add_zero n"]
    assert try_this_suggestions("Try these:\n  [apply] simp\n  [apply] omega") == ["simp", "omega"]
    assert try_this_suggestions("Try these:\n• simp\n• omega") == ["simp", "omega"]
    multi = try_this_suggestions("Try this: refine\n    foo ?_\n  bar\nnext thing")
    assert multi == ["refine\n    foo ?_\n  bar"]
    assert try_this_suggestions("unsolved goals") == []


def test_tactic_candidate_shapes(target):
    assert tactic_candidate(target, "omega").proof == "by\n  omega"
    sorry_t = make_target(kind=TargetKind.SORRY)
    assert tactic_candidate(sorry_t, "omega").proof == "omega"


async def test_automation_finds_proof_without_model(target):
    checker = FakeChecker(rule=lambda c: proved() if c.proof.endswith("omega") else failed("nope"))
    gen = FakeGenerator(lambda req, n: AssertionError("the model must not be called"))
    events: list = []
    cfg = config(automation=("rfl", "decide", "simp", "omega"), slots=2)
    res = await Search(target, checker, cfg, generator=gen, family=FakeFamily(), on_event=events.append).run()
    assert res.status is SearchStatus.PROVED and res.proof.origin == "automation:omega"
    assert res.proof.proof == "by\n  omega"
    assert gen.requests == []
    assert any(isinstance(e, ProofFound) for e in events)
    assert checker.checked_proofs().count("by\n  omega") == 2  # portfolio check + final verification


async def test_exact_query_try_this_round_trip(target):
    def rule(c):
        if "exact?" in c.proof:
            # `exact?` closes the goal with an info message only (newer Lean's bracketed form)
            return Verdict(Outcome.PROVED, messages=(info("Try this:\n  [apply] exact Nat.add_zero n"),))
        if c.proof == "by\n  exact Nat.add_zero n":
            return proved()
        return failed()

    checker = FakeChecker(rule=rule)
    res = await Search(target, checker, config(automation=("rfl", "exact?"))).run()
    assert res.status is SearchStatus.PROVED
    assert res.proof.proof == "by\n  exact Nat.add_zero n" and res.proof.origin == "automation:exact?"
    assert "by\n  exact?" in checker.checked_proofs()


async def test_exact_query_without_suggestion_is_not_accepted(target):
    checker = FakeChecker(rule=lambda c: Verdict(Outcome.PROVED) if "exact?" in c.proof else failed())
    res = await run_automation(target, ["exact?"], lambda c: checker.check(target, c))
    assert res.proof is None and res.tried[0].verdict.outcome is Outcome.FAILED


async def test_old_try_this_form_for_sorry_target():
    t = make_target(kind=TargetKind.SORRY)

    def rule(c):
        if c.proof == "apply?":
            return Verdict(Outcome.INCOMPLETE, messages=(info("Try this: exact Nat.add_zero n"),))
        return proved() if c.proof == "exact Nat.add_zero n" else failed()

    checker = FakeChecker(rule=rule)
    res = await run_automation(t, ["apply?"], lambda c: checker.check(t, c))
    assert res.proof is not None and res.proof.proof == "exact Nat.add_zero n"


async def test_screening_blocks_sorry_in_portfolio(target):
    checker = FakeChecker(rule=lambda c: proved())  # a lying checker
    res = await run_automation(target, ["sorry", "admit"], lambda c: checker.check(target, c))
    assert res.proof is None and checker.calls == []
    assert all(t.verdict.outcome is Outcome.REFUSED for t in res.tried)


async def test_collect_all_next_tactics_in_order(target):
    unsolved = Verdict(Outcome.INCOMPLETE, messages=(LeanMessage(Severity.ERROR, S, "unsolved goals\n⊢ x", True),))
    other = Verdict(Outcome.INCOMPLETE, messages=(LeanMessage(Severity.ERROR, S, "type mismatch"),))

    def rule(c):
        return {"by\n  intro n": unsolved, "by\n  simp": proved(), "by\n  rfl": other}.get(c.proof, failed())

    checker = FakeChecker(rule=rule, delay=0.001)
    res = await run_automation(target, ["rfl", "simp", "intro n", "omega"], lambda c: checker.check(target, c),
                               accept=next_tactic_ok, first_wins=False)
    assert [t for t, _ in res.accepted] == ["simp", "intro n"]
    assert len(checker.calls) == 4


async def test_slots_bound_parallel_checks(target):
    import asyncio

    running = peak = 0

    async def check(c):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return failed()

    await run_automation(target, ["a", "b", "c", "d", "e"], check, slots=2)
    assert peak == 2


def test_a_term_position_sorry_gets_the_tactic_under_by() -> None:
    from lean_copilot_py.core.splice import spliced_document
    from lean_copilot_py.core.targets import find_targets

    text = (
        "theorem t (n : Nat) : ∃ m, n < m := ⟨n + 1, sorry⟩\n\n"
        "theorem u (n : Nat) : n = n := by\n  have h : n = n := by\n    sorry\n  exact h\n"
    )
    term, tactic = find_targets(Path("T.lean"), text)
    assert spliced_document(term, tactic_candidate(term, "omega")).startswith(
        "theorem t (n : Nat) : ∃ m, n < m := ⟨n + 1, (by omega)⟩\n"
    )
    assert "    rfl\n  exact h" in spliced_document(tactic, tactic_candidate(tactic, "rfl"))


def _slow_library_search_checker(*, exact_wins: bool) -> FakeChecker:
    """`exact?` takes 0.5 s and finds `exact Nat.add_zero n` if ``exact_wins``, else runs until cancelled; the
    model's `linarith` proves the goal at once; every quick tactic fails."""
    import asyncio

    checker = FakeChecker(rule=lambda c: failed())
    checker.library_search_running = False  # type: ignore[attr-defined]

    async def check(target, candidate, *, timeout=None, priority=None):  # noqa: ASYNC109
        checker.calls.append(candidate)
        if "exact?" in candidate.proof:
            if not exact_wins:  # a library search that is still running when the model's proof checks
                checker.library_search_running = True
                try:
                    await asyncio.Event().wait()
                finally:
                    checker.library_search_running = False
            await asyncio.sleep(0.5)
            if exact_wins:
                return Verdict(Outcome.PROVED, messages=(info("Try this: exact Nat.add_zero n"),))
            return failed("exact? could not close the goal")
        if candidate.proof.endswith(("exact Nat.add_zero n", "linarith")):
            return proved()
        return failed()

    checker.check = check  # type: ignore[method-assign]
    return checker


async def test_library_searches_run_beside_the_attempts_not_before_them(target):
    import asyncio

    # `exact?` never finishes here: a search that waited for it before asking the model would never end.
    checker = _slow_library_search_checker(exact_wins=False)
    seen_running: list[bool] = []

    def reply(req, n):
        seen_running.append(checker.library_search_running)
        return final_reply(thm("linarith"))

    gen = FakeGenerator(reply)
    cfg = config(automation=("rfl", "omega", "exact?"), slots=2)
    async with asyncio.timeout(30):  # a guard against a hang, not a speed target
        res = await Search(target, checker, cfg, generator=gen, family=FakeFamily()).run()
    assert res.status is SearchStatus.PROVED and res.proof.origin.startswith("model:"), res.reason
    assert seen_running and seen_running[0]  # the model was asked while `exact?` was still being checked
    assert not checker.library_search_running  # and the winning proof cancelled that check


async def test_a_library_search_that_wins_cancels_the_attempts(target):
    checker = _slow_library_search_checker(exact_wins=True)
    gen = FakeGenerator(lambda req, n: final_reply(thm("bogus")), delay=0.05)  # slow, wrong model
    cfg = config(automation=("rfl", "exact?"), slots=2, attempts=2)
    res = await Search(target, checker, cfg, generator=gen, family=FakeFamily()).run()
    assert res.status is SearchStatus.PROVED and res.proof.proof == "by\n  exact Nat.add_zero n", res.reason
    assert gen.requests and gen.open_streams == 0  # the attempts' streams were closed when `exact?` won
