"""`lean-copilot prove` end to end with a scripted engine: diff, write-back safety, report, resume, order,
concurrency."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from lean_copilot_py.batch.command import run_prove
from lean_copilot_py.cli import _build_parser
from lean_copilot_py.testing.fake_engine import FakeEngine

from .conftest import BASIC, prove


def test_diff_by_default_and_report_schema(project: Path, tmp_path: Path) -> None:
    eng = FakeEngine(proofs={"a": "by\n  simp"}, transcript_dir=str(tmp_path))
    run = prove(["P", "--report", "out.json"], eng)
    assert run.code == 1  # b was not proved
    assert "-  sorry\n+  simp\n" in run.out and run.out.startswith("--- a/P/Basic.lean")
    assert (project / "P/Basic.lean").read_text() == BASIC  # diff only: untouched
    rep = json.loads((project / "out.json").read_text())
    assert rep["schema"] == "lean-copilot/prove-report@1" and rep["finished"] is True
    a, b = rep["targets"]
    assert (a["file"], a["line"], a["col"], a["declaration"], a["outcome"]) == ("P/Basic.lean", 6, 3, "T.a", "proved")
    assert a["proof"] == "by\n  simp" and a["attempts"] == 3 and a["tokens"] == {"prompt": 100, "completion": 50}
    assert b["outcome"] == "failed" and b["reason"] == "every attempt failed"
    assert b["transcript"] == str(tmp_path / "fake-2.md")
    assert rep["totals"] == {"targets": 2, "proved": 1, "failed": 1, "remaining": 0, "attempts": 6,
                             "tokens": {"prompt": 200, "completion": 100}, "time_s": 0.5}
    assert rep["files"]["P/Basic.lean"]["status"] == "diff"
    assert "1/2 targets proved" in rep["summary"] and "1/2 targets proved" in run.err
    assert eng.closed


def test_write_applies_after_whole_file_check(project: Path) -> None:
    f = project / "P/Basic.lean"
    os.chmod(f, 0o640)
    eng = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"})
    run = prove(["P/Basic.lean", "--write"], eng)
    assert run.code == 0, run.err
    assert f.read_text() == BASIC.replace("sorry", "simp", 1).replace("sorry", "omega", 1)
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert eng.documents == [BASIC, f.read_text()]  # the original and the edited file, each as a whole
    assert sorted(p.name for p in f.parent.iterdir()) == ["Basic.lean"]  # no temp file left behind


def test_write_refuses_a_file_changed_on_disk(project: Path) -> None:
    f = project / "P/Basic.lean"

    def edit_meanwhile(target) -> None:
        f.write_text(BASIC + "\n-- the user typed this\n")

    run = prove(["P", "--write", "--report", "r.json"], FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"},
                                                                   on_search=edit_meanwhile))
    assert run.code == 4
    assert f.read_text().endswith("-- the user typed this\n")
    rep = json.loads((project / "r.json").read_text())
    assert rep["files"]["P/Basic.lean"]["status"] == "changed-on-disk"
    assert "NOT written (changed-on-disk)" in run.err


def test_write_keeps_file_when_whole_file_check_finds_new_errors(project: Path) -> None:
    f = project / "P/Basic.lean"
    run = prove(["P", "--write"], FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"}, bad_document="omega"))
    assert run.code == 4
    assert f.read_text() == BASIC
    assert "check-failed" in run.err and "unknown identifier" in run.err


def test_write_refused_when_the_whole_file_check_cannot_run(project: Path) -> None:
    err = io.StringIO()
    args = _build_parser().parse_args(["prove", "P", "--write"])
    engine = FakeEngine(proofs={"a": "by\n  x", "b": "by\n  y"}, documents_checkable=False)
    code = run_prove(args, io.StringIO(), err, engine)
    assert code == 4 and (project / "P/Basic.lean").read_text() == BASIC
    assert "the whole-file Lean check could not run: this checker cannot check a whole document" in err.getvalue()


def test_later_target_is_read_with_earlier_proofs_applied(project: Path) -> None:
    eng = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"})
    prove(["P"], eng)
    assert [t.decl_name for t in eng.searched] == ["a", "b"]
    first, second = eng.searched
    assert first.text == BASIC
    assert "theorem a (n : Nat) : n + 0 = n := by\n  simp" in second.text and second.text.count("sorry") == 1


def test_failed_target_stays_and_next_one_is_still_found(project: Path) -> None:
    eng = FakeEngine(proofs={"b": "by\n  omega"})
    run = prove(["P"], eng)
    assert [t.decl_name for t in eng.searched] == ["a", "b"]
    assert "-  sorry\n+  omega" in run.out and run.out.count("+  ") == 1


def test_one_global_concurrency_limit(project: Path) -> None:
    (project / ".lean-copilot.toml").write_text("[search]\nconcurrency = 2\n")
    for i in range(4):
        (project / "P" / f"F{i}.lean").write_text(BASIC)
    eng = FakeEngine(proofs={"a": "by\n  simp"}, delay=0.05)
    run = prove(["P"], eng)
    assert len(eng.searched) == 10
    assert eng.max_in_flight == 2, run.err


def test_resume_skips_proved_targets(project: Path) -> None:
    class Killed(BaseException):
        pass

    def kill_at_b(target) -> None:
        if target.decl_name == "b":
            raise Killed

    with pytest.raises(Killed):
        prove(["P", "--report", "r.json"], FakeEngine(proofs={"a": "by\n  simp"}, on_search=kill_at_b))
    rep = json.loads((project / "r.json").read_text())
    assert rep["finished"] is False and [t["declaration"] for t in rep["targets"]] == ["T.a"]
    assert rep["totals"]["remaining"] == 1

    eng = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"})
    run = prove(["--resume", "r.json"], eng)  # paths come from the report
    assert run.code == 0, run.err
    assert [t.decl_name for t in eng.searched] == ["b"]  # a was not searched again ...
    assert [c.proof for _, c in eng.verified] == ["by\n  simp"]  # ... only re-checked
    rep = json.loads((project / "r.json").read_text())
    assert rep["finished"] and [t["resumed"] for t in rep["targets"]] == [True, False]
    assert "+  simp" in run.out and "+  omega" in run.out


def test_resume_keeps_failed_unless_retry(project: Path) -> None:
    prove(["P", "--report", "r.json"], FakeEngine(proofs={"a": "by\n  simp"}))
    eng = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"})
    assert prove(["P", "--resume", "r.json"], eng).code == 1 and eng.searched == []
    eng = FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"})
    assert prove(["P", "--resume", "r.json", "--retry-failed"], eng).code == 0
    assert [t.decl_name for t in eng.searched] == ["b"]


def test_resume_searches_again_when_stored_proof_no_longer_checks(project: Path) -> None:
    prove(["P", "--report", "r.json"], FakeEngine(proofs={"a": "by\n  simp"}))
    eng = FakeEngine(proofs={"a": "by\n  rfl"})  # the stored proof (simp) now fails verification
    prove(["P", "--resume", "r.json"], eng)
    assert [t.decl_name for t in eng.searched] == ["a"]


def test_line_mode_prints_the_proof(project: Path, tmp_path: Path) -> None:
    run = prove(["P/Basic.lean", "--line", "9"], FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"},
                                                            origin="automation:omega"))
    assert run.code == 0
    assert run.out.startswith("proved T.b at P/Basic.lean:9:3 (automation:omega), verified by Lean:\nby\n  omega\n")
    run = prove(["P/Basic.lean", "--line", "6"], FakeEngine(proofs={}, transcript_dir=str(tmp_path)))
    assert run.code == 1 and "no proof for T.a" in run.out and f"transcript: {tmp_path / 'fake-1.md'}" in run.out


def test_line_mode_usage_errors(project: Path) -> None:
    assert prove(["P/Basic.lean", "--line", "1"]).code == 2
    assert prove(["P", "--line", "6"]).code == 2
    assert prove(["nope.lean"]).code == 2


def test_summary_says_automation_only_without_model(project: Path) -> None:
    run = prove(["P"], FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"}, model_used=False))
    assert run.code == 0 and "automation only" in run.err
    run = prove(["P", "--no-model"], FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"}))
    assert "--no-model" in run.err


def test_no_lake_message(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    from lean_copilot_py.cli import main

    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    (project / ".lean-copilot.toml").write_text("[model]\nbackend = 'none'\n")
    assert main(["prove", "P/Basic.lean"]) == 3
    err = capsys.readouterr().err
    assert "Lean cannot be run here" in err and "[FAIL] lake" in err and "elan" in err
    assert "Traceback" not in err
