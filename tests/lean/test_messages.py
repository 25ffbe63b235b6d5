"""Reading Lean's diagnostics (lean/messages.py): the goals of an "unsolved goals" error, Lean's tags before its
text, positions relative to the checked snippet."""

from __future__ import annotations

from lean_copilot_py.core.types import Pos, Severity
from lean_copilot_py.lean.messages import goals_from_unsolved, is_unsolved_goals, relative_pos, to_message


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
