"""Property: whatever the model writes and whatever Lean answers, a search is PROVED only with a candidate
that the checker called PROVED (twice: when found and at the final verification) and that has no sorry."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.search import Search
from lean_copilot_py.core.types import Outcome, Verdict
from tests.helpers import make_target

from .conftest import FakeChecker, FakeFamily, FakeGenerator, config, final_reply, sketch_reply, thm

BODIES = ["omega", "sorry", "exact?", "simp", "rfl", "native_decide", "admit", "linarith"]
outcomes = st.sampled_from(list(Outcome))
replies = st.lists(st.tuples(st.booleans(), st.sampled_from(BODIES), st.booleans()), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=replies, verdicts=st.lists(outcomes, min_size=1, max_size=12), automation=st.booleans())
def test_proved_only_with_a_proved_verdict(script, verdicts, automation):
    target = make_target()
    it = iter(verdicts * 20)
    checker = FakeChecker(rule=lambda c: Verdict(next(it)))

    def gen_script(req, n):
        if n >= len(script):
            return final_reply(thm("omega"))
        is_sketch, body, drift = script[n]
        code = thm(body, statement="theorem foo (n : Nat) : n = n") if drift else thm(body)
        return sketch_reply(code) if is_sketch else final_reply(code)

    gen = FakeGenerator(gen_script)
    cfg = config(attempts=2, automation=("rfl", "exact?") if automation else (), max_turns=4)
    res = asyncio.run(Search(target, checker, cfg, generator=gen, family=FakeFamily()).run())
    if res.status is SearchStatus.PROVED:
        assert res.proof is not None and res.verdict is not None and res.verdict.proved
        verdicts_for = [v for c, v in checker.calls if c.proof == res.proof.proof]
        assert verdicts_for[-1].proved and len(verdicts_for) >= 2
        assert all(bad not in res.proof.proof for bad in ("sorry", "admit", "exact?", "native_decide"))
    else:
        assert res.proof is None
