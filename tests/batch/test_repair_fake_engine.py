"""`lean-copilot repair` with the engine's scripted double: targets come from the whole-document check, each is
searched carrying its failing proof, later ones are found again after earlier repairs move them, a proof Lean
accepts as it is stays untouched, and --resume re-verifies instead of searching again."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lean_copilot_py.batch.command import run_repair
from lean_copilot_py.cli import _build_parser
from lean_copilot_py.core.search_repair import ACCEPTED_AS_IS
from lean_copilot_py.core.types import LeanMessage, Outcome, Severity, Span, Verdict, offset_to_pos
from lean_copilot_py.testing.fake_engine import FakeEngine

from .conftest import Run

TEXT = """namespace T

theorem a (n : Nat) : n + 0 = n := by
  simpp

theorem ok (n : Nat) : n = n := rfl

theorem b (n : Nat) : 2 * n = n + n := by
  omegaa

def d : Nat := oops

end T
"""


def errors_at(*needles: str):
    """A whole-document check that reports an error at each needle still in the text."""

    async def check(path: Path, text: str) -> Verdict:
        messages = []
        for needle in needles:
            at = text.find(needle)
            if at >= 0:
                span = Span(offset_to_pos(text, at), offset_to_pos(text, at + len(needle)))
                messages.append(LeanMessage(Severity.ERROR, span, f"unknown tactic '{needle}'"))
        return Verdict(Outcome.FAILED if messages else Outcome.PROVED, messages=tuple(messages))

    return check


@pytest.fixture
def file(project: Path) -> Path:
    path = project / "P" / "Repair.lean"
    path.write_text(TEXT, encoding="utf-8")
    return path


def repair(argv: list[str], engine: FakeEngine) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = run_repair(_build_parser().parse_args(["repair", *argv]), out, err, engine)
    return Run(code, out.getvalue(), err.getvalue())


def test_each_broken_proof_is_searched_with_its_own_proof_and_later_ones_follow(file: Path) -> None:
    engine = FakeEngine(proofs={"a": "by\n  simp\n  done", "b": "by\n  omega"},
                        document_checker=errors_at("simpp", "omegaa", "oops"))
    run = repair(["P/Repair.lean", "--report", "r.json"], engine)
    assert run.code == 1, run.err  # `d` is a def: reported, not repaired
    assert [(t.decl_name, t.repair.original) for t in engine.searched] == [("a", " by\n  simpp"),
                                                                            ("b", " by\n  omegaa")]
    assert engine.searched[1].text.count("simp\n  done") == 1  # b was searched in the text with a's repair
    assert "+  simp\n+  done" in run.out and "+  omega\n" in run.out and "-  omegaa" in run.out
    assert file.read_text(encoding="utf-8") == TEXT  # diff mode
    report = json.loads(Path("r.json").read_text())
    assert [(t["declaration"], t["kind"], t["outcome"]) for t in report["targets"]] == [
        ("T.a", "repair", "proved"), ("T.b", "repair", "proved")]
    (u,) = report["unrepairable"]
    assert u["declaration"] == "d" and "`def` declarations are not repaired" in u["reason"]
    assert report["totals"]["nothing_to_repair"] == 0
    assert "2/2 declarations repaired, 0 not repaired, 1 unrepairable" in run.err
    # --include-defs makes `d` a target too.
    engine = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega", "d": "0"},
                        document_checker=errors_at("simpp", "omegaa", "oops"))
    run = repair(["P/Repair.lean", "--include-defs", "--write"], engine)
    assert run.code == 0, run.err
    assert "def d : Nat := 0" in file.read_text(encoding="utf-8")


def test_a_proof_lean_accepts_as_it_is_is_left_alone(file: Path) -> None:
    engine = FakeEngine(status="nothing-to-repair", reason=ACCEPTED_AS_IS, document_checker=errors_at("simpp"))
    run = repair(["P/Repair.lean", "--write", "--report", "r.json"], engine)
    assert run.code == 0, run.err
    assert run.out == "" and file.read_text(encoding="utf-8") == TEXT
    report = json.loads(Path("r.json").read_text())
    (t,) = report["targets"]
    assert t["outcome"] == "nothing-to-repair" and t["reason"] == ACCEPTED_AS_IS
    assert report["files"]["P/Repair.lean"]["status"] == "unchanged"
    assert "1 accepted by Lean as they are (nothing to repair)" in run.err


def test_resume_re_verifies_a_repair_instead_of_searching(file: Path) -> None:
    engine = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"}, document_checker=errors_at("simpp", "omegaa"))
    first = repair(["P/Repair.lean", "--report", "r.json"], engine)
    assert first.code == 0, first.err
    again = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"}, document_checker=errors_at("simpp", "omegaa"))
    run = repair(["--resume", "r.json"], again)
    assert run.code == 0, run.err
    assert again.searched == [] and [c.proof for _, c in again.verified] == ["by\n  simp", "by\n  omega"]
    assert run.out == first.out
    # A prove report is not a repair report.
    Path("p.json").write_text(Path("r.json").read_text().replace('"command": "repair"', '"command": "prove"'))
    assert repair(["--resume", "p.json"], FakeEngine()).code == 2


def test_a_file_whose_check_cannot_run_is_not_repaired(file: Path) -> None:
    run = repair(["P/Repair.lean", "--write"], FakeEngine(documents_checkable=False))
    assert run.code == 4, run.err
    assert "the whole-file Lean check could not run" in run.err
    assert file.read_text(encoding="utf-8") == TEXT
