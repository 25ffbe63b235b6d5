from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from lean_copilot_py.batch.command import prove as command_prove
from lean_copilot_py.batch.command import run_prove
from lean_copilot_py.cli import _build_parser
from lean_copilot_py.testing.fake_engine import FakeEngine
from tests.fakes.lake_project import make_lake_project, trust_projects

BASIC = """-- test file (a line comment: the fake Lean server merges a `/-! -/` module doc into the next command)

namespace T

theorem a (n : Nat) : n + 0 = n := by
  sorry

theorem b (n : Nat) : 2 * n = n + n := by
  sorry

end T
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny Lake project, trusted by an isolated user config (its .lean-copilot.toml names the fake Lean
    server); the environment's LEAN_COPILOT_* variables are removed so only the project's settings apply."""
    return isolated(make_lake_project(tmp_path / "proj", {"P/Basic.lean": BASIC}, name="p"), monkeypatch, tmp_path)


def isolated(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``root`` as the working folder of a run that sees only its own settings: an isolated user config that trusts
    it (its .lean-copilot.toml sets privileged keys: the Lean server, the model endpoint), and no LEAN_COPILOT_*
    variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    for name in [k for k in os.environ if k.startswith("LEAN_COPILOT_")]:
        monkeypatch.delenv(name)
    trust_projects(tmp_path / "cfg", root)
    monkeypatch.chdir(root)
    return root


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


async def run_cli(command: str, argv: list[str]) -> tuple[int, str, str]:
    """`lean-copilot COMMAND ARGV…` (prove or repair) with the real engine its settings build: exit code, stdout,
    stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = await command_prove(_build_parser().parse_args([command, *argv]), out, err)
    return code, out.getvalue(), err.getvalue()


def prove(argv: list[str], engine: FakeEngine | None = None) -> Run:
    args = _build_parser().parse_args(["prove", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = run_prove(args, out, err, engine if engine is not None else FakeEngine())
    return Run(code, out.getvalue(), err.getvalue())
