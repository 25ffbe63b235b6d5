/-! miniF2F-style number theory, stated with `Nat`/`Int` only (no Mathlib). -/

namespace LeanProject

theorem mod_two_cases (n : Nat) : n % 2 = 0 ∨ n % 2 = 1 := by
  sorry

theorem even_square_mod_four (n : Nat) (h : n % 2 = 0) : n * n % 4 = 0 := by
  sorry

theorem linear_solution (x : Int) (h : 3 * x + 5 = 20) : x = 5 := by
  sorry

theorem div_seven : (2 ^ 10 + 5) % 7 = 0 := by
  sorry

/-- Remainders add: 3 + 4 ≡ 2 (mod 5). -/
theorem mod_sum (a b : Nat) (ha : a % 5 = 3) (hb : b % 5 = 4) : (a + b) % 5 = 2 := by
  sorry

/-- A linear system over the integers. -/
theorem int_system (x y : Int) (h₁ : x + y = 10) (h₂ : x - y = 2) : x = 6 ∧ y = 4 := by
  sorry

end LeanProject
