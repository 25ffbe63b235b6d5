"""LSP positions (UTF-16 columns) to the core's code points and back (server/positions.py). The same on hostile
text, as properties: tests/properties/test_positions.py."""

from __future__ import annotations

import pytest

from lean_copilot_py.core.types import Pos
from lean_copilot_py.server.positions import cp_to_utf16, to_core, to_lsp, utf16_to_cp


@pytest.mark.parametrize(
    ("line", "utf16", "cp"),
    [("abc", 2, 2), ("𝔽x", 2, 1), ("𝔽x", 3, 2), ("a😀b", 3, 2), ("a😀b", 2, 2), ("ℕ → ℕ", 4, 4), ("x", 9, 1)],
)
def test_utf16_code_point_columns(line: str, utf16: int, cp: int) -> None:
    assert utf16_to_cp(line, utf16) == cp


def test_round_trip_every_column() -> None:
    text = "theorem 𝔽 (h : α ≤ β) : 😀 = 😀 := by\n  sorry\n"
    line = text.split("\n")[0]
    for col in range(len(line) + 1):
        assert utf16_to_cp(line, cp_to_utf16(line, col)) == col
        assert to_core(text, to_lsp(text, Pos(0, col))) == Pos(0, col)
