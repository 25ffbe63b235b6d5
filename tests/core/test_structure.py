"""What commands a candidate may bring into the user's file: its proof is one term or tactic block, its
helpers are private theorems (core/structure.py)."""

from __future__ import annotations

import pytest

from lean_copilot_py.core.structure import structure_findings

PROOFS_WITH_COMMANDS = [
    "Eq.refl\n\ninstance evil : Inhabited Nat := ⟨5⟩",
    "by\n  rfl\n  instance evil : Inhabited Nat := ⟨5⟩",  # indented: still a command for Lean
    "Eq.refl\nopen Real",
    "by simp\nset_option autoImplicit true",
    "trivial\ndef two := 2",
    "trivial\nprivate theorem h : True := trivial",
    "trivial\nlemma h : True := trivial",
    "trivial\nalias foo := bar",
    "trivial\nderiving instance Repr for Foo",
    "trivial\nuniverse w",
]


@pytest.mark.parametrize("proof", PROOFS_WITH_COMMANDS)
def test_a_command_in_the_proof_is_refused(proof: str) -> None:
    found = structure_findings("", proof, proof_offset=0)
    assert found and all(f.rule == "command" for f in found)
    assert "one term or tactic block" in found[0].message or "… in" in found[0].message


PROOFS = [
    "by\n  open Classical in\n  exact em _",
    "by\n  set_option maxRecDepth 2000 in\n  simp",
    "open Nat in rfl",
    "by\n  set_option pp.all true in rfl",
    "by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp [ih]",
    "by\n  exact x\nwhere\n  aux : True := trivial",
]


@pytest.mark.parametrize("proof", PROOFS)
def test_terms_and_tactics_pass(proof: str) -> None:
    assert structure_findings("", proof, proof_offset=0) == []


def test_helpers_must_be_private_theorems() -> None:
    good = "/-- d -/\n@[simp] private theorem a : True := trivial\n\nopen X in\nprivate lemma b : True := trivial"
    assert structure_findings(good, "rfl", proof_offset=len(good) + 2) == []
    for bad in ["theorem a : True := trivial", "private def a := 1", "instance : Inhabited Nat := ⟨1⟩",
                "private theorem a : True := trivial\ninstance : Inhabited Nat := ⟨1⟩", "open Real"]:
        assert structure_findings(bad, "rfl", proof_offset=len(bad) + 2), bad


def test_offsets_are_in_the_screened_text() -> None:
    helpers = "private theorem a : True := trivial"
    proof = "rfl\ninstance i : Inhabited Nat := ⟨1⟩"
    text = f"{helpers}\n\n{proof}"
    (f,) = structure_findings(helpers, proof, proof_offset=len(helpers) + 2)
    assert text[f.offset :].startswith("instance")
