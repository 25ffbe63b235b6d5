"""Search scenarios against in-memory doubles: the sketch/feedback loop, parallel attempts, cancellation,
budgets, the model being down, and the rule that nothing is PROVED without Lean saying so."""

from __future__ import annotations

import asyncio
import json

from lean_copilot_py.core.events import (
    AttemptEnded,
    AttemptStarted,
    AutomationTried,
    GaveUp,
    ProofFound,
    SearchStatus,
    SketchChecked,
)
from lean_copilot_py.core.search import Search
from lean_copilot_py.core.types import FinishReason, Outcome

from .conftest import (
    FakeChecker,
    FakeFamily,
    FakeGenerator,
    chunks,
    config,
    failed,
    final_reply,
    proved,
    sketch_reply,
    thm,
)


def search(target, checker, gen, cfg, events=None, family=None):
    return Search(target, checker, cfg, generator=gen, family=family or FakeFamily(),
                  on_event=(events.append if events is not None else None))


async def test_proof_on_first_sketch(target, tmp_path):
    gen = FakeGenerator(lambda req, n: sketch_reply(thm("omega")))
    checker = FakeChecker()
    events: list = []
    res = await search(target, checker, gen, config(tmp_path), events).run()
    assert res.status is SearchStatus.PROVED
    assert res.proof is not None and res.proof.proof == "by\n  omega"
    assert res.proof.origin == "model:attempt-1:turn-0"
    # the sketch check and the final verification: Lean saw the winning proof twice
    assert checker.checked_proofs() == ["by\n  omega", "by\n  omega"]
    assert res.model_used and res.stats.sketches_checked == 1
    kinds = [type(e) for e in events]
    assert kinds[0] is AttemptStarted and SketchChecked in kinds and ProofFound in kinds and AttemptEnded in kinds
    assert GaveUp not in kinds
    md = res.transcript_path.read_text()
    assert "Verified proof" in md and "omega" in md
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["status"] == "proved" and data["attempts"][0]["turns"][0]["verdict"]["outcome"] == "proved"


async def test_proof_after_timeout_feedback_continues_from_token_ids(target, tmp_path):
    replies = [sketch_reply(thm("slow_tactic")), final_reply(thm("omega"))]
    gen = FakeGenerator(lambda req, n: replies[n])
    checker = FakeChecker()
    res = await search(target, checker, gen, config(tmp_path), []).run()
    assert res.status is SearchStatus.PROVED
    assert res.proof.origin == "model:attempt-1:final"
    first, second = gen.requests
    fb = "\n<REPL>timeout:timed out:</REPL>\n"
    out1 = "Let me check.\n<sketch>\n" + thm("slow_tactic") + "\n</sketch>"
    # continuation = prompt ids + output ids + encode(feedback): the prefix cache can hit every block
    tok = gen.tokenizer
    assert second.prompt_ids == first.prompt_ids + tuple(tok.encode(out1)) + tuple(tok.encode(fb))
    assert second.prompt_text == first.prompt_text + out1 + fb
    turns = json.loads(res.transcript_path.with_suffix(".json").read_text())["attempts"][0]["turns"]
    assert [t["verdict"]["outcome"] for t in turns] == ["timeout", "proved"]
    assert turns[1]["sent"] == fb


async def test_text_fallback_when_backend_returns_no_ids(target):
    replies = [sketch_reply(thm("bogus"), ids=False), final_reply(thm("omega"), ids=False)]
    gen = FakeGenerator(lambda req, n: replies[n])
    res = await search(target, FakeChecker(), gen, config()).run()
    assert res.status is SearchStatus.PROVED
    assert gen.requests[1].prompt_ids is None and "unknown identifier" in gen.requests[1].prompt_text


async def test_every_attempt_fails(target, tmp_path):
    gen = FakeGenerator(lambda req, n: final_reply(thm("linarith")))
    checker = FakeChecker()
    events: list = []
    res = await search(target, checker, gen, config(tmp_path, attempts=3), events).run()
    assert res.status is SearchStatus.FAILED and res.proof is None
    assert "3 attempts" in res.reason and "final proof not accepted" in res.reason
    assert res.verdict is not None and res.verdict.outcome is Outcome.FAILED
    assert sum(isinstance(e, AttemptEnded) for e in events) == 3 and isinstance(events[-1], GaveUp)
    assert res.transcript_path.exists()


