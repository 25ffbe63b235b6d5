"""`prove --write` on files a plain rename would mistreat: read-only files and hard links are refused
(exit 4, the diff still printed); a symbolic link is followed only to a file of the same Lake project (the
target is written, the link stays a link); a CRLF file gets CRLF lines in a multi-line proof."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from lean_copilot_py.testing.fake_engine import FakeEngine
from tests.fakes.lake_project import make_lake_project

from .conftest import BASIC, prove

PROVED = BASIC.replace("sorry", "simp", 1).replace("sorry", "omega", 1)


def _engine() -> FakeEngine:
    return FakeEngine(proofs={"a": "by\n  simp", "b": "by\n  omega"})


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o555], ids=["0444", "0400", "0555"])
def test_a_read_only_file_is_refused_and_kept(project: Path, mode: int) -> None:
    f = project / "P/Basic.lean"
    os.chmod(f, mode)
    try:
        run = prove(["P", "--write", "--report", "r.json"], _engine())
        assert run.code == 4
        assert f.read_text() == BASIC and stat.S_IMODE(f.stat().st_mode) == mode
        assert "-  sorry\n+  simp\n" in run.out  # the proofs are still shown
        assert f"P/Basic.lean: NOT written (refused): the file is read-only (mode {mode:04o})" in run.err
        assert json.loads((project / "r.json").read_text())["files"]["P/Basic.lean"]["status"] == "refused"
        assert sorted(p.name for p in f.parent.iterdir()) == ["Basic.lean"]  # no temp file left behind
    finally:
        os.chmod(f, 0o644)


def test_a_hard_linked_file_is_refused_and_both_names_kept(project: Path) -> None:
    f = project / "P/Basic.lean"
    other = project / "Other.lean.bak"
    os.link(f, other)
    run = prove(["P/Basic.lean", "--write"], _engine())
    assert run.code == 4
    assert f.read_text() == BASIC and other.read_text() == BASIC
    assert f.stat().st_ino == other.stat().st_ino and f.stat().st_nlink == 2  # still one file
    assert "-  sorry\n+  simp\n" in run.out
    assert "NOT written (refused): the file has 2 hard links" in run.err


def test_a_symlink_into_the_same_project_writes_its_target(project: Path) -> None:
    real = project / "P/Basic.lean"
    link = project / "P/Link.lean"
    os.symlink("Basic.lean", link)
    eng = _engine()
    run = prove(["P/Link.lean", "--write"], eng)
    assert run.code == 0, run.err
    assert link.is_symlink() and os.readlink(link) == "Basic.lean"  # the link is still a link ...
    assert real.read_text() == PROVED  # ... to the written file
    assert {t.path for t in eng.searched} == {real.resolve()}
    assert "P/Basic.lean: written (through the symbolic link P/Link.lean, which still points to it)." in run.err


def test_a_folder_with_a_symlink_to_its_own_file_processes_the_file_once(project: Path) -> None:
    os.symlink("Basic.lean", project / "P/Alias.lean")
    eng = _engine()
    run = prove(["P", "--write"], eng)
    assert run.code == 0, run.err
    assert len(eng.searched) == 2 and (project / "P/Basic.lean").read_text() == PROVED


@pytest.mark.parametrize("named", ["the-link", "its-folder"])
def test_a_symlink_out_of_the_project_is_refused(project: Path, tmp_path: Path, named: str) -> None:
    elsewhere = make_lake_project(tmp_path / "other", {"Q/Far.lean": BASIC}, name="q")
    far = elsewhere / "Q/Far.lean"
    link = project / "P/Far.lean"
    os.symlink(far, link)
    eng = _engine()
    run = prove(["P/Far.lean" if named == "the-link" else "P", "--write", "--report", "r.json"], eng)
    assert run.code == 4
    assert far.read_text() == BASIC and link.is_symlink()
    assert all(t.path != far.resolve() for t in eng.searched)  # Lean never ran on it, in any folder
    assert f"P/Far.lean: a symbolic link to {far.resolve()}, which is not in this Lake project" in run.err
    if named == "its-folder":  # the project's own file is still done, and the report says what was refused
        assert (project / "P/Basic.lean").read_text() == PROVED
        files = json.loads((project / "r.json").read_text())["files"]
        assert files["P/Far.lean"]["status"] == "refused"
        assert "P/Far.lean: NOT written (refused)" in run.err


def test_a_crlf_file_gets_crlf_lines(project: Path) -> None:
    f = project / "P/Basic.lean"
    f.write_bytes(BASIC.replace("\n", "\r\n").encode())
    engine = FakeEngine(proofs={"a": "by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp", "b": "by omega"},
                        helpers="theorem helper : True := by\n  trivial")
    run = prove(["P", "--write"], engine)
    assert run.code == 0, run.err
    data = f.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")  # no bare LF anywhere
    text = data.decode()
    assert "theorem a (n : Nat) : n + 0 = n := by\r\n  induction n with\r\n  | zero => rfl\r\n" in text
    assert "theorem helper : True := by\r\n  trivial\r\n\r\ntheorem a" in text


@pytest.mark.real_lean
async def test_a_crlf_file_written_back_elaborates_in_real_lean(real_lean, prelude_project: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from lean_copilot_py.batch import command
    from lean_copilot_py.cli import _build_parser
    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.settings import LeanSettings
    from tests.real_lean import prelude_file

    monkeypatch.setenv("XDG_CONFIG_HOME", str(prelude_project / "xdg"))
    path = prelude_project / "Prelude" / "Target.lean"
    path.write_bytes(prelude_file("theorem add_zero' (a : N) : Eq (N.add a N.z) a :=\n  sorry").replace(
        "\n", "\r\n").encode())
    checker = LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), slots=1))
    err = io.StringIO()
    try:
        # The proof is scripted; the whole-file check before the write is real Lean's.
        engine = FakeEngine(proofs={"add_zero'": "@Eq.refl\n  N\n  a"}, helpers="def two : N :=\n  N.s (N.s N.z)",
                            document_checker=checker.check_document)
        code = await command.prove(_build_parser().parse_args(["prove", str(path), "--write"]), io.StringIO(), err,
                                   engine)
    finally:
        await checker.aclose()
    assert code == 0, err.getvalue()
    data = path.read_bytes()
    assert b":= @Eq.refl\r\n  N\r\n  a\r\n" in data and b"def two : N :=\r\n  N.s (N.s N.z)\r\n\r\ntheorem" in data
    assert data.count(b"\n") == data.count(b"\r\n")
    done = real_lean.run(path)  # the written file, as Lean reads it from disk
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
