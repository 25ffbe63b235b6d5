"""`lean-copilot repair` against the real prelude Lean 4.35: the whole-document check finds the broken proofs,
the scripted model (its prompt carrying the user's proof and Lean's real error as the prior turn) repairs them,
every repair is verified by Lean and the file is checked as a whole before it is written; an import failure, a
statement error and a model that writes only garbage leave the file byte for byte as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_copilot_py.testing.fake_openai import FakeOpenAI
from tests.batch.conftest import isolated, run_cli
from tests.batch.test_prove_real_lean import configure, final
from tests.real_lean import RealLean, prelude_file

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(180)]

FINE = "theorem fine : Eq N.one N.one := Eq.refl"
BROKEN = "theorem broken (a : N) : Eq (N.add a N.z) a := N.z"
ALSO = "theorem also : Eq N.two N.two := N.one"
REPAIRED = "theorem broken (a : N) : Eq (N.add a N.z) a := Eq.refl"


@pytest.fixture
def project(prelude_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolated(prelude_project, monkeypatch, tmp_path)


def repair_script(match: str, answer: str) -> dict:
    # StepFun's repair prompt already holds one sketch and its <REPL> answer (the prior turn): the fake server
    # counts that as turn 0, so the model's first words are turn 1.
    return {"match": match, "turns": ["", final(answer)]}


async def test_a_broken_term_proof_is_repaired_from_leans_real_error(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Broken.lean"
    path.write_text(prelude_file(FINE, BROKEN, ALSO), encoding="utf-8")
    scripts = [repair_script(r"theorem broken\b[^\n]*:= N\.z", REPAIRED),
               repair_script(r"theorem also\b[^\n]*:= N\.one", "theorem also : Eq N.two N.two := N.z")]  # wrong
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli("repair", ["Prelude/Broken.lean", "--write", "--report", "r.json"])
        prompts = [r.prompt_text for r in model.requests]
    assert code == 1, err  # `also` is not repaired
    assert path.read_text(encoding="utf-8") == prelude_file(FINE, REPAIRED, ALSO)
    assert f"+{REPAIRED}" in out and f"-{BROKEN}" in out
    # The model was shown the user's proof as its own sketch, and Lean's own error about it.
    broken_prompt = next(p for p in prompts if "theorem broken" in p and ":= N.z" in p)
    assert f"<sketch>\n{BROKEN}\n</sketch>" in broken_prompt
    assert "Type mismatch" in broken_prompt and "<REPL>" in broken_prompt
    report = json.loads((project / "r.json").read_text())
    assert report["command"] == "repair"
    outcomes = {t["declaration"]: (t["kind"], t["outcome"]) for t in report["targets"]}
    assert outcomes == {"broken": ("repair", "proved"), "also": ("repair", "failed")}
    assert report["files"]["Prelude/Broken.lean"]["status"] == "written"
    assert "1/2 declarations repaired, 1 not repaired" in err
    assert "not repaired: also" in err
    # What was written elaborates with only `also`'s error left.
    done = real_lean.run(path)
    errors = [ln for ln in done.stdout.splitlines() if ": error:" in ln]
    also_line = prelude_file(FINE, REPAIRED, ALSO).split("\n").index(ALSO) + 1
    assert errors and all(f":{also_line}:" in ln for ln in errors), done.stdout
    # The transcript keeps the original errors, the repair turn and what finally checked.
    broken = next(t for t in report["targets"] if t["declaration"] == "broken")
    data = json.loads(Path(broken["transcript"]).with_suffix(".json").read_text())
    assert data["repair"]["original"] == " N.z"
    assert any(m["text"].startswith("Type mismatch") for m in data["repair"]["messages"])
    assert data["repair"]["checked"]["outcome"] == "failed"
    assert data["proof"]["proof"].strip() == "Eq.refl" and data["attempts"][0]["turns"]


async def test_garbage_from_the_model_leaves_the_file_byte_identical(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Garbage.lean"
    original = prelude_file(BROKEN, ALSO).replace("\n", "\r\n").encode("utf-8")  # CRLF survives too
    path.write_bytes(original)
    scripts = [{"turns": ["", "no code here at all \u0000 }}}"]},
               {"turns": ["", final("theorem broken (a : N) : Eq (N.add a N.z) a := sorry")]},
               {"turns": ["", final("theorem broken (a : N) : Eq N.z N.z := Eq.refl")]}]  # another statement
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        (project / ".lean-copilot.toml").write_text(
            (project / ".lean-copilot.toml").read_text().replace("attempts = 1", "attempts = 3"))
        code, out, err = await run_cli("repair", ["Prelude/Garbage.lean", "--write", "--report", "r.json"])
    assert code == 1, err
    assert path.read_bytes() == original
    assert out == ""
    report = json.loads((project / "r.json").read_text())
    assert {t["outcome"] for t in report["targets"]} == {"failed"}
    assert report["files"]["Prelude/Garbage.lean"]["status"] == "unchanged"
    assert "0/2 declarations repaired, 2 not repaired" in err


async def test_an_import_error_is_reported_not_repaired(project: Path, real_lean: RealLean,
                                                        tiny_tokenizer_dir: Path) -> None:
    path = project / "Prelude" / "Imports.lean"
    original = "prelude\nimport Nonexistent.Module\n\ntheorem x : Eq N.one N.one := N.z\n"
    path.write_text(original, encoding="utf-8")
    async with FakeOpenAI({"scripts": [{"turns": ["", final("theorem x : Eq N.one N.one := Eq.refl")]}]},
                          tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli("repair", ["Prelude/Imports.lean", "--write", "--report", "r.json"])
        assert model.requests == []  # nothing was searched
    assert code == 1, err
    assert path.read_text(encoding="utf-8") == original and out == ""
    report = json.loads((project / "r.json").read_text())
    assert report["targets"] == []
    record = report["files"]["Prelude/Imports.lean"]
    assert record["status"] == "import-error" and "unknown module prefix 'Nonexistent'" in record["detail"]
    assert "its imports failed" in err and "reported as such, not repaired" in err


async def test_statement_errors_are_unrepairable_and_a_clean_file_is_left_alone(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    bad = project / "Prelude" / "Stmt.lean"
    bad_text = prelude_file(FINE, "theorem bad_stmt (a : N) : Eq (N.add a N.bogus) a := Eq.refl")
    bad.write_text(bad_text, encoding="utf-8")
    clean = project / "Prelude" / "Clean.lean"
    clean_text = prelude_file(FINE, REPAIRED)
    clean.write_text(clean_text, encoding="utf-8")
    async with FakeOpenAI({"scripts": [{"turns": ["", final("theorem x : True := True.intro")]}]},
                          tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli(
            "repair", ["Prelude/Stmt.lean", "Prelude/Clean.lean", "--write", "--report", "r.json"]
        )
        assert model.requests == []
    assert code == 1, err
    assert bad.read_text(encoding="utf-8") == bad_text and clean.read_text(encoding="utf-8") == clean_text
    report = json.loads((project / "r.json").read_text())
    assert report["targets"] == []
    (u,) = report["unrepairable"]
    assert u["declaration"] == "bad_stmt" and "statement" in u["reason"] and "N.bogus" in u["reason"]
    assert "unrepairable: bad_stmt" in err
    assert {f["status"] for f in report["files"].values()} == {"unchanged"}
    # The clean file alone: nothing to repair, exit 0.
    async with FakeOpenAI({"scripts": []}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli("repair", ["Prelude/Clean.lean"])
    assert code == 0 and out == "", err
    assert "0/0 declarations repaired" in err
