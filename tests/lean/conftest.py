"""Fixtures for the checker tests: a throwaway Lake-looking project, the scripted fake Lean server, checkers
on the real prelude Lean (tests/real_lean.py). Targets come from tests/helpers.py:make_target (the real finder)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lean_copilot_py.core.types import Pos, offset_to_pos
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.settings import LeanSettings
from lean_copilot_py.testing.lean_script import Script, fake_lean_command, write_script
from tests.fakes.lake_project import make_lake_project
from tests.real_lean import RealLean


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_lake_project(tmp_path / "proj")


@pytest.fixture
def script_path(tmp_path: Path) -> Path:
    return write_script(tmp_path / "script.json", Script())


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "fake-lean.log.jsonl"


MakeChecker = Callable[..., Awaitable[LeanChecker]]


@pytest.fixture
async def make_checker(project: Path, script_path: Path, log_path: Path) -> AsyncIterator[MakeChecker]:
    made: list[LeanChecker] = []

    async def make(script: Script | None = None, **settings: Any) -> LeanChecker:
        if script is not None:
            write_script(script_path, script)
        settings.setdefault("check_timeout_s", 10.0)
        settings.setdefault("startup_timeout_s", 20.0)
        lean = LeanSettings(server_command=fake_lean_command(script_path, log_path), **settings)
        checker = LeanChecker(project, lean)
        made.append(checker)
        return checker

    yield make
    for checker in made:
        await checker.aclose()


MakeRealChecker = Callable[..., LeanChecker]


@pytest.fixture
async def make_real_checker(real_lean: RealLean, prelude_project: Path) -> AsyncIterator[MakeRealChecker]:
    """``make_real_checker(**lean_settings)``: a LeanChecker on a fresh prelude project, `lean --server`."""
    made: list[LeanChecker] = []

    def make(**settings: Any) -> LeanChecker:
        settings.setdefault("check_timeout_s", 30.0)
        settings.setdefault("startup_timeout_s", 60.0)
        checker = LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), **settings))
        made.append(checker)
        return checker

    yield make
    for checker in made:
        await checker.aclose()


def line_of(snippet: str, needle: str) -> Pos:
    off = snippet.index(needle)
    return offset_to_pos(snippet, off)
