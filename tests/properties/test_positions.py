"""Server position conversion (LSP UTF-16 columns <-> core code points) on hostile text: CRLF line ends,
tabs, astral-plane characters (emoji, 𝔽), Lean's unicode (ℕ, ⟨⟩, →). Checked against an independent
UTF-16 encoding of the line, and as a round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp

from lean_copilot_py.core.types import Pos, offset_to_pos, pos_to_offset
from lean_copilot_py.server.documents import apply_change
from lean_copilot_py.server.positions import cp_to_utf16, to_core, to_lsp, utf16_to_cp

CHARS = st.sampled_from([*"ab :=\t\r\nℕ→⟨⟩∀λ", "😀", "𝔽", "𝓐", "\u200b", "é", "e\u0301"])
TEXT = st.lists(CHARS, max_size=40).map("".join)


def units(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


@settings(max_examples=300, deadline=None)
@given(TEXT, st.data())
def test_every_code_point_position_round_trips(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(text)))
    pos = offset_to_pos(text, offset)
    wire = to_lsp(text, pos)
    line = text.split("\n")[pos.line]
    assert wire.line == pos.line and wire.character == units(line[: pos.col])  # what an editor would send
    assert to_core(text, wire) == pos
    assert pos_to_offset(text, to_core(text, wire)) == offset


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(0, 60))
def test_any_utf16_column_lands_on_a_character_boundary_in_the_line(line: str, character: int) -> None:
    line = line.replace("\n", "")
    col = utf16_to_cp(line, character)
    assert 0 <= col <= len(line)
    assert units(line[:col]) >= min(character, units(line))  # never before the column asked for
    assert col == 0 or units(line[: col - 1]) < character  # ... and not a whole character past it
    assert cp_to_utf16(line, col) == units(line[:col])


@settings(max_examples=200, deadline=None)
@given(TEXT, st.data(), TEXT)
def test_incremental_change_replaces_exactly_the_range(text: str, data: st.DataObject, new: str) -> None:
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    rng = lsp.Range(to_lsp(text, offset_to_pos(text, a)), to_lsp(text, offset_to_pos(text, b)))
    out = apply_change(text, lsp.TextDocumentContentChangePartial(range=rng, text=new))
    assert out == text[:a] + new + text[b:]


def test_crlf_keeps_the_carriage_return_in_the_line() -> None:
    text = "theorem 𝔽 : True := by\r\n  trivial\r\n"
    end = Pos(0, len("theorem 𝔽 : True := by"))
    assert to_lsp(text, end).character == len("theorem 𝔽 : True := by") + 1  # 𝔽 is two UTF-16 units
    assert to_core(text, lsp.Position(1, 2)) == Pos(1, 2)
