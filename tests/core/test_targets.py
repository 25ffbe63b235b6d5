"""Targets from text: declarations, sorries, cursor positions, names, unicode and line endings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.lexer import significant, tokenize
from lean_copilot_py.core.targets import (
    cursor_target,
    enclosing_declaration,
    find_targets,
    in_tactic_position,
    target_at,
)
from lean_copilot_py.core.types import Pos, Target, TargetKind, pos_to_offset

P = Path("T.lean")
PROJECT = Path(__file__).resolve().parents[2] / "lean-project" / "LeanProject"

SRC = """import Mathlib
/-! module doc with a sorry word -/
namespace Outer
section S
variable (x : Nat)

/-- doc -/
@[simp] private theorem a_zero (n : ℕ) : n + 0 = n := by
  sorry

lemma term_sorry (n : Nat) : n = n := sorry

theorem nested (n : Nat) : n + 0 = n ∧ True := by
  have h : n + 0 = n := by sorry
  exact ⟨h, sorry⟩

def withLet (n : Nat) : let m := n; m = n := by
  sorry
end S
namespace Inner.Deep
example : 1 = 1 := by sorry
theorem _root_.top (n : Nat) : n = n := by
  sorry
end Inner.Deep
theorem done (n : Nat) : n = n := rfl
theorem missing (n : Nat) : n = n := by
end Outer
"""


def span_text(t) -> str:
    return t.text[pos_to_offset(t.text, t.proof_span.start) : pos_to_offset(t.text, t.proof_span.end)]


def test_find_targets_kinds_names_and_spans() -> None:
    ts = find_targets(P, SRC)
    got = [(t.kind, t.full_name, span_text(t), t.other_sorries) for t in ts]
    assert got == [
        (TargetKind.DECLARATION, "Outer.a_zero", " by\n  sorry", 0),
        (TargetKind.DECLARATION, "Outer.term_sorry", " sorry", 0),
        (TargetKind.SORRY, "Outer.nested", "sorry", 1),
        (TargetKind.SORRY, "Outer.nested", "sorry", 1),
        (TargetKind.DECLARATION, "Outer.withLet", " by\n  sorry", 0),
        (TargetKind.DECLARATION, "", " by sorry", 0),
        (TargetKind.DECLARATION, "top", " by\n  sorry", 0),
    ]


def test_header_statement_indent_and_decl_span() -> None:
    t = find_targets(P, SRC)[0]
    assert t.header.startswith("/-- doc -/\n@[simp] private theorem a_zero")
    assert t.header.endswith(": n + 0 = n :=")
    assert t.statement.endswith("(n : ℕ) : n + 0 = n")
    assert t.decl_name == "a_zero" and t.indent == 0
    assert t.decl_span.start == Pos(6, 0) and t.decl_span.end == Pos(8, 7)
    let = find_targets(P, SRC)[4]
    assert let.header.endswith("let m := n; m = n :=")  # the `:=` inside `let` is not the proof's


def test_target_at_prefers_the_sorry_under_the_cursor() -> None:
    line = SRC.splitlines().index("  exact ⟨h, sorry⟩")
    col = SRC.splitlines()[line].index("sorry")
    for c in (col, col + 2, col + 5):
        t = target_at(P, SRC, Pos(line, c))
        assert t is not None and t.kind is TargetKind.SORRY and t.proof_span.start == Pos(line, col)


def test_target_at_declaration_cases() -> None:
    lines = SRC.splitlines()
    t = target_at(P, SRC, Pos(lines.index("theorem nested (n : Nat) : n + 0 = n ∧ True := by"), 3))
    assert t is not None and t.kind is TargetKind.DECLARATION and t.full_name == "Outer.nested"
    assert target_at(P, SRC, Pos(lines.index("theorem done (n : Nat) : n = n := rfl"), 3)) is None
    missing = target_at(P, SRC, Pos(lines.index("theorem missing (n : Nat) : n = n := by"), 3))
    assert missing is not None and span_text(missing) == " by"
    assert target_at(P, SRC, Pos(0, 3)) is None  # the import line
    done = enclosing_declaration(P, SRC, Pos(lines.index("theorem done (n : Nat) : n = n := rfl"), 3))
    assert done is not None and span_text(done) == " rfl"


def test_cursor_target_inside_by_blocks_only() -> None:
    lines = SRC.splitlines()
    line = lines.index("@[simp] private theorem a_zero (n : ℕ) : n + 0 = n := by") + 1  # `  sorry`
    t = cursor_target(P, SRC.replace("  sorry", "  ", 1), Pos(line, 2))
    assert t is not None and t.kind is TargetKind.CURSOR and t.proof_span.start == t.proof_span.end == Pos(line, 2)
    assert cursor_target(P, SRC, Pos(lines.index("lemma term_sorry (n : Nat) : n = n := sorry"), 5)) is None
    assert cursor_target(P, SRC, Pos(1, 5)) is None


TACTICS = "\n".join([
    "theorem t (n : Nat) : n = n := by",
    "  skip",
    "  omega",
    "  skip; ",
    "  · ",
    "  skip <;> -- then what",
    "  first | skip | rfl",
    "example : True := by trivial",
    "",
])


@pytest.mark.parametrize(
    ("line", "col", "fresh"),
    [
        (0, 33, False),  # right after `by`, no space: `byrfl`
        (1, 2, False),  # before `skip`: a tactic there would be glued to it
        (1, 6, False),  # right after `skip`, at the end of its line: the next tactic goes on a new line
        (2, 7, False),  # right after `omega` (where the cursor is once an editor accepted `omega`)
        (3, 7, True),  # after `;` and a space
        (4, 4, True),  # after a bullet
        (5, 11, True),  # after `<;>`, a comment after the cursor
        (6, 8, False),  # inside `first | skip | rfl`
        (7, 0, False),  # before `example`
    ],
)
def test_cursor_target_only_where_a_whole_tactic_can_go(line: int, col: int, fresh: bool) -> None:
    assert (cursor_target(P, TACTICS, Pos(line, col)) is not None) is fresh


def test_tactic_or_term_position() -> None:
    ts = find_targets(P, SRC)
    assert in_tactic_position(ts[2])  # `:= by sorry` inside `have`
    assert not in_tactic_position(ts[3])  # `⟨h, sorry⟩`


def test_crlf_tabs_and_astral_characters() -> None:
    src = 'namespace N\r\n-- 😀 emoji\r\ntheorem t₁ (a : ℕ) :\t"😀".length = 1 := by sorry\r\nend N\r\n'
    (t,) = find_targets(P, src)
    assert t.kind is TargetKind.DECLARATION and t.full_name == "N.t₁"
    assert span_text(t) == " by sorry"
    assert t.proof_span.start == Pos(2, 38) and t.proof_span.end == Pos(2, 47)  # code points, not UTF-16


@pytest.mark.parametrize("name", ["Basic.lean", "Lists.lean", "NumberTheory.lean"])
def test_sample_project_files(name: str) -> None:
    text = (PROJECT / name).read_text(encoding="utf-8")
    ts = find_targets(PROJECT / name, text)
    assert ts and all(t.full_name.startswith("LeanProject.") for t in ts)
    # Every `sorry` token outside comments is a target (doc comments here mention `sorry` in backticks).
    code = re.sub(r"/-.*?-/", "", text, flags=re.S)
    assert len(ts) == len(re.findall(r"(?<![\w`])sorry(?![\w`])", code))
    if name == "Lists.lean":
        assert [t.kind for t in ts][-1] is TargetKind.SORRY and ts[-1].decl_name == "sumTo_formula"
        assert in_tactic_position(ts[-1])


def test_a_2000_line_file_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # How fast is a benchmark's question (`lean-copilot bench --only responsiveness`: code actions on a 2 MB
    # document); here: every target of a 2000-line file is found, and asking again reuses the outline.
    from lean_copilot_py.core import outline as outline_mod

    text = "\n".join([(PROJECT / "Lists.lean").read_text(encoding="utf-8")] * 100) + "\n"
    builds = 0
    real_build = outline_mod._build

    def counting(t: str) -> outline_mod.Outline:
        nonlocal builds
        builds += 1
        return real_build(t)

    outline_mod._outline_cached.cache_clear()
    outline_mod._outline_large.cache_clear()
    monkeypatch.setattr(outline_mod, "_build", counting)
    ts = find_targets(P, text)
    assert len(ts) == 300
    at = target_at(P, text, ts[150].proof_span.start)
    assert at is not None and at.proof_span == ts[150].proof_span
    assert builds == 1


GARBAGE = ["theorem", "theorem :=", ":= by sorry", "@[", "namespace", "end end end", "theorem x : («", ""]
NOISE = st.sampled_from(
    ["\n", "\r\n", "\t", " ", "namespace A\n", "end A\n", "section\n", "/-", "-/", "-- c\n", '"', "«", "»", "⟨", "⟩",
     "(", ")", "{", "}", "😀", "𝔽", "ℕ", "|", " => ", ":=", "sorry", "theorem"]
)  # fmt: skip
BODY = st.sampled_from(
    [" sorry", " by sorry", "\n  sorry", "\n  have h : True := by sorry", " ⟨rfl, sorry⟩", "\n  exact sorry", " rfl",
     "\n  simp", "\n  · sorry"]
)  # fmt: skip
DECL = st.tuples(
    st.sampled_from(["", "@[simp] ", "/-- d -/\n", "private "]),
    st.sampled_from(["theorem", "lemma", "def", "example", "instance"]),
    st.sampled_from([" x", " y.z", " «a b»", ""]),
    st.sampled_from([" (n : Nat)", "", " {α : Type} [inst : Op α]"]),
    st.sampled_from([" : True", " : n = n ∧ True", ""]),
    st.sampled_from([" :=", " := by", " where", ""]),
    st.lists(BODY | NOISE, max_size=4).map("".join),
).map("".join)
# Declarations of every shape with noise (unbalanced comments, strings, brackets) before, between and inside them.
LEANISH = st.lists(DECL | NOISE | st.text(max_size=3), max_size=8).map("".join)


def assert_within(t: Target, src: str) -> tuple[int, int, int, int]:
    """The target's spans lie in ``src``, the proof within the declaration; their offsets."""
    assert t.text == src and t.path == P
    ds, de = pos_to_offset(src, t.decl_span.start), pos_to_offset(src, t.decl_span.end)
    ps, pe = pos_to_offset(src, t.proof_span.start), pos_to_offset(src, t.proof_span.end)
    assert 0 <= ds <= ps <= pe <= de <= len(src), t
    return ds, de, ps, pe


