/-! Arithmetic warm-ups: each `sorry` is a target for `lean-copilot prove`. -/

namespace LeanProject

theorem add_zero' (n : Nat) : n + 0 = n := by
  sorry

theorem two_mul' (n : Nat) : 2 * n = n + n := by
  sorry

theorem lt_succ' (n : Nat) : n < n + 1 := by
  sorry

theorem int_sub_self (a : Int) : a - a = 0 := by
  sorry

theorem mul_comm_ex (a b : Nat) : a * b = b * a := by
  sorry

theorem sum_bound (a b : Nat) (h₁ : a ≤ 3) (h₂ : b ≤ 4) : a + b ≤ 7 := by
  sorry

/-- A `sorry` in term position: the witness is given, its property is the target. -/
theorem exists_gt (n : Nat) : ∃ m, n < m := ⟨n + 1, sorry⟩

end LeanProject
