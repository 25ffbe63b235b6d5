"""Finding the Lake project of a file and its toolchain version (lean_copilot_py/project.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.project import discover, find_lake_root, parse_toolchain_version


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
