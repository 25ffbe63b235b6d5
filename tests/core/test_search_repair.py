"""A repair inside the search (fake seams): the user's own proof is checked first under the pinned statement;
a proof Lean accepts is left alone; otherwise the model starts from that proof and Lean's errors (the prior
turn), automation first, and what it finds is verified like any proof."""

from __future__ import annotations

import json
from dataclasses import replace

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.protocols import Problem
from lean_copilot_py.core.search import Search
from lean_copilot_py.core.search_repair import ACCEPTED_AS_IS, ORIGINAL_ORIGIN
from lean_copilot_py.core.types import Candidate, LeanMessage, Outcome, Pos, RepairContext, Severity, Span, Verdict

from .conftest import FakeChecker, FakeFamily, FakeGenerator, config, failed, final_reply, make_target, proved, thm

BROKEN = "import Mathlib\n\ntheorem foo (n : Nat) : n + 0 = n := by\n  simpp\n"
DOC_ERROR = LeanMessage(Severity.ERROR, Span(Pos(1, 2), Pos(1, 7)), "unknown tactic 'simpp' (from the file)")
CHECKED_ERROR = "unknown tactic 'simpp' (from this search's check)"


class PriorFamily(FakeFamily):
    """The fake family, rendering a repair's prior turn the way a real one would: its code and Lean's messages."""

    def initial_prompt(self, problem: Problem, tokenizer) -> str:  # type: ignore[no-untyped-def]
        prior = ""
        if problem.prior is not None:
            errors = "|".join(m.text for m in problem.prior.verdict.messages)
            prior = f"\n<PRIOR>{problem.prior.code}</PRIOR><REPL>{errors}</REPL>"
        return tokenizer.chat_prompt([{"role": "user", "content": f"{problem.header}{problem.statement}{prior}"}])


def repair_target():
    target = make_target(BROKEN)
    return replace(target, repair=RepairContext(original="by\n  simpp", messages=(DOC_ERROR,)))


def rule(c: Candidate) -> Verdict:
    if "simpp" in c.proof:
        return failed(CHECKED_ERROR)
    return proved() if "omega" in c.proof else failed()


async def test_the_users_proof_is_checked_first_and_the_model_repairs_from_it(tmp_path):
    checker = FakeChecker(rule=rule)
    gen = FakeGenerator(lambda req, n: final_reply(thm("omega")))
    res = await Search(repair_target(), checker, config(tmp_path), generator=gen, family=PriorFamily()).run()
    assert res.status is SearchStatus.PROVED and res.proof is not None and res.proof.proof == "by\n  omega"
    first, *rest = checker.calls
    assert first[0].origin == ORIGINAL_ORIGIN and first[0].proof == "by\n  simpp"
    assert [c.proof for c, _ in rest] == ["by\n  omega", "by\n  omega"]  # the model's proof, then its final check
    (request,) = gen.requests
    # The prior turn: the user's declaration and what this search's checker said about it (not the file's text).
    assert "<PRIOR>theorem foo (n : Nat) : n + 0 = n := by\n  simpp</PRIOR>" in request.prompt_text
    assert CHECKED_ERROR in request.prompt_text
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["repair"]["original"] == "by\n  simpp"
    assert data["repair"]["messages"][0]["text"] == DOC_ERROR.text
    assert data["repair"]["checked"]["outcome"] == "failed"
    assert data["repair"]["checked"]["messages"][0]["text"] == CHECKED_ERROR
    assert data["proof"]["proof"] == "by\n  omega"
    md = res.transcript_path.read_text()
    assert "## Repair: the proof in the file" in md and "Verified proof" in md


async def test_a_proof_lean_accepts_is_left_alone(tmp_path):
    checker = FakeChecker(rule=lambda c: proved())
    gen = FakeGenerator(lambda req, n: final_reply(thm("omega")))
    res = await Search(repair_target(), checker, config(tmp_path, automation=("rfl",)), generator=gen,
                       family=PriorFamily()).run()
    assert res.status is SearchStatus.NOTHING_TO_REPAIR and res.reason == ACCEPTED_AS_IS
    assert res.proof is None and res.skeleton is None and not res.model_used
    assert [c.origin for c, _ in checker.calls] == [ORIGINAL_ORIGIN]  # neither automation nor the model ran
    assert gen.requests == []
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["status"] == "nothing-to-repair" and data["repair"]["checked"]["outcome"] == "proved"


async def test_automation_goes_first_in_a_repair(tmp_path):
    checker = FakeChecker(rule=rule)
    gen = FakeGenerator(lambda req, n: final_reply(thm("omega")))
    res = await Search(repair_target(), checker, config(tmp_path, automation=("omega",)), generator=gen,
                       family=PriorFamily()).run()
    assert res.status is SearchStatus.PROVED and res.proof.origin == "automation:omega"
    assert gen.requests == []
    assert checker.calls[0][0].origin == ORIGINAL_ORIGIN


async def test_a_crashed_check_of_the_users_proof_keeps_the_files_messages(tmp_path):
    def crashing(c: Candidate) -> Verdict:
        if "simpp" in c.proof:
            return Verdict(Outcome.CRASHED, reason="server crashed")
        return rule(c)

    gen = FakeGenerator(lambda req, n: final_reply(thm("omega")))
    res = await Search(repair_target(), FakeChecker(rule=crashing), config(tmp_path), generator=gen,
                       family=PriorFamily()).run()
    assert res.status is SearchStatus.PROVED
    assert DOC_ERROR.text in gen.requests[0].prompt_text  # the document's messages are the prior turn's feedback


async def test_a_repair_that_finds_nothing_says_so_and_replaces_nothing(tmp_path):
    gen = FakeGenerator(lambda req, n: final_reply(thm("simpp")))
    res = await Search(repair_target(), FakeChecker(rule=rule), config(tmp_path), generator=gen,
                       family=PriorFamily()).run()
    assert res.status is SearchStatus.FAILED and res.proof is None and res.skeleton is None
