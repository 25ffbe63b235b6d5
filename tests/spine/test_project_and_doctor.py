import io
import subprocess
import sys
from pathlib import Path

import pytest

from lean_copilot_py import doctor
from lean_copilot_py.project import discover, find_lake_root, parse_toolchain_version

REPO = Path(__file__).resolve().parents[2]


def test_lake_root_prefers_lakefile(tmp_path: Path) -> None:
    (tmp_path / "lakefile.toml").write_text("name = 'x'\n")
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.25.1\n")
    sub = tmp_path / "A" / "B"
    sub.mkdir(parents=True)
    (sub / "lean-toolchain").write_text("leanprover/lean4:v4.1.0\n")  # a stray toolchain below the root
    f = sub / "C.lean"
    f.write_text("theorem t : True := trivial\n")
    assert find_lake_root(f) == tmp_path
    project = discover(f)
    assert project is not None and project.version == (4, 25) and project.toolchain_supported


def test_no_project(tmp_path: Path) -> None:
    assert discover(tmp_path / "x.lean") is None


@pytest.mark.parametrize(
    ("text", "version"),
    [("leanprover/lean4:v4.24.0", (4, 24)), ("leanprover/lean4:v4.9.0-rc1", (4, 9)), ("nightly", None)],
)
def test_toolchain_versions(text: str, version: tuple[int, int] | None) -> None:
    assert parse_toolchain_version(text) == version


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


def test_cli_without_command_prints_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "lean_copilot_py"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "serve" in proc.stdout and "doctor" in proc.stdout and "bench" in proc.stdout


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
