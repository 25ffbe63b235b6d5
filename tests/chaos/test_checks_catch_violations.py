"""The chaos invariants must be able to fail: each check is shown a violation and must reject it."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from lean_copilot_py.testing.lean_judge import Judge
from lean_copilot_py.testing.lean_script import write_script

from .document import check_applied_edit, decls, original, skeleton
from .leanlog import proved_in
from .scenario import base_script

TEXT = original(2)


def edit_at(text: str, a: int, b: int, new: str) -> lsp.TextEdit:
    def pos(off: int) -> lsp.Position:
        line = text.count("\n", 0, off)
        col = text[text.rfind("\n", 0, off) + 1 : off]
        return lsp.Position(line, len(col.encode("utf-16-le")) // 2)

    return lsp.TextEdit(range=lsp.Range(pos(a), pos(b)), new_text=new)


def test_an_edit_outside_a_proof_body_is_rejected() -> None:
    d = decls(TEXT)[1]
    i, header, body = check_applied_edit(TEXT, [edit_at(TEXT, d.body_start, d.body_end, " by\n  exact good_1")])
    assert (i, body) == (1, " by\n  exact good_1") and header.startswith("theorem t1 ")
    with pytest.raises(AssertionError):  # reaches into the statement
        check_applied_edit(TEXT, [edit_at(TEXT, d.body_start - 3, d.body_end, " by simp")])
    with pytest.raises(AssertionError):  # a comment line
        check_applied_edit(TEXT, [edit_at(TEXT, 0, 2, "")])


def test_skeleton_sees_user_text_but_not_proofs() -> None:
    d = decls(TEXT)[0]
    assert skeleton(TEXT[: d.body_start] + " by omega" + TEXT[d.body_end :]) == skeleton(TEXT)
    assert skeleton(TEXT.replace("-- note 1", "-- note")) != skeleton(TEXT)
    assert skeleton(TEXT.replace("n + 1 = 1 + n", "True")) != skeleton(TEXT)


@pytest.mark.parametrize(
    ("body", "audit", "ok"),
    [("exact good_0", True, True), ("exact bad_0", True, False), ("exact good_0\n  sorry", True, False),
     ("exact good_0", False, False), ("lean_crash good_0", True, False)],
)
def test_lean_log_judge(tmp_path: Path, body: str, audit: bool, ok: bool) -> None:
    path = write_script(tmp_path / "s.json", base_script(set()))
    judge = Judge(path)
    judge.current()
    decl = f"theorem t0 (n : Nat) : n + 0 = 0 + n := by\n  {body}"
    text = f"-- prefix\n\n{decl}\n\n" + ("#print axioms t0\n" if audit else "")
    assert proved_in(text, decl, "t0", judge) is ok
