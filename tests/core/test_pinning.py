"""Pinning model code to a target (core/pinning.py): what of the model's output becomes the candidate, and what is
refused (statement drift, commands, helpers beyond their bounds). Splicing the result back: test_splice.py."""

from __future__ import annotations

from pathlib import Path

from lean_copilot_py.core.pinning import extract_code, pin
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate, Target, TargetKind

P = Path("T.lean")
SRC = """open Nat

namespace LeanProject

theorem add_zero' (n : Nat) : n + 0 = n := by
  sorry

theorem sumTo_like (n : Nat) : n * 1 = n := by
  induction n with
  | zero => rfl
  | succ k ih => sorry

theorem term_hole (n : Nat) : n = n ∧ True := ⟨rfl, sorry⟩

end LeanProject
"""


def targets() -> list[Target]:
    return find_targets(P, SRC)


def test_echoed_file_reduces_to_proof_and_helpers() -> None:
    out = """Here is the proof.
```lean4
import Mathlib
open Nat

namespace LeanProject

/-- a helper -/
lemma helper (a : Nat) : a + 0 = a := rfl

theorem add_zero' (n : Nat) : n + 0 = n := by
  simp [helper]

#print axioms add_zero'
end LeanProject
```"""
    r = pin(targets()[0], out)
    assert r.ok and r.candidate is not None
    assert r.candidate.proof == "by\n  simp [helper]"
    # `open Nat` echoes the user's file and is dropped; the helper becomes private.
    assert r.candidate.helpers == "/-- a helper -/\nprivate lemma helper (a : Nat) : a + 0 = a := rfl"
    assert "import" not in r.candidate.helpers and "#print" not in r.candidate.helpers


def test_renamed_lemma_with_same_statement_is_accepted_modulo_layout() -> None:
    out = "lemma my_name (n:Nat) :\n    n + 0 = n -- same\n  := by omega"
    r = pin(targets()[0], out)
    assert r.ok and r.candidate is not None and r.candidate.proof == "by omega"


def test_statement_drift_is_refused_showing_both() -> None:
    r = pin(targets()[0], "theorem add_zero' (n : Nat) : 0 + n = n := by simp")
    assert not r.ok
    assert "n + 0 = n" in r.refused and "0 + n = n" in r.refused


def test_ascii_spellings_are_not_drift() -> None:
    src = "theorem imp (p q : Prop) (hp : p) : q → p ∧ True := by\n  sorry\n"
    (t,) = find_targets(P, src)
    r = pin(t, "theorem imp (p q : Prop) (hp : p) : q -> p ∧ True := fun _ => ⟨hp, trivial⟩")
    assert r.ok


def test_bare_proofs() -> None:
    t = targets()[0]
    assert pin(t, "by\n  simp").candidate == Candidate(proof="by\n  simp")
    assert pin(t, "simp\nomega").candidate == Candidate(proof="by\n  simp\n  omega")
    assert pin(t, ":= Nat.add_zero n").candidate == Candidate(proof="Nat.add_zero n")


def test_tactic_position_sorry_gets_bare_tactics() -> None:
    t = targets()[1]
    assert t.kind is TargetKind.SORRY
    assert pin(t, "by\n  simp\n  omega").candidate == Candidate(proof="simp\nomega")
    wrapper = "theorem aux (k : Nat) (ih : k * 1 = k) : (k + 1) * 1 = k + 1 := by\n  omega"
    assert pin(t, wrapper).candidate == Candidate(proof="omega")


def test_term_position_sorry_gets_a_term() -> None:
    t = targets()[2]
    assert t.kind is TargetKind.SORRY
    assert pin(t, "trivial").candidate == Candidate(proof="trivial")
    assert pin(t, "simp\ndecide").candidate == Candidate(proof="by\n  simp\n  decide")


