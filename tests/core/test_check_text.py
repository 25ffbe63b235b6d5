"""The normal form checks are shared under: what it may drop (comments, blank lines, trailing blanks), what it
must keep byte for byte (indentation, spacing inside a line, strings, block and doc comments), and the way a
verdict on the normal form goes back to each candidate's own lines and snippet."""

from __future__ import annotations

from pathlib import Path

from lean_copilot_py.core.check_text import check_form, normal_lines
from lean_copilot_py.core.types import Candidate, LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Verdict
from lean_copilot_py.lean.shadow import shadow_for
from tests.helpers import DOC, make_target


def key(proof: str, helpers: str = "") -> str:
    return check_form(make_target(), Candidate(proof, helpers)).key


def test_comments_blank_lines_and_trailing_blanks_go() -> None:
    n = normal_lines("by\n  simp -- first\n\n  -- a thought\n  exact h  \r")
    assert n is not None
    assert n.text == "by\n  simp\n  exact h"
    assert n.kept == (0, 1, 4)


def test_what_lean_reads_is_kept() -> None:
    text = 'by\n  have : s = "a -- b  \n c" := x\n  /- block\n  -- inside -/ rfl\n/-- doc\n-- in doc -/\n  simp'
    n = normal_lines(text)
    assert n is not None and n.text == text  # a `--` in a string, a block comment and a doc comment are code


def test_unlexable_text_is_not_normalised() -> None:
    assert normal_lines('by\n  exact "open') is None
    assert normal_lines("by\n  /- open comment\n  simp") is None


def test_a_proof_after_colon_equals_keeps_its_first_line() -> None:
    n = normal_lines(" -- why\n  by simp", attached=True)
    assert n is not None and n.text == "\n  by simp" and n.kept == (0, 1)


def test_comment_and_blank_variants_share_a_key() -> None:
    plain = key("by\n  intro h\n  simp [h]")
    assert key("by\n  intro h -- name it\n\n  -- now simplify\n  simp [h]   ") == plain
    assert key("by\r\n  intro h\r\n  simp [h]\r\n") == plain
    assert check_form(make_target(), Candidate("by\n  intro h\n  simp [h]")).identity


def test_indentation_and_spacing_inside_a_line_split_keys() -> None:
    plain = key("by\n  constructor\n  · simp\n  · simp")
    assert key("by\n  constructor\n  · simp\n    · simp") != plain  # a nested bullet is another proof
    assert key("by\n  constructor\n  ·  simp\n  · simp") != plain  # columns after the bullet differ
    assert key('by\n  exact "a -- b"') != key('by\n  exact "a"')


def test_helpers_are_part_of_the_key() -> None:
    assert key("by\n  simp", helpers="lemma a : True := trivial") != key("by\n  simp")
    assert key("by\n  simp", helpers="-- just a note\nlemma a : True := trivial\n") == key(
        "by\n  simp", helpers="lemma a : True := trivial")


def test_a_comment_that_sets_the_indentation_is_not_dropped() -> None:
    # Splicing removes the common indentation of a proof's lines; the comment at column 0 is part of that
    # computation, so dropping it would move `simp`. The original is sent instead (and keyed as itself).
    odd = Candidate("by\n-- at column 0\n    simp")
    form = check_form(make_target(), odd)
    assert form.sent == odd and form.identity
    assert form.key != key("by\n    simp")


def test_the_document_prefix_is_part_of_the_key() -> None:
    other = DOC.replace("import Mathlib", "import Mathlib\nopen Nat")
    assert check_form(make_target(other), Candidate("by\n  simp")).key != key("by\n  simp")


def test_a_verdict_returns_in_the_candidates_own_lines_and_snippet() -> None:
    target = make_target()
    own = Candidate("by\n  intro n -- first\n\n  -- then\n  simp [bogus]",
                    helpers="-- helper\nlemma h : True := trivial")
    form = check_form(target, own)
    assert not form.identity
    sent_shadow, own_shadow = shadow_for(target, form.sent), shadow_for(target, own)
    # The error Lean reports on `bogus` in the checked (normal) snippet, and where it is in the candidate's.
    line = sent_shadow.snippet.split("\n").index("  simp [bogus]")
    col = sent_shadow.snippet.split("\n")[line].index("bogus")
    msg = LeanMessage(Severity.ERROR, Span(Pos(line, col), Pos(line, col + 5)), "unknown identifier 'bogus'")
    checked = Verdict(Outcome.FAILED, messages=(msg,), reason=f"line {line + 1}: unknown identifier 'bogus'",
                      sorries=(SorryGoal(Span(Pos(line, 2), Pos(line, 6)), "⊢ True"),), snippet=sent_shadow.snippet)
    mine = form.translate(checked)
    own_lines = own_shadow.snippet.split("\n")
    at = mine.messages[0].span.start
    assert own_lines[at.line][at.col:at.col + 5] == "bogus"
    assert mine.sorries[0].span.start.line == at.line
    assert mine.reason == f"line {at.line + 1}: unknown identifier 'bogus'"
    assert mine.snippet == own_shadow.snippet


def test_the_snippet_keeps_the_checkers_rename_of_an_example() -> None:
    from lean_copilot_py.core.targets import find_targets

    text = "import Mathlib\n\nexample (n : Nat) : n + 0 = n := by\n  sorry\n"
    target = find_targets(Path("/tmp/proj/Foo.lean"), text)[0]
    assert not target.full_name  # the checker names it for `#print axioms`
    own = Candidate("by\n  simp -- done")
    form = check_form(target, own)
    checked = Verdict(Outcome.PROVED, snippet=shadow_for(target, form.sent).snippet)
    assert form.translate(checked).snippet == shadow_for(target, own).snippet


def test_in_a_crlf_file_the_snippet_comes_back_with_its_line_endings() -> None:
    from lean_copilot_py.core.targets import find_targets

    # A one-line declaration: its normal form splices like the original, so the check is shared.
    (target,) = find_targets(Path("/tmp/proj/Foo.lean"), "theorem foo : True := sorry\r\n")
    own = Candidate("h", helpers="private theorem h : True := True.intro -- the helper\nprivate theorem g : True := h")
    form = check_form(target, own)
    assert not form.identity and "-- the helper" not in form.sent.helpers
    checked = Verdict(Outcome.PROVED, snippet=shadow_for(target, form.sent).snippet)
    assert "\r\n" in checked.snippet  # the helpers as the CRLF file will hold them
    assert form.translate(checked).snippet == shadow_for(target, own).snippet
