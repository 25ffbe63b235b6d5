"""The checker's pure parts: audit parsing and judging, message reading, shadow layout, slot pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lean_copilot_py.core.types import Candidate, Pos, Severity, TargetKind
from lean_copilot_py.lean.audit import AuditResult, allowed_axioms, judge_axioms, parse_axioms_answer
from lean_copilot_py.lean.messages import goals_from_unsolved, is_unsolved_goals, relative_pos, to_message
from lean_copilot_py.lean.pool import ShadowPool
from lean_copilot_py.lean.shadow import header_key, import_header, shadow_for, sorry_positions
from lean_copilot_py.settings import LeanSettings

from .conftest import make_target


@pytest.mark.parametrize(
    ("text", "name", "axioms"),
    [
        (
            "'Foo.bar' depends on axioms: [propext, Classical.choice, Quot.sound]",
            "Foo.bar",
            ("propext", "Classical.choice", "Quot.sound"),
        ),
        ("`Foo.bar` depends on axioms: [sorryAx]", "Foo.bar", ("sorryAx",)),
        ("'x' does not depend on any axioms", "x", ()),
        ("`x` Does Not Depend On Any Axioms", "x", ()),
        ("'x' DEPENDS ON AXIOMS: [propext,\n  Quot.sound]", "x", ("propext", "Quot.sound")),
    ],
)
def test_parse_axioms_answer(text, name, axioms):
    answer = parse_axioms_answer(text)
    assert answer is not None
    assert answer.name == name and answer.axioms == axioms


def test_parse_axioms_answer_rejects_other_text():
    assert parse_axioms_answer("unknown constant 'x'") is None
    assert parse_axioms_answer("Try this: exact foo") is None


def test_judge_axioms():
    allowed = allowed_axioms(LeanSettings())
    assert judge_axioms(("propext", "Quot.sound"), allowed, tolerate_sorry=False).result is AuditResult.OK
    assert judge_axioms((), allowed, tolerate_sorry=False).result is AuditResult.OK
    assert judge_axioms(None, allowed, tolerate_sorry=False).result is AuditResult.MISSING
    assert judge_axioms(("sorryAx",), allowed, tolerate_sorry=False).result is AuditResult.SORRY
    assert judge_axioms(("sorryAx",), allowed, tolerate_sorry=True).result is AuditResult.OK
    bad = judge_axioms(("sorryAx", "evil"), allowed, tolerate_sorry=True)
    assert bad.result is AuditResult.DISALLOWED and "evil" in bad.reason
    assert judge_axioms(("Lean.ofReduceBool",), allowed, tolerate_sorry=False).result is AuditResult.DISALLOWED
    native = allowed_axioms(LeanSettings(allow_native_decide=True))
    assert judge_axioms(("Lean.ofReduceBool",), native, tolerate_sorry=False).result is AuditResult.OK


def test_goals_from_unsolved():
    text = "unsolved goals\ncase h\nx y : Nat\nh : x = y\n⊢ y = x\n\ncase t\n⊢ True"
    assert goals_from_unsolved(text) == ["case h\nx y : Nat\nh : x = y\n⊢ y = x", "case t\n⊢ True"]
    assert goals_from_unsolved("unsolved goals") == []


def test_unsolved_goals_prefers_tags_over_text():
    assert is_unsolved_goals({"message": "anything", "leanTags": [1]})
    assert not is_unsolved_goals({"message": "unsolved goals\n⊢ True", "leanTags": [2]})
    assert is_unsolved_goals({"message": "unsolved goals\n⊢ True"})


def test_to_message_relative_positions():
    diag = {
        "range": {"start": {"line": 7, "character": 4}, "end": {"line": 8, "character": 1}},
        "severity": 2,
        "message": "m",
    }
    msg = to_message(diag, Pos(5, 2))
    assert msg.severity is Severity.WARNING
    assert (msg.span.start, msg.span.end) == (Pos(2, 4), Pos(3, 1))
    assert relative_pos(Pos(5, 6), Pos(5, 2)) == Pos(0, 4)


def test_import_header_and_key():
    text = "-- a comment\nimport Mathlib\n\nimport   Std.Data\n\nopen Nat\n\ntheorem x : True := trivial\n"
    assert import_header(text) == "-- a comment\nimport Mathlib\n\nimport   Std.Data\n"
    assert header_key(text) == "import Mathlib\nimport Std.Data"
    assert header_key("theorem x : True := trivial") == ""


TEXT = "import Std\n\ndef d := 1\n\ntheorem t (n : Nat) : n = n := by\n  sorry\n\ntheorem after : True := trivial\n"


def test_shadow_layout():
    target = make_target(TEXT, "t")
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
    from lean_copilot_py.core.targets import find_targets

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
    target = make_target(TEXT, "t")
    sh = shadow_for(target, Candidate("by\n  rfl", helpers=helpers))
    lines = sh.text.split("\n")
    start = sum(len(ln) + 1 for ln in lines[: sh.origin.line]) + sh.origin.col
    assert sh.text[start : start + len(sh.snippet)] == sh.snippet


async def test_pool_prefers_slot_with_longest_shared_prefix():
    pool = ShadowPool("S", 2)
    a = await pool.acquire("x")
    b = await pool.acquire("y")
    a.text, b.text = "import A\ntheorem one", "import A\ntheorem two"
    pool.release(a)
    pool.release(b)
    again = await pool.acquire("import A\ntheorem two, edited")
    assert again is b


async def test_pool_waits_and_survives_cancelled_waiters():
    pool = ShadowPool("S", 1)
    slot = await pool.acquire("t")
    waiter = asyncio.create_task(pool.acquire("t"))
    cancelled = asyncio.create_task(pool.acquire("t"))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert not waiter.done()
    pool.release(slot)
    assert await asyncio.wait_for(waiter, 1) is slot
    assert pool.busy == 1
    pool.release(slot)
    assert pool.idle


async def test_a_slot_whose_imports_were_rebuilt_is_reopened_even_for_the_same_text(tmp_path) -> None:
    """leanclient sends no didChange for identical text, so Lean would answer from the old imports: after a
    $/lean/staleDependency the slot must be closed and opened again."""
    from types import SimpleNamespace

    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.lean.pool import Slot
    from lean_copilot_py.settings import LeanSettings

    calls: list[tuple[str, str]] = []

    class Client:
        async def close_file(self, path: str) -> None:
            calls.append(("close", path))

        async def open(self, path: str, text: str, wait: bool, dependency_build_mode: str):
            calls.append(("open", path))
            return SimpleNamespace(version=len(calls), pinned=False, stale_imports=False)

    checker = LeanChecker(tmp_path, LeanSettings())
    slot = Slot("S_0.lean")
    await checker.slots._load(Client(), slot, "text")
    await checker.slots._load(Client(), slot, "text")
    assert calls == [("open", "S_0.lean"), ("open", "S_0.lean")]  # same text, imports fine: just reused
    slot.doc.stale_imports = True  # what leanclient records on $/lean/staleDependency
    calls.clear()
    await checker.slots._load(Client(), slot, "text")
    assert calls == [("close", "S_0.lean"), ("open", "S_0.lean")]
    assert not slot.imports_changed
