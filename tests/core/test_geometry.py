"""Target geometry (core/geometry.py): where a proof starts, and a target found in one version of a document
relocated into the next."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lean_copilot_py.core.geometry import proof_start, relocate
from lean_copilot_py.core.targets import declaration_to_prove, find_targets
from lean_copilot_py.core.types import Pos, TargetKind
from tests.helpers import make_target

TEXT = "theorem foo (n : Nat) : n + 0 = n := by\n  intro\n  exact rfl\n\ntheorem bar : True := by\n  sorry\n"


def test_relocate_after_an_edit_above() -> None:
    path = Path("/p/Demo.lean")
    target = declaration_to_prove(path, TEXT, Pos(4, 3))
    assert target is not None and target.decl_name == "bar"
    new_text = "-- 😀 added\n" + TEXT
    moved = relocate(target, new_text, version=7)
    assert moved is not None and moved.text == new_text and moved.version == 7
    assert moved.proof_span == dataclasses.replace(target.proof_span).shifted(1)
    assert relocate(target, TEXT.replace("sorry", "trivial")) is None  # the declaration itself changed


def test_relocate_a_target_core_targets_does_not_list() -> None:
    # `foo` has an empty proof and no sorry: find_targets does not list it, relocation still works.
    text = "theorem foo (n : Nat) : n + 0 = n := by\n"
    path = Path("/p/Demo.lean")
    target = declaration_to_prove(path, text, Pos(0, 3))
    assert target is not None and not find_targets(path, text)
    moved = relocate(target, "\n\n" + text)
    assert moved is not None and moved.proof_span == target.proof_span.shifted(2)


def test_proof_start_after_by():
    t = make_target()
    assert proof_start(t) == Pos(3, 2)  # the first tactic after `by`
    assert proof_start(make_target(kind=TargetKind.SORRY)) == Pos(3, 2)
