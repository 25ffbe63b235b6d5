"""`lean-copilot prove` through the real Engine, core.targets and LeanChecker, against the scripted fake
Lean server (no model: automation only)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lean_copilot_py.batch import command
from lean_copilot_py.cli import main
from lean_copilot_py.testing.lean_script import Diag, Rule, Script, error, fake_lean_command, proved, write_script

from .conftest import BASIC

pytestmark = pytest.mark.timeout(60)


def _configure(project: Path, script: Script) -> Path:
    script_path = write_script(project.parent / "script.json", script)
    cmd = json.dumps(fake_lean_command(script_path))
    (project / ".lean-copilot.toml").write_text(
        f"[model]\nbackend = 'none'\n"
        f"[lean]\nserver_command = {cmd}\ncheck_timeout_s = 10\nstartup_timeout_s = 20\n"
        f"[search]\nautomation = ['omega', 'simp']\ncache = false\ndeadline_s = 20\n"
        f"[paths]\ncache_dir = {json.dumps(str(project.parent / 'cache'))}\n"
    )
    return script_path


# `a` is proved by omega; every candidate for `b` fails.
SCRIPT = Script(rules=[
    proved(r"\bomega\b", decl="a"),
    error(r"\b(omega|simp)\b", "omega could not prove the goal", decl="b"),
])


def test_diff_report_and_exit_code(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(project, SCRIPT)
    code = main(["prove", "P", "--report", "r.json"])
    cap = capsys.readouterr()
    assert code == 1, cap.err
    assert "+++ b/P/Basic.lean" in cap.out and "omega" in cap.out
    assert (project / "P/Basic.lean").read_text() == BASIC
    rep = json.loads((project / "r.json").read_text())
    outcomes = {t["declaration"]: t["outcome"] for t in rep["targets"]}
    assert outcomes == {"T.a": "proved", "T.b": "failed"}
    assert rep["targets"][0]["goal"].endswith("⊢ n + 0 = n")
    assert "automation only" in rep["summary"] and "automation only" in cap.err


def test_write_checks_whole_file_then_writes(project: Path) -> None:
    _configure(project, SCRIPT)
    assert main(["prove", "P", "--write"]) == 1  # b is still open
    text = (project / "P/Basic.lean").read_text()
    assert "omega" in text and text.count("sorry") == 1


def test_write_refused_when_whole_file_has_new_errors(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    script_path = _configure(project, SCRIPT)
    real = command._write_back

    async def lean_changes_its_mind(*args, **kw):
        # In the whole file, `a`'s proof now fails (as when a later declaration breaks it).
        write_script(script_path, Script(rules=[Rule(decl="a", pattern=r"\bomega\b",
                                                     diagnostics=[Diag("type mismatch")])]))
        return await real(*args, **kw)

    monkeypatch.setattr(command, "_write_back", lean_changes_its_mind)
    assert main(["prove", "P", "--write", "--report", "r.json"]) == 4
    assert (project / "P/Basic.lean").read_text() == BASIC
    rep = json.loads((project / "r.json").read_text())
    assert rep["files"]["P/Basic.lean"]["status"] == "check-failed"
    assert "type mismatch" in rep["files"]["P/Basic.lean"]["detail"]


def test_all_proved_exit_zero_and_line_mode(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(project, Script(rules=[proved(r"\bomega\b")]))
    assert main(["prove", "P/Basic.lean", "--line", "9"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("proved T.b at P/Basic.lean:9:3") and "omega" in out
    assert main(["prove", "P"]) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX PATH")
def test_no_lake_without_server_command(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert main(["prove", "P"]) == 3
    err = capsys.readouterr().err
    assert "[FAIL] lake" in err and "Traceback" not in err