async def test_cancel_mid_stream_closes_streams(target):
    endless = chunks("thinking " * 10_000, size=4)
    gen = FakeGenerator(lambda req, n: endless, delay=0.005)
    s = search(target, FakeChecker(), gen, config(attempts=3))
    task = asyncio.create_task(s.run())
    while gen.open_streams < 3:  # noqa: ASYNC110 (polling a fake's counter)
        await asyncio.sleep(0.01)
    s.cancel()
    res = await task
    assert res.status is SearchStatus.CANCELLED and res.proof is None
    assert gen.open_streams == 0 and gen.closed_streams == 3


async def test_cancelling_the_task_also_closes_streams(target):
    gen = FakeGenerator(lambda req, n: chunks("x" * 10_000, size=1), delay=0.005)
    task = asyncio.create_task(search(target, FakeChecker(), gen, config(attempts=2)).run())
    while gen.open_streams < 2:  # noqa: ASYNC110 (polling a fake's counter)
        await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert gen.open_streams == 0 and gen.closed_streams == 2


async def test_model_down_automation_still_runs(target):
    gen = FakeGenerator(lambda req, n: ConnectionRefusedError("connect to 127.0.0.1:8000 refused"))
    checker = FakeChecker(rule=lambda c: failed("simp failed"))
    events: list = []
    res = await search(target, checker, gen, config(automation=("rfl", "simp"), attempts=2), events).run()
    assert res.status is SearchStatus.FAILED and res.proof is None
    assert res.model_used is False
    assert "model unavailable" in res.reason and "refused" in res.reason and "automation only" in res.reason
    assert sum(isinstance(e, AutomationTried) for e in events) == 2
    assert len(checker.calls) == 2  # the automation ran through Lean


async def test_statement_drift_is_refused_as_feedback(target):
    drifted = thm("omega", statement="theorem foo (n : Nat) : n = n")
    replies = [sketch_reply(drifted), final_reply(drifted)]
    gen = FakeGenerator(lambda req, n: replies[n])
    checker = FakeChecker()
    res = await search(target, checker, gen, config()).run()
    assert res.status is SearchStatus.FAILED
    assert checker.calls == []  # Lean never saw the drifted statement
    feedback = gen.requests[1].prompt_text
    assert "<REPL>refused:" in feedback and "statement" in feedback


async def test_token_budget_exhausted(target):
    gen = FakeGenerator(lambda req, n: sketch_reply(thm("bogus")))
    res = await search(target, FakeChecker(), gen, config(context_tokens=900)).run()
    assert res.status is SearchStatus.FAILED
    assert "token budget (900) exhausted" in res.reason
    # every request asked for at most what was left of the budget
    for req in gen.requests:
        assert len(req.prompt_ids) + req.sampling.max_tokens <= 900


async def test_turn_limit(target):
    gen = FakeGenerator(lambda req, n: sketch_reply(thm("bogus")))
    res = await search(target, FakeChecker(), gen, config(max_turns=2)).run()
    assert "turn limit (2) reached" in res.reason and len(gen.requests) == 2


async def test_parallel_early_exit_closes_losers(target):
    def script(req, n):
        if req.session.endswith("-1"):
            return sketch_reply(thm("omega"))
        return chunks("still thinking " * 5000, size=2)

    gen = FakeGenerator(script, delay=0.002)
    events: list = []
    res = await search(target, FakeChecker(), gen, config(attempts=4), events).run()
    assert res.status is SearchStatus.PROVED and res.proof.origin.startswith("model:attempt-1")
    assert sum(isinstance(e, AttemptStarted) for e in events) == 4
    assert gen.open_streams == 0 and gen.closed_streams == 4  # the three losers' requests were closed


async def test_a_checker_that_swallows_the_cancel_cannot_keep_a_losing_attempt_alive(target):
    """Python 3.11's wait_for returns a reply that lands in the same loop step as the cancel instead of raising
    (leanclient waits on Lean with it). The losing attempt must still stop rather than write its next sketch."""
    import asyncio

    from lean_copilot_py.core.types import Outcome, Verdict

    class Swallowing(FakeChecker):
        async def check(self, target, candidate, *, timeout=None, priority=None):  # noqa: ASYNC109
            if "omega" in candidate.proof:
                return await super().check(target, candidate, timeout=timeout, priority=priority)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:  # what wait_for does when the reply is already there
                pass
            return Verdict(Outcome.FAILED, reason="late reply")

    def script(req, n):
        if req.session.endswith("-1"):
            return sketch_reply(thm("omega"))
        return sketch_reply(thm("bogus"))

    gen = FakeGenerator(script, delay=0.001)
    res = await asyncio.wait_for(search(target, Swallowing(), gen, config(attempts=2)).run(), 10)
    assert res.status is SearchStatus.PROVED
    loser = [r for r in gen.requests if r.session.endswith("-2")]
    assert len(loser) == 1  # no second turn after its search was over
    assert gen.open_streams == 0


