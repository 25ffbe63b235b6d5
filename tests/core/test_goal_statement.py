"""A sorry's goal as a standalone theorem, and the round trip through the prompt and pinning."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lean_copilot_py.core.goal_statement import goal_statement
from lean_copilot_py.core.pinning import pin
from lean_copilot_py.core.search import problem_for
from lean_copilot_py.core.splice import spliced_document
from lean_copilot_py.core.targets import find_targets

GOAL = "case succ\nk : Nat\nih : 2 * sumTo k = k * (k + 1)\n⊢ 2 * sumTo (k + 1) = (k + 1) * (k + 1 + 1)"


@pytest.mark.parametrize(
    ("goal", "statement"),
    [
        (
            GOAL,
            "theorem t (k : Nat) (ih : 2 * sumTo k = k * (k + 1)) : 2 * sumTo (k + 1) = (k + 1) * (k + 1 + 1) := by",
        ),
        ("a b : Int\nh₁ : a ≤ b\n⊢ a < b + 1", "theorem t (a b : Int) (h₁ : a ≤ b) : a < b + 1 := by"),
        ("⊢ True", "theorem t : True := by"),
        # A long type is continued on indented lines; instance hypotheses become instance binders.
        (
            "α : Type\ninst✝ : DecidableEq α\nxs : List\n  α\nh✝ : xs ≠ []\n⊢ xs.length >\n    0",
            "theorem t (α : Type) [DecidableEq α] (xs : List α) (h_inaccessible : xs ≠ []) : xs.length > 0 := by",
        ),
    ],
)
def test_goal_statements(goal: str, statement: str) -> None:
    assert goal_statement("t", goal) == statement


@pytest.mark.parametrize("goal", ["", "n : Nat\n⊢ n = n\n\nm : Nat\n⊢ m = m", "x : Nat := 3\n⊢ x = 3", "no turnstile"])
def test_goals_that_do_not_read_back_give_none(goal: str) -> None:
    assert goal_statement("t", goal) is None


def test_a_sorry_prompt_states_its_goal_and_the_answer_fills_just_the_sorry() -> None:
    path = Path("Lists.lean")
    text = (
        "def sumTo : Nat → Nat\n  | 0 => 0\n  | n + 1 => (n + 1) + sumTo n\n\n"
        "theorem sumTo_formula (n : Nat) : 2 * sumTo n = n * (n + 1) := by\n"
        "  induction n with\n  | zero => rfl\n  | succ k ih => sorry\n"
    )
    (target,) = find_targets(path, text)
    target = replace(target, goal=GOAL)
    problem = problem_for(target)
    assert problem.statement.startswith("theorem sumTo_formula (k : Nat) (ih : 2 * sumTo k = k * (k + 1)) :")
    # Without a goal, the whole declaration is the problem.
    assert problem_for(replace(target, goal=None)).statement.startswith("theorem sumTo_formula (n : Nat)")

    answer = f"```lean4\n{problem.statement}\n  simp [sumTo]\n  rw [Nat.mul_add, ih]\n  ring_nf\n```"
    pinned = pin(target, answer)
    assert pinned.candidate is not None, pinned.refused
    assert spliced_document(target, pinned.candidate).endswith(
        "  | succ k ih => simp [sumTo]\n                 rw [Nat.mul_add, ih]\n                 ring_nf\n"
    )
