/-! Lists and induction. -/

namespace LeanProject

theorem length_append' (xs ys : List Nat) : (xs ++ ys).length = xs.length + ys.length := by
  sorry

theorem reverse_reverse' (xs : List Nat) : xs.reverse.reverse = xs := by
  sorry

def sumTo : Nat → Nat
  | 0 => 0
  | n + 1 => (n + 1) + sumTo n

theorem sumTo_formula (n : Nat) : 2 * sumTo n = n * (n + 1) := by
  induction n with
  | zero => rfl
  | succ k ih => sorry

end LeanProject
