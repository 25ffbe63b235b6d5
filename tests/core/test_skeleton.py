"""Verified skeletons (core/skeleton.py): which checked candidates count as skeletons, which one a search keeps,
how it reads to a human, and (on the real prelude Lean with the `sorry`-capable stand-in Init) that real verdicts
pass the rules and a skeleton's sorries become targets that can be filled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_copilot_py.core.skeleton import (
    Skeleton,
    SkeletonKeeper,
    is_skeleton,
    is_sorry_warning,
    is_try_this,
    makes_progress,
    skeleton_findings,
    sorry_count,
)
from lean_copilot_py.core.types import Candidate, LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Verdict

ALLOWED = frozenset({"propext", "Classical.choice", "Quot.sound"})
AT = Span(Pos(0, 8), Pos(0, 11))
SORRY_WARNING = LeanMessage(Severity.WARNING, AT, "declaration uses 'sorry'")
TWO = Candidate("And.intro sorry (by\n  exact sorry)", origin="model:attempt-1:turn-2")
ONE = Candidate("And.intro Eq.refl sorry", origin="model:attempt-2:turn-0")


def skeleton_verdict(**changes) -> Verdict:
    base = {
        "outcome": Outcome.INCOMPLETE,
        "messages": (SORRY_WARNING,),
        "sorries": (SorryGoal(Span(Pos(0, 60), Pos(0, 65)), "a : N\n⊢ Eq N.two N.two"),),
        "axioms": ("propext", "sorryAx"),
        "reason": "declaration uses 'sorry'",
    }
    base.update(changes)
    return Verdict(**base)


# --- is_skeleton ---------------------------------------------------------------------------------------------------


def test_a_skeleton_verdict():
    assert is_skeleton(skeleton_verdict(), ALLOWED)
    assert is_skeleton(skeleton_verdict(), ALLOWED, ONE)
    assert is_skeleton(skeleton_verdict(messages=(LeanMessage(Severity.WARNING, AT, "declaration uses `sorry`"),)),
                       ALLOWED)


@pytest.mark.parametrize(
    ("why", "changes"),
    [
        ("proved", {"outcome": Outcome.PROVED}),
        ("failed", {"outcome": Outcome.FAILED}),
        ("refused", {"outcome": Outcome.REFUSED}),
        ("an unsolved goal is an error",
         {"messages": (SORRY_WARNING, LeanMessage(Severity.ERROR, AT, "unsolved goals\n⊢ True", True)),
          "goals": ("⊢ True",)}),
        ("any other error", {"messages": (SORRY_WARNING, LeanMessage(Severity.ERROR, AT, "Type mismatch"))}),
        ("no sorry warning", {"messages": ()}),
        ("a leftover search tactic",
         {"messages": (SORRY_WARNING, LeanMessage(Severity.INFORMATION, AT, "Try this: exact Eq.refl"))}),
        ("no audit answer", {"axioms": None}),
        ("a disallowed axiom", {"axioms": ("sorryAx", "user_ax")}),
        ("the pinned statement itself", {"axioms": ("sorryAx", "_lean_copilot_pinned_statement")}),
    ],
)
def test_not_a_skeleton(why, changes):
    assert not is_skeleton(skeleton_verdict(**changes), ALLOWED), why


def test_the_candidate_must_bring_its_own_sorry_and_make_progress():
    # A declaration's other sorries make the same warning: a candidate without one is no skeleton (it would be a
    # proof, had the declaration no other sorry).
    assert not is_skeleton(skeleton_verdict(), ALLOWED, Candidate("Eq.refl"))
    for nothing in ("sorry", "by sorry", "by\n  exact sorry", "(sorry)", "by\n  · sorry"):
        assert not makes_progress(Candidate(nothing)), nothing
        assert not is_skeleton(skeleton_verdict(), ALLOWED, Candidate(nothing)), nothing
    assert makes_progress(ONE) and makes_progress(Candidate("h", helpers="private theorem h : P := sorry"))


def test_the_message_rules_say_what_the_checkers_do():
    from lean_copilot_py.lean import messages as lean_messages

    cases = [
        SORRY_WARNING,
        LeanMessage(Severity.WARNING, AT, "declaration uses `sorry`"),
        LeanMessage(Severity.WARNING, AT, "Declaration uses 'sorry'"),
        LeanMessage(Severity.ERROR, AT, "declaration uses 'sorry'"),
        LeanMessage(Severity.WARNING, AT, "unused variable `h`"),
        LeanMessage(Severity.INFORMATION, AT, "Try this: simp"),
        LeanMessage(Severity.INFORMATION, AT, "Try this:\n  [apply] simp"),
        LeanMessage(Severity.INFORMATION, AT, "try this: exact h"),
        LeanMessage(Severity.ERROR, AT, "Try this: simp"),
        LeanMessage(Severity.INFORMATION, AT, "N.z : N"),
    ]
    for m in cases:
        assert is_sorry_warning(m) == lean_messages.is_sorry_warning(m), m
        assert is_try_this(m) == lean_messages.is_try_this(m), m


def test_sorry_count_reads_code_only():
    assert sorry_count(Candidate("And.intro sorry sorry -- sorry\n")) == 2
    assert sorry_count(Candidate('by\n  have : "sorry" = "sorry" := sorry\n  admit')) == 2
    assert sorry_count(Candidate("h", helpers="private theorem h : P := sorry")) == 1
    assert sorry_count(Candidate("Eq.refl /- sorry -/")) == 0


# --- screening ---------------------------------------------------------------------------------------------------


def test_skeleton_screening_is_a_final_proofs_except_for_sorry():
    assert skeleton_findings(ONE) == []
    assert skeleton_findings(Candidate("h", helpers="private theorem h : Eq N.one N.one := sorry")) == []
    assert [f.rule for f in skeleton_findings(Candidate("by\n  exact?\n  sorry"))] == ["search"]
    assert "#eval" in [f.rule for f in skeleton_findings(Candidate("by\n  #eval 1\n  sorry"))]
    assert [f.rule for f in skeleton_findings(Candidate("by native_decide"))] == ["native_decide"]
    assert skeleton_findings(Candidate("by native_decide"), allow_native_decide=True) == []
    assert "helper" in [f.rule for f in skeleton_findings(Candidate("h", helpers="theorem h : P := sorry"))]
    assert "axiom" in [f.rule for f in skeleton_findings(Candidate("h", helpers="axiom h : P"))]


# --- the keeper ------------------------------------------------------------------------------------------------


def test_the_keeper_keeps_the_fewest_sorries_then_the_earliest():
    keeper = SkeletonKeeper(ALLOWED)
    assert keeper.best is None
    assert not keeper.offer(ONE, skeleton_verdict(outcome=Outcome.FAILED))
    assert keeper.offer(TWO, skeleton_verdict())
    assert keeper.best is not None and keeper.best.sorries == 2 and keeper.best.candidate is TWO
    assert keeper.offer(ONE, skeleton_verdict())
    later_one = Candidate("And.intro sorry Eq.refl", origin="model:attempt-3:turn-1")
    assert not keeper.offer(later_one, skeleton_verdict())  # as good, but later
    assert not keeper.offer(TWO, skeleton_verdict())  # worse
    assert not keeper.offer(Candidate("by\n  exact?\n  sorry"), skeleton_verdict())  # screened out
    assert not keeper.offer(Candidate("sorry"), skeleton_verdict())  # no progress
    best = keeper.best
    assert best is not None and best.candidate is ONE and best.sorries == 1
    assert best.goals == ("a : N\n⊢ Eq N.two N.two",)
    assert keeper.offered == 7


async def test_the_keeper_watches_a_check_function():
    from lean_copilot_py.core.protocols import CheckPriority

    seen: list[tuple[str, CheckPriority | None]] = []
    verdicts = {ONE.proof: skeleton_verdict(), TWO.proof: skeleton_verdict(outcome=Outcome.FAILED)}

    async def check(candidate: Candidate, priority: CheckPriority | None = None, /) -> Verdict:
        seen.append((candidate.proof, priority))
        return verdicts[candidate.proof]

    keeper = SkeletonKeeper(ALLOWED)
    watched = keeper.watching(check)
    urgent = CheckPriority(final=True)
    assert await watched(TWO) is verdicts[TWO.proof]
    assert await watched(ONE, urgent) is verdicts[ONE.proof]
    assert seen == [(TWO.proof, None), (ONE.proof, urgent)]  # the priority is passed on as given
    assert keeper.best is not None and keeper.best.candidate is ONE and keeper.offered == 2


def test_the_keeper_never_raises():
    keeper = SkeletonKeeper(ALLOWED)
    assert not keeper.offer(ONE, None)  # type: ignore[arg-type]
    assert keeper.best is None


def test_the_summary_says_what_is_left():
    goals = ("a b : N\nh : Eq a b\n⊢ Eq b a", "⊢ Eq\n    (N.add a N.z)\n    a")
    sk = Skeleton(TWO, skeleton_verdict(), 2, goals)
    assert sk.summary() == "2 sorries left: ⊢ Eq b a; ⊢ Eq (N.add a N.z) a"
    assert Skeleton(ONE, skeleton_verdict(), 1).summary() == "1 sorry left"
    assert Skeleton(ONE, skeleton_verdict(), 1, ("⊢ A\n\n⊢ B",)).summary() == "1 sorry left: ⊢ A"
    long = Skeleton(ONE, skeleton_verdict(), 1, ("⊢ " + "x" * 300,)).summary()
    assert len(long) == 160 and long.endswith("…") and "\n" not in long


def test_the_transcript_records_the_skeleton():
    from lean_copilot_py.core.events import SearchResult, SearchStatus
    from lean_copilot_py.core.targets import find_targets
    from lean_copilot_py.core.transcript import Transcript, to_json, to_markdown

    text = "theorem two (a : N) : And (Eq (N.add a N.z) a) (Eq N.two N.two) := sorry\n"
    (target,) = find_targets(Path("/project/Demo.lean"), text)
    sk = Skeleton(ONE, skeleton_verdict(), 1, ("a : N\n⊢ Eq N.two N.two",))
    tr = Transcript("s1", target, skeleton=sk)
    result = SearchResult("s1", SearchStatus.FAILED, reason="no proof found")
    data = to_json(tr, result)
    assert data["skeleton"]["proof"] == ONE.proof and data["skeleton"]["sorries"] == 1
    assert data["skeleton"]["summary"] == "1 sorry left: ⊢ Eq N.two N.two"
    assert data["skeleton"]["verdict"]["outcome"] == "incomplete"
    json.dumps(data)
    md = to_markdown(tr, result)
    assert "## Verified skeleton (model:attempt-2:turn-0): 1 sorry left: ⊢ Eq N.two N.two" in md
    assert ONE.proof in md
    assert to_json(Transcript("s2", target), result)["skeleton"] is None


# --- real Lean ----------------------------------------------------------------------------------------------------

# The stand-in Init (tests/fixtures/sorry_init) declares what Lean's `sorry` label needs as bare axioms, so the
# audit of a proof with `sorry` lists them beside `sorryAx`; real Lean's Init defines them (no axioms).
STAND_IN_INIT = frozenset({"Nat", "OfNat", "String", "instOfNatNat", "Lean.Name", "OfNat.ofNat", "Lean.Name.anonymous",
                           "Lean.Name.num", "Lean.Name.str", "Unit", "Unit.unit"})
# `And` as axioms (allowed in these tests): an inductive here would need code-generator constants the stand-in Init
# lacks.
FILE_AXIOMS = frozenset({"And", "And.intro"})
DOCUMENT = """import Prelude.Basic

