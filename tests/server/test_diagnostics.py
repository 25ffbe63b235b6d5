"""The editor's diagnostics as LeanMessages (server/diagnostics.py): command arguments are untrusted JSON, so a
malformed entry is skipped, never fatal, and the well-formed ones around it still count."""

from __future__ import annotations

import json

from lean_copilot_py.core.lines import LineIndex
from lean_copilot_py.core.types import Pos
from lean_copilot_py.server.diagnostics import editor_errors, from_json

TEXT = "theorem foo : True := by\n  sorry\n"


def test_non_finite_and_garbage_entries_are_skipped_and_the_good_one_kept() -> None:
    good = {"range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 7}}, "severity": 1,
            "message": "unsolved goals"}
    raw = json.loads(
        "["
        '{"range": {"start": {"line": Infinity, "character": 0}, "end": {"line": 0, "character": 5}}, "severity": 1,'
        ' "message": "a"},'
        '{"range": {"start": {"line": 0, "character": NaN}, "end": {"line": 0, "character": 5}}, "severity": 1,'
        ' "message": "b"},'
        '{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 5}}, "severity": -Infinity,'
        ' "message": "c"},'
        f"{json.dumps(good)}, \"garbage\", null]"
    )
    (message,) = editor_errors(from_json(raw), LineIndex(TEXT))
    assert message.text == "unsolved goals" and message.span.start == Pos(1, 2) and message.span.end == Pos(1, 7)
