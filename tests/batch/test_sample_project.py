"""The sample Lake project (lean-project/): its targets as the real finder sees them, a full --write run
with the scripted engine, and (with a Lean toolchain) the real thing."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from lean_copilot_py.batch.command import run_prove
from lean_copilot_py.cli import _build_parser
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.testing.fake_engine import FakeEngine

SAMPLE = Path(__file__).resolve().parents[2] / "lean-project"
# What core Lean's automation (omega / decide / simp) should close on its own; the rest needs a model.
AUTOMATION_EASY = {"add_zero'", "two_mul'", "lt_succ'", "int_sub_self", "sum_bound", "exists_gt", "length_append'",
                   "reverse_reverse'", "mod_two_cases", "linear_solution", "div_seven", "mod_sum", "int_system"}


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    dst = tmp_path / "lean-project"
    shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns(".lake", "build"))
    monkeypatch.chdir(dst)
    return dst


def test_sample_targets() -> None:
    names = [t.decl_name for f in sorted((SAMPLE / "LeanProject").glob("*.lean"))
             for t in find_targets(f, f.read_text(encoding="utf-8"))]
    assert len(names) == 16 and len(set(names)) == 16
    assert AUTOMATION_EASY < set(names)


def test_sample_write_all(sample: Path) -> None:
    names = {t.decl_name for f in (sample / "LeanProject").glob("*.lean")
             for t in find_targets(f, f.read_text(encoding="utf-8"))}
    eng = FakeEngine(proofs={n: "by omega" for n in names})

    args = _build_parser().parse_args(["prove", ".", "--write", "--report", "r.json"])
    code = run_prove(args, io.StringIO(), io.StringIO(), eng)
    assert code == 0
    for f in (sample / "LeanProject").glob("*.lean"):
        assert find_targets(f, f.read_text(encoding="utf-8")) == [], f
    rep = json.loads((sample / "r.json").read_text())
    written = {name for name, f in rep["files"].items() if f["status"] == "written"}
    assert rep["totals"]["proved"] == 16 and rep["files"]["LeanProject.lean"]["status"] == "unchanged"
    assert written == {"LeanProject/Basic.lean", "LeanProject/Lists.lean", "LeanProject/NumberTheory.lean"}


@pytest.mark.lean
@pytest.mark.timeout(900)
def test_sample_with_real_lean(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    from lean_copilot_py.cli import main

    subprocess.run(["lake", "build"], cwd=sample, check=True, capture_output=True, timeout=600)
    code = main(["prove", ".", "--no-model", "--report", "r.json"])
    assert code in (0, 1), capsys.readouterr().err
    rep = json.loads((sample / "r.json").read_text())
    proved = {t["declaration"].split(".")[-1] for t in rep["targets"] if t["outcome"] == "proved"}
    assert len(proved & AUTOMATION_EASY) >= 10, proved