axiom And (a b : Prop) : Prop
axiom And.intro {a b : Prop} : a → b → And a b

theorem two (a : N) : And (Eq (N.add a N.z) a) (Eq N.two N.two) := sorry
"""


@pytest.fixture
async def sorry_checker(real_lean, tmp_path):
    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.settings import LeanSettings
    from tests.kimina_server import BUILD, build_kimina_project

    project = build_kimina_project(tmp_path / "built", real_lean)
    command = ["env", f"LEAN_PATH={project / BUILD}", str(real_lean.lean), "--server"]
    settings = LeanSettings(server_command=command, slots=1, allowed_axioms=sorted(ALLOWED | FILE_AXIOMS))
    checker = LeanChecker(project, settings)
    path = project / "Prelude" / "Skeleton.lean"
    path.write_text(DOCUMENT, encoding="utf-8")
    yield checker, path
    await checker.aclose()


@pytest.mark.real_lean
async def test_real_lean_skeletons_are_kept_and_their_sorries_filled(sorry_checker):
    from lean_copilot_py.core.splice import spliced_document
    from lean_copilot_py.core.targets import find_targets

    checker, path = sorry_checker
    (target,) = find_targets(path, DOCUMENT)
    keeper = SkeletonKeeper(ALLOWED | FILE_AXIOMS | STAND_IN_INIT)
    strict = SkeletonKeeper(ALLOWED | FILE_AXIOMS)  # the stand-in Init's axioms are not allowed: none passes the audit
    offered = [
        Candidate("And.intro N.z sorry", origin="fails"),
        Candidate("And.intro sorry sorry", origin="two"),
        Candidate("sorry", origin="nothing"),
        Candidate("And.intro Eq.refl sorry", origin="one"),
        Candidate("And.intro sorry Eq.refl", origin="one-later"),
    ]
    for cand in offered:
        verdict = await checker.check(target, cand)
        keeper.offer(cand, verdict)
        strict.offer(cand, verdict)
    assert strict.best is None
    best = keeper.best
    assert best is not None and best.candidate.origin == "one" and best.sorries == 1
    assert best.verdict.outcome is Outcome.INCOMPLETE and "sorryAx" in (best.verdict.axioms or ())
    assert best.goals == ("a : N\n⊢ Eq N.two N.two",)
    assert best.summary() == "1 sorry left: ⊢ Eq N.two N.two"
    # Written into the file, the skeleton's sorry is a target of its own, and filling it proves the theorem.
    written = spliced_document(target, best.candidate)
    (hole,) = find_targets(path, written)
    assert hole.kind.value == "sorry"
    filled = await checker.check(hole, Candidate("Eq.refl"))
    assert filled.outcome is Outcome.PROVED, filled.reason
    document = await checker.check_document(path, spliced_document(hole, Candidate("Eq.refl")))
    assert document.outcome is Outcome.PROVED, document.reason