def test_refusals_and_garbage() -> None:
    t = targets()[0]
    assert not pin(t, "").ok
    assert not pin(t, "theorem add_zero' (n : Nat) : n + 0 = n\n  | _ => rfl").ok
    for junk in ["```", "/-", "theorem", "«", "\x00", None]:
        pin(t, junk)  # type: ignore[arg-type]


def test_extract_code_takes_the_last_block() -> None:
    assert extract_code("```lean\na\n```\ntext\n```lean4\nb\n```") == "b\n"
    assert extract_code("no fence") == "no fence"


def test_helpers_are_private_theorems_with_allowed_prefixes() -> None:
    out = """/-- doc -/
@[simp] theorem h1 : True := trivial

open Classical in
set_option maxHeartbeats 400000 in
lemma h2 : True := trivial

private theorem h3 : True := trivial

theorem add_zero' (n : Nat) : n + 0 = n := by simp"""
    r = pin(targets()[0], out)
    assert r.candidate is not None, r.refused
    assert r.candidate.helpers.split("\n\n") == [
        "/-- doc -/\n@[simp] private theorem h1 : True := trivial",
        "open Classical in\nset_option maxHeartbeats 400000 in\nprivate lemma h2 : True := trivial",
        "private theorem h3 : True := trivial",
    ]


NOT_HELPERS = {
    "def two : Nat := 2": "`def`",
    "instance evil : Inhabited Nat := ⟨5⟩": "`instance`",
    "abbrev N := Nat": "`abbrev`",
    "structure S where\n  x : Nat": "`structure`",
    "class C (α : Type) where\n  x : α": "`class`",
    "notation \"ℕ'\" => Nat": "`notation`",
    "open Real": "`open …`",
    "set_option autoImplicit true": "`set_option …`",
    "noncomputable def f : Nat := 1": "`noncomputable`",
    "protected theorem p : True := trivial": "`protected`",
    "local instance : Inhabited Nat := ⟨5⟩": "`local`",
}


def test_anything_but_a_theorem_before_the_statement_is_refused_with_a_reason() -> None:
    for helper, named in NOT_HELPERS.items():
        r = pin(targets()[0], f"{helper}\n\ntheorem add_zero' (n : Nat) : n + 0 = n := by simp")
        assert not r.ok, helper
        assert named in r.refused and ("theorem" in r.refused or "… in" in r.refused), (helper, r.refused)


def test_echoes_of_the_users_file_are_dropped_not_refused() -> None:
    src = "open Nat\n\ndef myTwo : Nat := 2\n\ntheorem t (n : Nat) : n + 0 = n := by\n  sorry\n"
    (t,) = find_targets(P, src)
    r = pin(t, "open Nat\n\ndef   myTwo : Nat := 2\n\ntheorem t (n : Nat) : n + 0 = n := by simp")
    assert r.candidate == Candidate(proof="by simp", helpers="")


def test_helpers_are_bounded_in_number_and_size() -> None:
    t = targets()[0]
    lemmas = "\n\n".join(f"theorem h{i} : True := trivial" for i in range(1000))
    r = pin(t, f"{lemmas}\n\ntheorem add_zero' (n : Nat) : n + 0 = n := by simp")
    assert not r.ok and "1000 helper lemmas" in r.refused and "at most 8" in r.refused
    eight = "\n\n".join(f"theorem h{i} : True := trivial" for i in range(8))
    assert pin(t, f"{eight}\n\ntheorem add_zero' (n : Nat) : n + 0 = n := by simp").ok
    assert not pin(t, f"{eight}\n\ntheorem add_zero' (n : Nat) : n + 0 = n := by simp", max_helpers=7).ok
    big = "theorem big : True := by\n" + "  trivial\n" * 3000
    r = pin(t, f"{big}\ntheorem add_zero' (n : Nat) : n + 0 = n := by simp")
    assert not r.ok and "characters long" in r.refused
    assert pin(t, f"{big}\ntheorem add_zero' (n : Nat) : n + 0 = n := by simp", max_helper_chars=10**6).ok
