"""The checked document (lean/shadow.py): its layout (the imports, the pinned statement before any model code, the
statement check and the audit), the sorries that are the candidate's own, and that what Lean checks of a candidate
is, byte for byte, what is written into the user's file (core/splice.py), in the file's own line endings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lean_copilot_py.core.splice import spliced_document
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate, Pos, TargetKind
from lean_copilot_py.lean.shadow import header_key, import_header, shadow_for, sorry_positions
from tests.helpers import make_target

TEXT = "import Mathlib\n\ntheorem t (n : Nat) : n + 0 = n := by\n  sorry\n\ntheorem after : True := trivial\n"
HELPERS = "private theorem h (n : Nat) : n + 0 = n := by\n  simp\n\nprivate theorem g : True := trivial"


@pytest.mark.parametrize("nl", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_the_checked_snippet_is_the_written_text(nl: str) -> None:
    text = TEXT.replace("\n", nl)
    (target,) = find_targets(Path("/p/T.lean"), text)
    candidate = Candidate("by\n  rw [h]\n  rfl", helpers=HELPERS)  # the model writes LF
    written = spliced_document(target, candidate)
    shadow = shadow_for(target, candidate)
    start = text.index("theorem t")
    assert written[start : start + len(shadow.snippet)] == shadow.snippet  # helpers and declaration, byte for byte
    assert shadow.snippet.count(nl) == HELPERS.count("\n") + 2 + 2  # helpers, the blank line, the proof's lines
    if nl == "\r\n":
        assert "\n" not in shadow.snippet.replace("\r\n", "")  # no bare LF line in a CRLF file
    (helpers_range, _proof_range) = shadow.candidate_ranges
    assert shadow.text[slice(*helpers_range)] == HELPERS.replace("\n", nl)


@pytest.mark.real_lean
@pytest.mark.timeout(120)
async def test_real_lean_proves_in_a_crlf_file_what_is_then_written(real_lean, prelude_project: Path) -> None:
    from lean_copilot_py.core.types import Outcome
    from lean_copilot_py.lean.checker import LeanChecker
    from lean_copilot_py.settings import LeanSettings
    from tests.real_lean import prelude_file

    path = prelude_project / "Prelude" / "Crlf.lean"
    text = prelude_file("theorem add_z (a : N) : Eq (N.add a N.z) a :=\n  sorry").replace("\n", "\r\n")
    target = next(t for t in find_targets(path, text) if t.decl_name == "add_z")
    candidate = Candidate("h a", helpers="private theorem h (a : N) : Eq (N.add a N.z) a :=\n  Eq.refl")
    checker = LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), slots=1))
    try:
        verdict = await checker.check(target, candidate)
    finally:
        await checker.aclose()
    assert verdict.outcome is Outcome.PROVED, verdict.reason
    path.write_bytes(spliced_document(target, candidate).encode())
    done = real_lean.run(path)  # the written file, as Lean reads it from disk
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_import_header_and_key():
    text = "-- a comment\nimport Mathlib\n\nimport   Std.Data\n\nopen Nat\n\ntheorem x : True := trivial\n"
    assert import_header(text) == "-- a comment\nimport Mathlib\n\nimport   Std.Data\n"
    assert header_key(text) == "import Mathlib\nimport Std.Data"
    assert header_key("theorem x : True := trivial") == ""


LAYOUT = "import Std\n\ndef d := 1\n\ntheorem t (n : Nat) : n = n := by\n  sorry\n\ntheorem after : True := trivial\n"


def test_shadow_layout():
    target = make_target(LAYOUT, "t")
    sh = shadow_for(target, Candidate("by\n  rfl", helpers="lemma h : True := trivial"))
    assert sh.text.startswith(target.prefix)
    assert sh.snippet == "lemma h : True := trivial\n\ntheorem t (n : Nat) : n = n := by\n  rfl"
    lines = sh.text.split("\n")
    # The user's statement is pinned before any model code; the check ties the declaration to it.
    assert lines[4] == "axiom _lean_copilot_pinned_statement (n : Nat) : n = n" and sh.pinned_lines == (4, 6)
    check = "lean_copilot_statement_check : type_of% @_lean_copilot_pinned_statement"
    assert lines[sh.check_line] == f"theorem {check} := @t"
    assert lines[sh.audit_line] == "#print axioms lean_copilot_statement_check"
    assert sh.origin == Pos(6, 0)
    assert sh.decl_start == Pos(8, 0)
    assert "after" not in sh.text  # the shadow ends right after the target
    assert sh.in_snippet(Pos(6, 0)) and not sh.in_snippet(Pos(5, 0)) and not sh.in_snippet(Pos(sh.check_line, 0))
    assert sh.in_pinned(Pos(4, 3)) and sh.in_check(Pos(sh.check_line, 0)) and not sh.in_check(Pos(sh.audit_line, 0))


def test_shadow_pins_the_signature_without_modifiers_and_keeps_universes():
    text = "universe v\n\n/-- d -/\n@[simp] private theorem u.{w} {α : Sort w} (a : α) : a = a := by\n  sorry\n"
    (target,) = find_targets(Path("U.lean"), text)
    sh = shadow_for(target, Candidate("rfl"))
    assert "axiom _lean_copilot_pinned_statement.{w} {α : Sort w} (a : α) : a = a\n" in sh.text
    data = "def two (n : Nat) : Nat := sorry\n"
    sh = shadow_for(make_target(data, "two"), Candidate("2"))
    check = "lean_copilot_statement_check : type_of% @_lean_copilot_pinned_statement"
    assert f"noncomputable def {check} := @two" in sh.text


def test_a_declaration_without_a_stated_type_is_audited_directly():
    sh = shadow_for(make_target("def d := sorry\n", "d"), Candidate("1"))
    assert sh.pinned_lines is None and sh.check_line == -1 and sh.audited == "d"
    assert sh.text.rstrip().endswith("#print axioms d") and "axiom" not in sh.text.split("#print")[0]


def test_sorry_positions_only_in_candidate_text():
    text = "import Std\n\ntheorem p (n : Nat) : n = n ∧ True := by\n  constructor\n  · sorry\n  · sorry\n"
    target = make_target(text, "p", kind=TargetKind.SORRY)
    sh = shadow_for(target, Candidate("sorry"))
    positions = sorry_positions(sh)
    assert len(positions) == 1  # the user's other sorry is not the candidate's
    line = sh.text.split("\n")[positions[0].line]
    assert line[positions[0].col :].startswith("sorry")
    assert sorry_positions(shadow_for(target, Candidate("exact sorry_lemma"))) == []


@given(st.text(alphabet="ab \n", max_size=30))
def test_shadow_snippet_is_a_substring_at_origin(helpers):
    target = make_target(LAYOUT, "t")
    sh = shadow_for(target, Candidate("by\n  rfl", helpers=helpers))
    lines = sh.text.split("\n")
    start = sum(len(ln) + 1 for ln in lines[: sh.origin.line]) + sh.origin.col
    assert sh.text[start : start + len(sh.snippet)] == sh.snippet
