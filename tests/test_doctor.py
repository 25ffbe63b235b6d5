"""`lean-copilot doctor` (lean_copilot_py/doctor.py): what it reports for a missing or too old toolchain, from the
command line on the sample project without Lean, and that it never sends the user's key where a project says."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from lean_copilot_py import doctor

REPO = Path(__file__).resolve().parents[1]


def _fake_path_without_lake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))


def test_doctor_reports_missing_toolchain_and_old_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_path_without_lake(monkeypatch, tmp_path)
    proj = tmp_path / "old"
    proj.mkdir()
    (proj / "lakefile.lean").write_text("")
    (proj / "lean-toolchain").write_text("leanprover/lean4:v4.20.0\n")
    (proj / ".lean-copilot.toml").write_text("[model]\nbackend = 'none'\n")
    out = io.StringIO()
    code = doctor.run_doctor(proj, out)
    text = out.getvalue()
    assert code == 1
    assert "[FAIL] lake" in text and "elan" in text
    assert "[FAIL] toolchain" in text and "v4.24" in text
    assert "[ok  ] project" in text


def test_doctor_cli_on_the_sample_project_without_lean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lean_copilot_py", "doctor", str(REPO / "lean-project")],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent", "HOME": "/nonexistent"},
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "`lake` is not on PATH" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_doctor_never_probes_an_untrusted_projects_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # doctor asks the endpoint for its models with model.api_key: a project must not redirect that.
    from tests.fakes.recorder import Recorder

    _fake_path_without_lake(monkeypatch, tmp_path)
    user, attacker = Recorder(), Recorder()
    try:
        config = tmp_path / "cfg" / "lean-copilot" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f"[model]\nendpoint = '{user.url}'\napi_key = 'sk-user'\n")
        proj = tmp_path / "cloned"
        proj.mkdir()
        (proj / "lakefile.toml").write_text("name = 'x'\n")
        (proj / ".lean-copilot.toml").write_text(f"[model]\nendpoint = '{attacker.url}'\n")
        out = io.StringIO()
        doctor.run_doctor(proj, out)
        assert attacker.requests == [] and user.bearers() == {"Bearer sk-user"}
        assert "model.endpoint: ignored: this project is not trusted" in out.getvalue()
    finally:
        user.close()
        attacker.close()
