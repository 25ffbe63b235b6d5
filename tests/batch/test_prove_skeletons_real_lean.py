"""`prove --skeletons --write` against the real Lean 4.35 with the stand-in Init (tests/fixtures/sorry_init:
prelude Lean's `sorry` needs Init): the model's sketch with a `sorry` is Lean's verified skeleton, it is
re-verified and written, its sorry becomes a target of the same run, and once that is filled the theorem ends as a
proof that Lean checks as a whole. A sorry the model cannot fill stays: the skeleton alone is written, which Lean
accepts but for that sorry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_copilot_py.testing.fake_openai import FakeOpenAI
from tests.batch.conftest import isolated, run_cli
from tests.batch.test_prove_real_lean import final
from tests.core.test_skeleton import DOCUMENT, FILE_AXIOMS, STAND_IN_INIT
from tests.real_lean import RealLean

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(240)]

STATEMENT = "theorem two (a : N) : And (Eq (N.add a N.z) a) (Eq N.two N.two)"
SKETCH = f"Let me check.\n<sketch>\n{STATEMENT} := And.intro Eq.refl sorry\n</sketch>"
PARENT = r"theorem two \(a : N\) : And"
HOLE = r"theorem two \(a : N\) : Eq N\.two N\.two"


@pytest.fixture(scope="module")
def built(real_lean: RealLean, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.kimina_server import build_kimina_project

    return build_kimina_project(tmp_path_factory.mktemp("skeletons") / "proj", real_lean)


@pytest.fixture
def project(built: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolated(built, monkeypatch, tmp_path)
    (built / "Prelude" / "Skeleton.lean").write_text(DOCUMENT, encoding="utf-8")
    return built


def configure(project: Path, real_lean: RealLean, url: str, tokenizer: Path) -> None:
    from tests.kimina_server import BUILD

    command = ["env", f"LEAN_PATH={project / BUILD}", str(real_lean.lean), "--server"]
    allowed = sorted({"propext", "Classical.choice", "Quot.sound"} | FILE_AXIOMS | STAND_IN_INIT)
    (project / ".lean-copilot.toml").write_text(
        "[model]\nbackend = 'openai'\n"
        f"endpoint = {json.dumps(url)}\nname = 'fake-model'\ntokenizer = {json.dumps(str(tokenizer))}\n"
        f"[lean]\nserver_command = {json.dumps(command)}\nallowed_axioms = {json.dumps(allowed)}\n"
        "check_timeout_s = 30\nstartup_timeout_s = 60\nslots = 1\n"
        "[search]\nautomation = []\nattempts = 1\ncache = false\ndeadline_s = 60\nmax_tokens = 2048\n"
        f"[paths]\ncache_dir = {json.dumps(str(project.parent / 'cache'))}\n",
        encoding="utf-8",
    )


async def test_a_skeletons_sorry_is_filled_and_the_theorem_ends_proved(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Skeleton.lean"
    scripts = [{"match": PARENT, "turns": [SKETCH, "I cannot finish this."]},
               {"match": HOLE, "turns": [final(f"{HOLE.replace(chr(92), '')} := Eq.refl")]}]
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, _out, err = await run_cli(
            "prove", ["Prelude/Skeleton.lean", "--skeletons", "--write", "--report", "r.json"]
        )
    assert code == 0, err
    written = path.read_text(encoding="utf-8")
    assert f"{STATEMENT} := And.intro Eq.refl Eq.refl\n" in written
    report = json.loads((project / "r.json").read_text())
    (top,) = [t for t in report["targets"] if not t["depth"]]
    (hole,) = [t for t in report["targets"] if t["depth"]]
    assert top["outcome"] == "proved" and top["skeleton"] == "And.intro Eq.refl sorry"
    assert top["proof"] == "And.intro Eq.refl Eq.refl"
    assert hole["outcome"] == "proved" and hole["kind"] == "skeleton-sorry" and hole["parent"] == "two/declaration/0"
    assert report["files"]["Prelude/Skeleton.lean"]["status"] == "written"
    # The transcript of the first search keeps the skeleton apart from the (absent) proof.
    data = json.loads(Path(top["transcript"]).with_suffix(".json").read_text())
    assert data["proof"] is None and data["skeleton"]["proof"] == "And.intro Eq.refl sorry"
    assert data["skeleton"]["verdict"]["outcome"] == "incomplete"
    document = await _check_document(project, real_lean, written)
    assert document == "proved"


async def test_an_unfilled_sorry_leaves_the_verified_skeleton_written(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Skeleton.lean"
    scripts = [{"match": PARENT, "turns": [SKETCH, "I cannot finish this."]},
               {"match": HOLE, "turns": [final(f"{HOLE.replace(chr(92), '')} := Eq.symm")]}]  # Lean refuses it
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, _out, err = await run_cli(
            "prove", ["Prelude/Skeleton.lean", "--skeletons", "--write", "--report", "r.json"]
        )
    assert code == 1, err
    written = path.read_text(encoding="utf-8")
    assert f"{STATEMENT} := And.intro Eq.refl sorry\n" in written
    assert "0/1 targets proved, 1 skeleton (1 sorry left), 0 not proved" in err
    assert "Skeleton sorries: 0 of 1 filled" in err
    assert await _check_document(project, real_lean, written) == "incomplete"


async def _check_document(project: Path, real_lean: RealLean, text: str) -> str:
    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.settings import LeanSettings
    from tests.kimina_server import BUILD

    command = ["env", f"LEAN_PATH={project / BUILD}", str(real_lean.lean), "--server"]
    checker = LeanChecker(project, LeanSettings(server_command=command, slots=1))
    try:
        verdict = await checker.check_document(project / "Prelude" / "Skeleton.lean", text)
    finally:
        await checker.aclose()
    assert not [m for m in verdict.messages if m.severity.name == "ERROR"], verdict.messages
    return verdict.outcome.value
