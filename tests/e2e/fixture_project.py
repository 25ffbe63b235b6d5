"""Copies the e2e fixture project (tests/e2e/fixture) to a temporary directory and resolves the
placeholders of its .lean-copilot.toml, so the server under test runs against the fake Lean server.

Also runnable: `python -m tests.e2e.fixture_project DEST` prints the project as JSON (for manual runs).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lean_copilot_py.testing.lean_script import FAKE_LEAN, load_script
from tests.fakes.lake_project import trust_projects

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
FIXTURE = E2E_DIR / "fixture"
LEAN_FILE = "Fixture.lean"
SORRY_LINE = 4  # 0-based line of the `sorry`
SORRY_CHARACTER = 2

# What the file must hold after "Prove with lean-copilot" at the sorry: the fake Lean server accepts
# only `omega` (lean_script.json), so this is the one verified proof the automation can find.
EXPECTED_PROVED = """/-- A tiny Lake project for the editor end-to-end tests. -/
def double (n : Nat) : Nat := n + n

theorem add_swap (a b : Nat) : a + b = b + a := by
  omega
"""



@dataclass(frozen=True)
class Case:
    """One of the fixture's files and where the user puts the cursor for the action on it."""

    file: str
    line: int  # 0-based
    character: int

    def text(self) -> str:
        return (FIXTURE / self.file).read_text(encoding="utf-8")


PROVE = Case(LEAN_FILE, SORRY_LINE, SORRY_CHARACTER)
FILL_SORRY = Case("OneSorry.lean", 2, 2)
EXPECTED_FILLED_SORRY = """/-- The Quick Fix that fills one hole: the cursor goes on it. -/
theorem add_swap_again (a b : Nat) : a + b = b + a := by
  omega
"""
# Two sorries; lean_script.json lets `omega` prove both.
FILL_ALL = Case("Sorries.lean", 2, 2)
EXPECTED_FILLED_ALL = """/-- Two sorries for "Fill all sorries in this file". -/
theorem swap_add (a b : Nat) : a + b = b + a := by
  omega

theorem swap_add_three (a b c : Nat) : a + (b + c) = c + b + a := by
  omega
"""
# A proof the user has just opened with `by` (the cursor at the end of that line; the user opens a new
# line below it). Of the automation's
# tactics only `omega` checks (lean_script.json), so it is the one suggestion.
INLINE = Case("Inline.lean", 1, len((FIXTURE / "Inline.lean").read_text(encoding="utf-8").splitlines()[1]))
INLINE_SUGGESTION = "omega"
# lean_script.json: Lean never finishes checking `omega` in `slow_swap` (so the search runs until
# cancelled), and its worker crashes on every candidate in `broken_swap` (so the search ends in an error).
SLOW = Case("Slow.lean", 2, 2)
BROKEN = Case("Broken.lean", 2, 2)
# lean_script.json: Lean rejects `exact Nat.add_comm b a` here (a type mismatch, in the proof); with
# server.check_documents on (no Lean extension in the e2e editors) the server's own check finds it and offers
# "Repair this proof"; of the automation only `omega` checks, so it is the repaired proof.
REPAIR = Case("Repair.lean", 2, 4)
REPAIR_BROKEN = "Nat.add_comm b a"
EXPECTED_REPAIRED = """/-- Lean rejects this proof (lean_script.json); "Repair this proof" replaces it. -/
theorem repair_swap (a b : Nat) : a + b = b + a := by
  omega
"""


@dataclass(frozen=True)
class Project:
    root: Path
    lean_file: Path
    fake_lean_log: Path
    env: dict[str, str]  # environment for the editor (and so the server it starts)

    def as_json(self) -> str:
        return json.dumps({"root": str(self.root), "lean_file": str(self.lean_file), "env": self.env})


def server_command() -> list[str]:
    """How the editors start the server under test: this interpreter, so the checkout's package runs."""
    return [sys.executable, "-m", "lean_copilot_py", "serve"]


def make_project(dest: Path) -> Project:
    root = Path(dest).resolve()
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    config = (root / ".lean-copilot.toml").read_text(encoding="utf-8")
    for key, value in {
        "{python}": sys.executable,
        "{fakes}": str(FAKE_LEAN.parent),
        "{project}": str(root),
    }.items():
        config = config.replace(key, value)
    (root / ".lean-copilot.toml").write_text(config, encoding="utf-8")
    tomllib.loads(config)  # fail here, not in the server, if a substitution broke the TOML
    load_script(root / "lean_script.json")
    home = root.parent / (root.name + "-home")
    (home / "config").mkdir(parents=True, exist_ok=True)
    # The project's file names the fake Lean server (a privileged key): the test's user trusts it.
    trust_projects(home / "config", root)
    env = {
        # Keep the developer's ~/.config/lean-copilot/config.toml out of the test.
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    return Project(root, root / LEAN_FILE, root / "fake_lean.log", env)


if __name__ == "__main__":
    print(make_project(Path(sys.argv[1])).as_json())
