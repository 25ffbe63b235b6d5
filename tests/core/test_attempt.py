"""The attempt loop's gatekeeping (core/attempt.py): every sketch is pinned and screened like a final proof
before any checker sees it, and the helper bounds come from the settings."""

from __future__ import annotations

from lean_copilot_py.core.attempt import AttemptConfig
from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.pinning import pin_code
from lean_copilot_py.core.screen import screen_candidate
from lean_copilot_py.core.search import Search
from lean_copilot_py.core.types import Candidate, Outcome, Verdict
from lean_copilot_py.settings import SearchSettings
from tests.helpers import make_target

from .conftest import FakeChecker, FakeFamily, FakeGenerator, config, final_reply, sketch_reply, thm

# Issue 16: `dbg_trace` reads `"{"\""}"` as one interpolated literal, so the next line is code to Lean.
HIDING = 'dbg_trace "{"\\""}"; rfl\n#eval IO.println "HIDDEN" --"'


async def test_a_sketch_hiding_a_command_never_reaches_the_checker() -> None:
    checker = FakeChecker(rule=lambda c: Verdict(Outcome.PROVED, axioms=()))
    replies = [sketch_reply(thm(HIDING)), final_reply(thm("omega"))]
    gen = FakeGenerator(lambda req, n: replies[min(n, 1)])
    res = await Search(make_target(), checker, config(max_turns=3), generator=gen, family=FakeFamily()).run()
    assert all("HIDDEN" not in c.proof and "HIDDEN" not in c.helpers for c, _ in checker.calls)
    assert checker.calls, "the clean final proof was checked"
    assert res.status is SearchStatus.PROVED and res.proof is not None and res.proof.proof == "by\n  omega"
    # The model was told why, in the feedback of the refused sketch.
    feedback = gen.requests[1].prompt_text
    assert "refused" in feedback and "interpolated" in feedback


def test_screen_candidate_also_refuses_commands_the_proof_would_write_into_the_file() -> None:
    cand = Candidate("Eq.refl\n\ninstance evil : Inhabited Nat := ⟨5⟩")
    v = screen_candidate(cand, strict=True)
    assert v is not None and v.outcome is Outcome.REFUSED and "starts a command" in v.reason
    helper = Candidate("h", helpers="theorem h : True := trivial")  # not private
    assert screen_candidate(helper, strict=True) is not None
    assert screen_candidate(Candidate("h", helpers="private theorem h : True := trivial"), strict=True) is None


def test_helper_bounds_come_from_the_settings() -> None:
    cfg = AttemptConfig.from_settings(SearchSettings(max_helpers=1, max_helper_chars=500))
    assert (cfg.max_helpers, cfg.max_helper_chars) == (1, 500)
    two = "theorem a : True := trivial\n\ntheorem b : True := trivial\n\n" + thm("omega")
    refused = pin_code(make_target(), two, "m", max_helpers=cfg.max_helpers, max_helper_chars=cfg.max_helper_chars)
    assert isinstance(refused, Verdict) and "at most 1" in refused.reason
    ok = pin_code(make_target(), two, "m")
    assert isinstance(ok, Candidate) and ok.helpers.count("private theorem") == 2
