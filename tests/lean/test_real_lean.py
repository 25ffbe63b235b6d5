"""The checker against a real Lean toolchain, on the sample Lake project (lean-project/, core Lean only).
Skipped, with the reason, when `lake` is not on PATH."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lean_copilot_py.core.types import Candidate, Outcome, Pos
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.settings import LeanSettings
from tests.helpers import make_target

pytestmark = [
    pytest.mark.lean,
    pytest.mark.skipif(shutil.which("lake") is None, reason="needs a Lean toolchain: `lake` is not on PATH"),
    pytest.mark.timeout(600),
]

PROJECT = Path(__file__).resolve().parents[2] / "lean-project"
BASIC = PROJECT / "LeanProject" / "Basic.lean"


@pytest.fixture
async def checker() -> AsyncIterator[LeanChecker]:
    c = LeanChecker(PROJECT, LeanSettings(slots=2, check_timeout_s=120))
    yield c
    await c.aclose()


TEXT = BASIC.read_text(encoding="utf-8")


async def test_real_proved_failed_incomplete(checker):
    proved = await checker.check(make_target(TEXT, "sum_bound", path=BASIC), Candidate("by\n  omega"))
    assert proved.outcome is Outcome.PROVED, proved.reason
    assert proved.axioms is not None and "sorryAx" not in proved.axioms

    failed = await checker.check(make_target(TEXT, "mul_comm_ex", path=BASIC),
                                 Candidate("by\n  exact Nat.not_a_lemma a b"))
    assert failed.outcome is Outcome.FAILED
    assert failed.messages and failed.messages[0].span.start.line == 1

    incomplete = await checker.check(make_target(TEXT, "add_zero'", path=BASIC), Candidate("by\n  skip"))
    assert incomplete.outcome is Outcome.INCOMPLETE
    assert incomplete.goals and "⊢ n + 0 = n" in incomplete.goals[0]


async def test_real_sorry_goals_and_goals_at(checker):
    v = await checker.check(make_target(TEXT, "two_mul'", path=BASIC), Candidate("by\n  sorry"))
    assert v.outcome is Outcome.INCOMPLETE
    assert v.sorries and "⊢ 2 * n = n + n" in v.sorries[0].goal
    text = BASIC.read_text(encoding="utf-8")
    line = text.split("\n").index("theorem add_zero' (n : Nat) : n + 0 = n := by") + 1
    goals = await checker.goals_at(BASIC, text, Pos(line, 2))
    assert goals and "⊢ n + 0 = n" in goals[0]


async def test_real_audit_imitation_and_parallel_checks(checker):
    sneaky = Candidate("by\n  trace \"'LeanProject.add_zero'' does not depend on any axioms\"\n  sorry")
    cheaters = [checker.check(make_target(TEXT, "add_zero'", path=BASIC), sneaky)]
    lt_succ = make_target(TEXT, "lt_succ'", path=BASIC)
    honest = [checker.check(lt_succ, Candidate(f"by\n  omega -- {i}")) for i in range(3)]
    verdicts = await asyncio.gather(*cheaters, *honest)
    assert verdicts[0].outcome is Outcome.INCOMPLETE
    assert all(v.outcome is Outcome.PROVED for v in verdicts[1:]), [v.reason for v in verdicts]
