"""`repair --skeletons --write` against the real Lean 4.35 with the stand-in Init (tests/fixtures/sorry_init:
prelude Lean's `sorry` needs Init): the broken proof's repair comes back from the scripted model as a sketch with a
`sorry`, which Lean verifies as a skeleton; it replaces the broken proof, its sorry becomes a target of the same
run, and once that is filled the declaration ends repaired and the file checks as a whole with no error. The text
outside the replaced proof is byte for byte the user's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_copilot_py.testing.fake_openai import FakeOpenAI
from tests.batch.conftest import isolated, run_cli
from tests.batch.test_prove_real_lean import final
from tests.batch.test_prove_skeletons_real_lean import HOLE, STATEMENT, _check_document, built, configure
from tests.real_lean import RealLean

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(240)]
__all__ = ["built"]  # the module's built project (a fixture)

BROKEN = f"{STATEMENT} := N.z"
TEXT = f"""import Prelude.Basic

axiom And (a b : Prop) : Prop
axiom And.intro {{a b : Prop}} : a → b → And a b

theorem fine : Eq N.one N.one := Eq.refl

{BROKEN}

theorem after : Eq N.two N.two := Eq.refl
"""
# StepFun's repair prompt holds the user's proof and Lean's error as turn 0: the model's first words are turn 1.
REPAIR = {"match": r"theorem two \(a : N\) : And[^\n]*:= N\.z",
          "turns": ["", f"Let me check.\n<sketch>\n{STATEMENT} := And.intro Eq.refl sorry\n</sketch>",
                    "I cannot finish this."]}


@pytest.fixture
def project(built: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolated(built, monkeypatch, tmp_path)
    (built / "Prelude" / "Skeleton.lean").write_text(TEXT, encoding="utf-8")
    return built


async def test_a_repairs_skeleton_replaces_the_broken_proof_and_its_sorry_is_filled(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Skeleton.lean"
    scripts = [REPAIR, {"match": HOLE, "turns": [final(f"{HOLE.replace(chr(92), '')} := Eq.refl")]}]
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli(
            "repair", ["Prelude/Skeleton.lean", "--skeletons", "--write", "--report", "r.json"]
        )
    assert code == 0, err
    written = path.read_text(encoding="utf-8")
    assert written == TEXT.replace(BROKEN, f"{STATEMENT} := And.intro Eq.refl Eq.refl")  # nothing else moved
    assert f"-{BROKEN}" in out
    report = json.loads((project / "r.json").read_text())
    (top,) = [t for t in report["targets"] if not t["depth"]]
    (hole,) = [t for t in report["targets"] if t["depth"]]
    assert top["kind"] == "repair" and top["outcome"] == "proved" and top["skeleton"] == "And.intro Eq.refl sorry"
    assert top["proof"] == "And.intro Eq.refl Eq.refl"
    assert hole["outcome"] == "proved" and hole["parent"] == "two/repair/0"
    assert report["files"]["Prelude/Skeleton.lean"]["status"] == "written"
    assert "1/1 declarations repaired, 0 not repaired" in err
    assert "Skeleton sorries: 1 of 1 filled with verified proofs." in err
    assert await _check_document(project, real_lean, written) == "proved"


async def test_an_unfilled_sorry_leaves_the_skeleton_in_place_of_the_broken_proof(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Skeleton.lean"
    scripts = [REPAIR, {"match": HOLE, "turns": [final(f"{HOLE.replace(chr(92), '')} := Eq.symm")]}]  # refused
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, _out, err = await run_cli(
            "repair", ["Prelude/Skeleton.lean", "--skeletons", "--write", "--report", "r.json"]
        )
    assert code == 1, err
    written = path.read_text(encoding="utf-8")
    assert written == TEXT.replace(BROKEN, f"{STATEMENT} := And.intro Eq.refl sorry")
    assert "0/1 declarations repaired, 1 skeleton (1 sorry left), 0 not repaired" in err
    # Lean accepts the written file but for that sorry: no error anywhere.
    assert await _check_document(project, real_lean, written) == "incomplete"


async def test_without_the_flag_the_broken_proof_stays(project: Path, real_lean: RealLean,
                                                       tiny_tokenizer_dir: Path) -> None:
    path = project / "Prelude" / "Skeleton.lean"
    async with FakeOpenAI({"scripts": [REPAIR]}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli("repair", ["Prelude/Skeleton.lean", "--write", "--report", "r.json"])
    assert code == 1, err
    assert path.read_text(encoding="utf-8") == TEXT and out == ""
    (top,) = json.loads((project / "r.json").read_text())["targets"]
    assert top["outcome"] == "failed" and top["skeleton"] is None
    assert "0/1 declarations repaired, 1 not repaired" in err