def assert_targets_hold(src: str) -> None:
    for t in find_targets(P, src):
        ds, _, ps, pe = assert_within(t, src)
        assert src[ds:].startswith(t.header), t  # the header is the declaration's own text
        if t.kind is TargetKind.SORRY:
            assert src[ps:pe] == "sorry", t
        else:  # a sorry that is the whole proof: the proof is everything after the header, and is `sorry`
            assert t.kind is TargetKind.DECLARATION and ps == ds + len(t.header), t
            assert [k.text for k in significant(tokenize(src[ps:pe]))] in (["sorry"], ["by", "sorry"]), t
        again = target_at(P, src, t.proof_span.start)  # the code action at the target offers that target
        assert again is not None and (again.kind, again.proof_span) == (t.kind, t.proof_span), (t, again)
    lines = src.split("\n")
    for line in range(len(lines) + 1):
        for col in (0, 3, len(lines[min(line, len(lines) - 1)])):
            at = target_at(P, src, Pos(line, col))
            if at is not None:
                assert at.kind in (TargetKind.SORRY, TargetKind.DECLARATION)
                assert_within(at, src)
            cursor = cursor_target(P, src, Pos(line, col))
            if cursor is not None:
                assert cursor.kind is TargetKind.CURSOR and cursor.proof_span.start == cursor.proof_span.end
                assert_within(cursor, src)


@pytest.mark.parametrize("src", GARBAGE)
def test_garbage_never_raises(src: str) -> None:
    """Garbage gets targets that still make sense: spans in the text, the proof inside its declaration, a SORRY
    target exactly a `sorry`, a DECLARATION target a whole proof that is `sorry`, and the code action at each one
    offering that target."""
    assert_targets_hold(src)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | LEANISH)
def test_any_text_gets_targets_that_make_sense(src: str) -> None:
    assert_targets_hold(src)
