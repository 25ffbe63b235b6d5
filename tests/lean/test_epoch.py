"""The checker's environment epoch (what core/sharing.py keys its memo by): it changes when imports were rebuilt,
when the server was replaced, and when a project Lean file was edited; not otherwise."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace

from lean_copilot_py.core.types import Candidate
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.lean.epoch import SourceStamp, fingerprint
from lean_copilot_py.settings import LeanSettings
from lean_copilot_py.testing.lean_script import Rule, Script, proved
from tests.helpers import make_target

TEXT = "import Std\n\ntheorem t (n : Nat) : n + 0 = n := by\n  sorry\n"


async def until_changed(stamp: SourceStamp, before: int) -> int:
    for _ in range(500):
        now = stamp.generation()
        if now != before:
            return now
        await asyncio.sleep(0.01)
    raise AssertionError("the edit was never seen")


async def scanned(stamp: SourceStamp) -> None:
    stamp.generation()
    for _ in range(500):
        if stamp._scan is None and stamp._digest is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no scan finished")


def test_fingerprint_sees_lean_files_only_outside_build_folders(tmp_path: Path) -> None:
    (tmp_path / "A.lean").write_text("x")
    base = fingerprint(tmp_path)
    (tmp_path / ".lake").mkdir()
    (tmp_path / ".lake" / "B.lean").write_text("y")
    (tmp_path / "notes.txt").write_text("z")
    assert fingerprint(tmp_path) == base
    (tmp_path / "Sub").mkdir()
    (tmp_path / "Sub" / "C.lean").write_text("w")
    assert fingerprint(tmp_path) != base


async def test_an_edited_project_file_changes_the_generation(tmp_path: Path) -> None:
    lean_file = tmp_path / "A.lean"
    lean_file.write_text("def a := 1\n")
    stamp = SourceStamp(tmp_path, interval_s=0.0)
    await scanned(stamp)
    gen = stamp.generation()
    await scanned(stamp)
    assert stamp.generation() == gen  # nothing changed: no new generation
    lean_file.write_text("def a := 2\n")
    st = lean_file.stat()
    os.utime(lean_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    assert await until_changed(stamp, gen) == gen + 1
    stamp.close()


async def test_rebuilt_imports_change_the_epoch_once(tmp_path: Path) -> None:
    checker = LeanChecker(tmp_path, LeanSettings())
    pool = checker.slots.pool_for(TEXT)
    slot = pool._new_slot(extra=False)
    slot.doc = SimpleNamespace(stale_imports=False)
    epoch = checker.environment_epoch
    assert checker.environment_epoch == epoch
    slot.doc.stale_imports = True  # what leanclient records on $/lean/staleDependency
    assert checker.environment_epoch == epoch + 1
    assert checker.environment_epoch == epoch + 1  # counted once per document
    await checker.aclose()


async def test_a_replaced_server_changes_the_epoch(make_checker) -> None:
    checker = await make_checker(Script(rules=[Rule(pattern=r"die", exit_server=True), proved(r"simp")]))
    target = make_target(TEXT, "t")
    assert (await checker.check(target, Candidate("by\n  simp"))).proved
    epoch = checker.environment_epoch
    await checker.check(target, Candidate("by\n  die"))
    assert (await checker.check(target, Candidate("by\n  simp -- again"))).proved
    assert checker.restarts == 1 and checker.environment_epoch > epoch
