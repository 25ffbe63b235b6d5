"""LeanChecker verdicts against the scripted fake Lean server: every outcome, the axiom audit, and
problems that belong to the user's file rather than to the candidate."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.core.types import Candidate, Outcome, Pos, Severity, TargetKind
from lean_copilot_py.testing.lean_script import Diag, Rule, Script, error, proved, read_log, unsolved
from tests.helpers import make_target

TEXT = """import Std

def double (n : Nat) : Nat := 2 * n

theorem add_zero' (n : Nat) : n + 0 = n := by
  sorry
"""


async def test_proved_clean_proof(make_checker):
    checker = await make_checker(Script(rules=[proved(r"\bsimp\b")]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  simp"))
    assert v.outcome is Outcome.PROVED and v.proved
    assert v.axioms == ()
    assert v.snippet == "theorem add_zero' (n : Nat) : n + 0 = n := by\n  simp"
    assert v.messages == ()


async def test_failed_error_is_positioned_relative_to_snippet(make_checker):
    checker = await make_checker(
        Script(rules=[error(r"omega", "omega could not prove the goal:\na possible counterexample")])
    )
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  omega"))
    assert v.outcome is Outcome.FAILED
    (msg,) = v.messages
    assert msg.severity is Severity.ERROR and msg.text.startswith("omega could not")
    assert msg.span.start == Pos(1, 2)  # line 0 = the declaration's first line
    assert v.snippet.split("\n")[1][2:7] == "omega"
    assert "omega could not prove the goal" in v.reason


async def test_incomplete_unsolved_goals_carry_the_goals(make_checker):
    goals = ["case h\nn : Nat\n⊢ n = n + 0", "case t\n⊢ True"]
    checker = await make_checker(Script(rules=[unsolved(r"constructor", goals=goals)]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  constructor"))
    assert v.outcome is Outcome.INCOMPLETE
    assert v.goals == tuple(goals)
    assert v.messages[0].unsolved_goals


async def test_default_goal_is_derived_from_the_statement(make_checker):
    checker = await make_checker(Script())  # default rule: unsolved goals with the declaration's goal
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  skip"))
    assert v.outcome is Outcome.INCOMPLETE
    assert v.goals == ("n : Nat\n⊢ n + 0 = n",)


async def test_sorry_is_incomplete_and_reports_the_goal_there(make_checker):
    checker = await make_checker(Script(goals={"add_zero'": "n : Nat\n⊢ n + 0 = n"}))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  intro\n  sorry"))
    assert v.outcome is Outcome.INCOMPLETE
    assert "sorry" in v.reason
    (s,) = v.sorries
    assert s.goal == "n : Nat\n⊢ n + 0 = n"
    assert v.snippet.split("\n")[s.span.start.line][s.span.start.col :].startswith("sorry")


async def test_errors_and_sorries_before_the_declaration_are_not_the_candidates(make_checker):
    text = """import Std

theorem broken : 1 = 2 := by
  omega

theorem unfinished : True := by
  sorry

theorem target_thm (a b : Nat) : a + b = b + a := by
  sorry
"""
    script = Script(rules=[error(r"omega", "omega could not prove the goal"), proved(r"Nat.add_comm")])
    checker = await make_checker(script)
    v = await checker.check(make_target(text, "target_thm"), Candidate("by\n  exact Nat.add_comm a b"))
    assert v.outcome is Outcome.PROVED, v.reason
    assert v.messages == ()  # the prefix's error and sorry warning are not reported either


async def test_helpers_are_part_of_the_snippet(make_checker):
    checker = await make_checker(Script(rules=[error(r"bad_helper_body", "type mismatch"), proved(r"my_helper|simp")]))
    target = make_target(TEXT, "add_zero'")
    ok = await checker.check(
        target, Candidate("by\n  exact my_helper n", helpers="theorem my_helper (n : Nat) : n + 0 = n := by\n  simp")
    )
    assert ok.outcome is Outcome.PROVED, ok.reason
    assert ok.snippet.startswith("theorem my_helper")
    bad = await checker.check(
        target,
        Candidate(
            "by\n  exact my_helper n", helpers="theorem my_helper (n : Nat) : n + 0 = n := by\n  bad_helper_body"
        ),
    )
    assert bad.outcome is Outcome.FAILED
    assert bad.messages[0].span.start.line == 1  # inside the helper, relative to the snippet


async def test_sorry_target_tolerates_the_users_other_sorries(make_checker):
    text = """import Std

