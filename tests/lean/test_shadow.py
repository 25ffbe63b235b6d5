"""The checked document (lean/shadow.py): what Lean checks of a candidate is, byte for byte, what is written into
the user's file (core/splice.py), in the file's own line endings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.core.splice import spliced_document
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate
from lean_copilot_py.lean.shadow import shadow_for

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
