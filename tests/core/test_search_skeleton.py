"""Skeletons in the search (fake seams): every check is offered to the keeper; a search that ends without a proof
re-verifies the best skeleton once and hands it back apart from the proof; one that fails re-verification is
dropped; a proof always wins over a skeleton; the cache never stores a skeleton."""

from __future__ import annotations

import json

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.search import Search
from lean_copilot_py.core.types import Candidate, LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Verdict
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.settings import Settings
from tests.fakes.lake_project import make_lake_project

from .conftest import (
    FakeChecker,
    FakeFamily,
    FakeGenerator,
    config,
    failed,
    final_reply,
    make_target,
    proved,
    sketch_reply,
    thm,
)

SKELETON = "induction n with\n  | zero => sorry\n  | succ k ih => omega"
TWO_HOLES = "induction n with\n  | zero => sorry\n  | succ k ih => sorry"
AT = Span(Pos(2, 4), Pos(2, 9))


def skeleton_verdict(holes: int = 1) -> Verdict:
    return Verdict(Outcome.INCOMPLETE, messages=(LeanMessage(Severity.WARNING, AT, "declaration uses 'sorry'"),),
                   sorries=tuple(SorryGoal(AT, "⊢ 0 + 0 = 0") for _ in range(holes)),
                   axioms=("propext", "sorryAx"), reason="declaration uses 'sorry'")


def rule(c: Candidate) -> Verdict:
    if "sorry" in c.proof:
        return skeleton_verdict(c.proof.count("sorry"))
    return failed()


def search(checker, replies, tmp_path, **kw):
    gen = FakeGenerator(lambda req, n: replies[min(n, len(replies) - 1)])
    return Search(make_target(), checker, config(tmp_path, **kw), generator=gen, family=FakeFamily())


async def test_a_failed_search_keeps_its_best_skeleton_re_verified(tmp_path):
    checker = FakeChecker(rule=rule)
    replies = [sketch_reply(thm(TWO_HOLES)), sketch_reply(thm(SKELETON)), final_reply(thm("simp"))]
    res = await search(checker, replies, tmp_path).run()
    assert res.status is SearchStatus.FAILED and res.proof is None
    assert res.skeleton is not None and res.skeleton.sorries == 1
    assert res.skeleton.candidate.proof == "by\n  " + SKELETON
    assert res.skeleton.verdict.outcome is Outcome.INCOMPLETE
    # The skeleton was checked once more after the search (its own final verification).
    assert [c.proof for c, _ in checker.calls].count(res.skeleton.candidate.proof) == 2
    assert checker.priorities[-1].final
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["status"] == "failed" and data["proof"] is None
    assert data["skeleton"]["sorries"] == 1 and data["skeleton"]["summary"] == "1 sorry left: ⊢ 0 + 0 = 0"
    assert "Verified skeleton" in res.transcript_path.read_text()


async def test_a_skeleton_that_fails_re_verification_is_dropped(tmp_path):
    seen: list[str] = []

    def flaky(c: Candidate) -> Verdict:
        seen.append(c.proof)
        if "sorry" in c.proof and seen.count(c.proof) > 1:
            return failed("the environment changed")  # the second look says no
        return rule(c)

    res = await search(FakeChecker(rule=flaky), [sketch_reply(thm(SKELETON)), final_reply(thm("simp"))],
                       tmp_path).run()
    assert res.status is SearchStatus.FAILED and res.skeleton is None and res.proof is None
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["skeleton"] is None and any("failed re-verification" in n for n in data["notes"])


async def test_a_disallowed_axiom_or_a_search_tactic_is_no_skeleton(tmp_path):
    def bad_axiom(c: Candidate) -> Verdict:
        v = rule(c)
        return Verdict(v.outcome, v.messages, sorries=v.sorries, axioms=("sorryAx", "user_ax")) if "sorry" in c.proof \
            else v

    res = await search(FakeChecker(rule=bad_axiom), [sketch_reply(thm(SKELETON)), final_reply(thm("simp"))],
                       tmp_path).run()
    assert res.skeleton is None
    searching = "induction n with\n  | zero => exact?\n  | succ k ih => sorry"
    res = await search(FakeChecker(rule=rule), [sketch_reply(thm(searching)), final_reply(thm("simp"))],
                       tmp_path).run()
    assert res.skeleton is None


async def test_a_proof_wins_over_a_skeleton(tmp_path):
    checker = FakeChecker(rule=lambda c: proved() if "omega" in c.proof and "sorry" not in c.proof else rule(c))
    res = await search(checker, [sketch_reply(thm(SKELETON)), final_reply(thm("omega"))], tmp_path).run()
    assert res.status is SearchStatus.PROVED and res.proof.proof == "by\n  omega" and res.skeleton is None


async def test_automation_verdicts_are_offered_too_and_skeletons_can_be_switched_off(tmp_path):
    checker = FakeChecker(rule=rule)
    res = await Search(make_target(), checker, config(tmp_path, automation=("exact sorry", "sorry"))).run()
    assert res.skeleton is None  # `sorry` alone makes no progress
    res = await Search(make_target(), FakeChecker(rule=rule), config(tmp_path, skeletons=False),
                       generator=FakeGenerator(lambda req, n: [*sketch_reply(thm(SKELETON))] if n == 0
                                               else final_reply(thm("simp"))),
                       family=FakeFamily()).run()
    assert res.skeleton is None


async def test_the_engine_never_caches_a_skeleton(tmp_path):
    root = make_lake_project(tmp_path / "proj", name="p")
    target = make_target(path=root / "Foo.lean")
    checker = FakeChecker(rule=rule)
    replies = [sketch_reply(thm(SKELETON)), final_reply(thm("simp"))]
    gen = FakeGenerator(lambda req, n: replies[min(n, 1)])
    settings = Settings.model_validate({"search": {"automation": [], "attempts": 1},
                                        "paths": {"cache_dir": str(tmp_path / "cache")}, "model": {"backend": "none"}})
    engine = Engine(settings, checker_factory=lambda r: checker, generator=gen, family=FakeFamily())
    try:
        res = await engine.search(target)
        assert res.status is SearchStatus.FAILED and res.skeleton is not None
        again = await engine.search(target)
        assert not again.from_cache and again.status is SearchStatus.FAILED
        assert not (tmp_path / "cache" / "proofs.json").exists() and engine.cache._entries == {}
    finally:
        await engine.aclose()
