"""The real Lean 4.35 fixture itself: the launcher runs, the prelude fixture elaborates cleanly, and the
checker proves a term-mode theorem through the real `lean --server`."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.core.types import Candidate, Outcome
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.settings import LeanSettings
from tests.helpers import make_target
from tests.real_lean import RealLean, prelude_file

pytestmark = pytest.mark.real_lean


def test_launcher_is_lean_4_35(real_lean: RealLean) -> None:
    assert "version 4.35.0" in real_lean.version


def test_fixture_elaborates_without_messages(real_lean: RealLean, prelude_project: Path) -> None:
    done = real_lean.run(prelude_project / "Prelude" / "Basic.lean")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


async def test_checker_proves_on_the_real_server(real_lean: RealLean, prelude_project: Path) -> None:
    text = prelude_file("theorem add_zero' (a : N) : Eq (N.add a N.z) a := sorry")
    path = prelude_project / "Prelude" / "Target.lean"
    path.write_text(text, encoding="utf-8")
    checker = LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), slots=1))
    try:
        verdict = await checker.check(make_target(text, "add_zero'", path=path), Candidate("Eq.refl"))
        assert verdict.outcome is Outcome.PROVED, verdict.reason
        assert verdict.axioms == ()
        wrong = await checker.check(make_target(text, "add_zero'", path=path), Candidate("N.z"))
        assert wrong.outcome is Outcome.FAILED
    finally:
        await checker.aclose()