async def test_deadline(target):
    gen = FakeGenerator(lambda req, n: chunks("z" * 100_000, size=1), delay=0.01)
    res = await search(target, FakeChecker(), gen, config(deadline_s=0.3)).run()
    assert res.status is SearchStatus.TIMEOUT and res.proof is None and "deadline" in res.reason
    assert gen.open_streams == 0


async def test_final_verification_failure_is_not_proved(target):
    seen: dict[str, int] = {}

    def flaky(c):
        seen[c.proof] = seen.get(c.proof, 0) + 1
        return proved() if seen[c.proof] == 1 else failed("flaky")

    gen = FakeGenerator(lambda req, n: sketch_reply(thm("omega")) if n == 0 else final_reply(thm("nope")))
    res = await search(target, FakeChecker(rule=flaky), gen, config()).run()
    assert res.status is not SearchStatus.PROVED and res.proof is None


async def test_axiom_audit_rejects_sorry_ax(target):
    from lean_copilot_py.core.types import Verdict

    checker = FakeChecker(rule=lambda c: Verdict(Outcome.PROVED, axioms=("sorryAx",)))
    gen = FakeGenerator(lambda req, n: final_reply(thm("omega")))
    res = await search(target, checker, gen, config()).run()
    assert res.status is SearchStatus.FAILED and res.proof is None


async def test_sketch_with_sorry_is_checked_but_not_a_proof(target):
    from lean_copilot_py.core.types import Verdict

    # even if Lean (wrongly) said PROVED, a sketch that still has `sorry` fails strict screening
    checker = FakeChecker(rule=lambda c: Verdict(Outcome.PROVED))
    gen = FakeGenerator(lambda req, n: sketch_reply(thm("sorry")) if n == 0 else final_reply(thm("sorry")))
    res = await search(target, checker, gen, config()).run()
    assert res.status is SearchStatus.FAILED and len(checker.calls) == 1


async def test_malformed_outputs_never_raise(target):
    outputs = [
        chunks("<sketch>\nunclosed forever", stop=None),  # unclosed tag, then EOS
        chunks("no code at all", stop=None),
        sketch_reply("   "),  # empty sketch -> feedback
        chunks("\ufffd\ufffd bad bytes ```lean4\n\ufffd", stop=None),
        chunks("cut", finish=FinishReason.LENGTH, stop=None),
        [],  # a stream that ends without a finish chunk
    ]
    for out in outputs:
        gen = FakeGenerator(lambda req, n, out=out: out if n == 0 else final_reply(thm("bogus")))
        res = await search(target, FakeChecker(), gen, config()).run()
        assert res.status is SearchStatus.FAILED and res.proof is None, out


async def test_empty_sketch_gets_feedback(target):
    gen = FakeGenerator(lambda req, n: sketch_reply("  ") if n == 0 else final_reply(thm("omega")))
    res = await search(target, FakeChecker(), gen, config()).run()
    assert res.status is SearchStatus.PROVED
    assert "sketch is empty" in gen.requests[1].prompt_text


async def test_family_bug_ends_attempt_cleanly(target):
    class Broken(FakeFamily):
        def parse(self, output, finished):
            raise ValueError("parser bug")

    gen = FakeGenerator(lambda req, n: sketch_reply(thm("omega")))
    res = await search(target, FakeChecker(), gen, config(), family=Broken()).run()
    assert res.status is SearchStatus.FAILED and "parser bug" in res.reason


async def test_checker_crash_everywhere_is_error(target):
    async def boom(*a, **k):
        raise RuntimeError("lake serve died")

    checker = FakeChecker()
    checker.check = boom
    res = await Search(target, checker, config(automation=("rfl",))).run()
    assert res.status is SearchStatus.ERROR and "lake serve died" in res.reason