theorem two_parts (n : Nat) : n = n ∧ True := by
  constructor
  · sorry
  · sorry
"""
    checker = await make_checker(Script(rules=[proved(r"rfl")]))
    target = make_target(text, "two_parts", kind=TargetKind.SORRY)
    assert target.other_sorries == 1
    v = await checker.check(target, Candidate("rfl"))
    assert v.outcome is Outcome.PROVED, v.reason
    # Without other sorries, the same sorryAx means the candidate is incomplete.
    lone = make_target(
        text.replace("  · sorry\n  · sorry", "  · sorry\n  · trivial"), "two_parts", kind=TargetKind.SORRY
    )
    assert lone.other_sorries == 0
    v = await checker.check(lone, Candidate("rfl"))
    assert v.outcome is Outcome.PROVED  # fake: no sorry left, so no sorryAx


async def test_sorry_in_helper_is_not_tolerated_for_sorry_target(make_checker):
    text = "import Std\n\ntheorem p (n : Nat) : n = n ∧ True := by\n  constructor\n  · sorry\n  · sorry\n"
    checker = await make_checker(Script(rules=[proved(r"^\s*rfl\s*$")]))
    target = make_target(text, "p", kind=TargetKind.SORRY)
    v = await checker.check(target, Candidate("rfl", helpers="theorem cheat : False := by\n  sorry"))
    assert v.outcome is Outcome.INCOMPLETE


# --- axiom audit ---------------------------------------------------------------------------------


async def test_disallowed_axiom_fails(make_checker):
    checker = await make_checker(Script(rules=[proved(r"smuggle", axioms=["propext", "myAxiom"])]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  smuggle"))
    assert v.outcome is Outcome.FAILED
    assert "myAxiom" in v.reason
    assert v.axioms == ("myAxiom", "propext")  # as Lean lists them (Name order)


async def test_standard_axioms_are_allowed_and_native_decide_only_when_enabled(make_checker):
    rules = [
        proved(r"classical", axioms=["propext", "Classical.choice", "Quot.sound"]),
        proved(r"native_decide", axioms=["propext", "Lean.ofReduceBool"]),
    ]
    checker = await make_checker(Script(rules=rules))
    target = make_target(TEXT, "add_zero'")
    assert (await checker.check(target, Candidate("by\n  classical\n  simp"))).outcome is Outcome.PROVED
    assert (await checker.check(target, Candidate("by\n  native_decide"))).outcome is Outcome.FAILED
    permissive = await make_checker(allow_native_decide=True)
    assert (await permissive.check(target, Candidate("by\n  native_decide"))).outcome is Outcome.PROVED


async def test_sorry_ax_without_sorry_warning_is_incomplete(make_checker):
    # e.g. an auto-bound sorry: no warning reached us, but the audit shows sorryAx.
    checker = await make_checker(Script(rules=[proved(r"sneaky", axioms=["sorryAx"])]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  sneaky"))
    assert v.outcome is Outcome.INCOMPLETE
    assert "sorryAx" in v.reason


async def test_trace_imitating_the_audit_does_not_count(make_checker):
    fake_audit = Diag("'add_zero'' does not depend on any axioms", severity="info", at="match")
    rule = Rule(pattern=r"trace", diagnostics=[fake_audit], axioms=["sorryAx"], no_audit=True)
    checker = await make_checker(Script(rules=[rule]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate('by\n  trace "x"\n  exact sorry_free'))
    assert v.outcome is not Outcome.PROVED
    assert v.axioms is None  # the imitation was not taken as the audit answer
    assert "no `#print axioms` answer" in v.reason


async def test_trace_imitation_beside_a_real_audit_uses_the_real_one(make_checker):
    fake_audit = Diag("'add_zero'' does not depend on any axioms", severity="info")
    rule = Rule(pattern=r"trace", diagnostics=[fake_audit], axioms=["badAxiom"])
    checker = await make_checker(Script(rules=[rule]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate('by\n  trace "x"'))
    assert v.outcome is Outcome.FAILED and v.axioms == ("badAxiom",)


async def test_missing_audit_answer_is_not_proved(make_checker):
    checker = await make_checker(Script(rules=[proved(r"simp", no_audit=True)]))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  simp"))
    assert v.outcome is Outcome.FAILED
    assert v.axioms is None


@pytest.mark.parametrize("quote", ["'", "`"])
async def test_audit_quoting_styles(make_checker, quote):
    text = "import Std\n\nnamespace Foo\n\ntheorem bar : True := by\n  sorry\n\nend Foo\n"
    checker = await make_checker(Script(rules=[proved(r"trivial", axioms=["propext"])], audit_quote=quote))
    v = await checker.check(make_target(text, "bar", full_name="Foo.bar"), Candidate("by\n  trivial"))
    assert v.outcome is Outcome.PROVED, v.reason
    assert v.axioms == ("propext",)


async def test_wrong_full_name_fails_the_audit(make_checker):
    text = "import Std\n\nnamespace Foo\n\ntheorem bar : True := by\n  sorry\n\nend Foo\n"
    checker = await make_checker(Script(rules=[proved(r"trivial")]))
    v = await checker.check(make_target(text, "bar", full_name="Nope.bar"), Candidate("by\n  trivial"))
    assert v.outcome is Outcome.FAILED
    assert "could not find the proved declaration" in v.reason and "Nope.bar" in v.reason


async def test_search_tactic_left_in_the_proof_is_not_finished(make_checker):
    checker = await make_checker(Script(try_this={"exact?": "exact Nat.add_zero n", "apply?": None}))
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  exact?"))
    assert v.outcome is Outcome.INCOMPLETE
    assert any(m.text == "Try this: exact Nat.add_zero n" for m in v.messages)
    v = await checker.check(make_target(TEXT, "add_zero'"), Candidate("by\n  apply?"))
    assert v.outcome is Outcome.FAILED


# --- diagnostics delivery ------------------------------------------------------------------------


@pytest.mark.parametrize("incremental", [True, False])
async def test_incremental_and_replacing_diagnostics_give_the_same_verdict(make_checker, log_path, incremental):
    text = "import Std\n\ntheorem a1 : True := by\n  omega\n\ntheorem a2 (n : Nat) : n = n := by\n  sorry\n"
    rule_one = Rule(pattern=r"first", diagnostics=[Diag("first error")])
    rule_two = Rule(pattern=r"second", diagnostics=[Diag("second error"), Diag("a note", severity="info")])
    script = Script(rules=[error(r"omega", "prefix error"), rule_one, rule_two], incremental=incremental)
    checker = await make_checker(script)
    cand = Candidate("by\n  first", helpers="theorem h : True := by\n  second")
    v = await checker.check(make_target(text, "a2"), cand)
    assert v.outcome is Outcome.FAILED
    assert [m.text for m in v.messages] == ["second error", "a note", "first error"]
    # the fake did receive the capability; the notifications' shape depends on `incremental`
    init = next(e for e in read_log(log_path) if e.get("method") == "initialize")
    assert init["params"]["capabilities"]["lean"]["incrementalDiagnosticSupport"] is True


async def test_missing_audit_names_the_files_own_errors(make_checker):
    text = "import Std\n\ntheorem early : True := by\n  omega\n\ntheorem late : True := by\n  sorry\n"
    checker = await make_checker(Script(rules=[error(r"omega", "boom in prefix"), proved(r"trivial", no_audit=True)]))
    v = await checker.check(make_target(text, "late"), Candidate("by\n  trivial"))
    assert v.outcome is Outcome.FAILED
    assert "boom in prefix" in v.reason and v.messages == ()


async def test_an_example_is_audited_under_a_name_of_ours(tmp_path: Path) -> None:
    from lean_copilot_py.core.targets import find_targets
    from lean_copilot_py.lean.shadow import AUDIT_NAME, CHECK_NAME, shadow_for

    text = "namespace N\n\n/-- doc -/\nexample (n : Nat) : n + 0 = n := by\n  sorry\n\nend N\n"
    (target,) = find_targets(tmp_path / "E.lean", text)
    assert target.full_name == ""
    shadow = shadow_for(target, Candidate("by\n  simp"))
    assert f"theorem {AUDIT_NAME} (n : Nat) : n + 0 = n := by\n  simp" in shadow.text
    assert f":= @{AUDIT_NAME}\n\n#print axioms {CHECK_NAME}\n" in shadow.text
    # The candidate's range still covers exactly the proof it wrote.
    (start, end), = shadow.candidate_ranges
    assert shadow.text[start:end] == " by\n  simp"
