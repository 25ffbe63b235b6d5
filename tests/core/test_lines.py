"""LineIndex agrees with the reference conversions of core.types on every offset and position, and the
binary-search lookups of core.targets agree with the linear scans they replaced."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core import targets
from lean_copilot_py.core.lexer import COMMENTS, Kind
from lean_copilot_py.core.lines import LineIndex
from lean_copilot_py.core.outline import outline
from lean_copilot_py.core.types import Pos, offset_to_pos, pos_to_offset

CHARS = st.sampled_from([*"ab :=\t\r\n", "😀", "ℕ"])
TEXT = st.lists(CHARS, max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.data())
def test_offsets_and_positions_match_the_reference(text: str, data: st.DataObject) -> None:
    index = LineIndex(text)
    offset = data.draw(st.integers(-3, len(text) + 3))
    assert index.pos(offset) == offset_to_pos(text, offset)
    pos = Pos(data.draw(st.integers(-1, text.count("\n") + 2)), data.draw(st.integers(-2, 70)))
    assert index.offset(pos) == pos_to_offset(text, pos)
    lines = text.split("\n")
    assert index.line_count == len(lines)
    assert [index.line_text(i) for i in range(len(lines) + 1)] == [*lines, ""]


# Lean-shaped snippets, so that declarations, sorries, comments and strings are common in generated texts.
PIECES = st.sampled_from(
    [
        "theorem a : True := by\n  sorry\n",
        "lemma b (n : N) : True := sorry\n",
        "example : True := by\n  trivial\n",
        "def c : N := N.z\n",
        "namespace X\n",
        "end X\n",
        "-- a comment with sorry\n",
        "/- block\n sorry -/\n",
        'theorem s : True := by\n  have h : True := (sorry : True)\n  exact "x".length\n',
        "\n",
        "  ",
        "theorem d : True :=\n",
        "@[simp] theorem e : True := by simp\n",
    ]
)
DOC = st.lists(PIECES, max_size=12).map("".join)


def _decl_at_linear(text: str, off: int) -> targets.Decl | None:
    for d in outline(text).decls:
        if d.start <= off <= d.end or (d.end < off < d.limit and "\n" not in text[d.end : off]):
            return d
    return None


def _inside_linear(text: str, off: int) -> bool:
    for t in outline(text).all_tokens:
        if t.start < off < t.end or (t.kind is Kind.LINE_COMMENT and t.start < off <= t.end):
            return t.kind in COMMENTS or t.kind in (Kind.STRING, Kind.CHAR)
        if t.start >= off:
            break
    return False


@settings(max_examples=300, deadline=None)
@given(DOC, st.data())
def test_binary_search_lookups_match_the_linear_scans(text: str, data: st.DataObject) -> None:
    o = outline(text)
    off = data.draw(st.integers(0, len(text)))
    assert targets._decl_at(o, off) == _decl_at_linear(text, off)
    assert targets._inside_comment_or_string(o, off) == _inside_linear(text, off)
    found = targets.find_targets(Path("/p/A.lean"), text)
    assert targets.has_targets(o) == bool(found)
    # The targets' positions are those the reference conversion gives.
    for t in found:
        start = pos_to_offset(text, t.proof_span.start)
        assert offset_to_pos(text, start) == t.proof_span.start
