"""`lean-copilot prove --write` against the real prelude Lean 4.35: settings point `lean.server_command` at
`lean --server`, the model is the scripted OpenAI-compatible server (prelude Lean has no tactics, so the
automation portfolio cannot prove anything there), and every proof and the whole-file check before saving
are Lean's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_copilot_py.testing.fake_openai import FakeOpenAI
from tests.batch.conftest import isolated, run_cli
from tests.real_lean import RealLean, prelude_file

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(120)]

A = "theorem a (x : N) : Eq (N.add x N.z) x := sorry"
B = "theorem b : Eq N.one N.two := sorry"


@pytest.fixture
def project(prelude_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolated(prelude_project, monkeypatch, tmp_path)


def configure(project: Path, real_lean: RealLean, model_url: str, tokenizer: Path) -> None:
    (project / ".lean-copilot.toml").write_text(
        "[model]\nbackend = 'openai'\n"
        f"endpoint = {json.dumps(model_url)}\nname = 'fake-model'\ntokenizer = {json.dumps(str(tokenizer))}\n"
        f"[lean]\nserver_command = {json.dumps(real_lean.server_command())}\n"
        "check_timeout_s = 30\nstartup_timeout_s = 60\nslots = 2\n"
        "[search]\nautomation = []\nattempts = 1\ncache = false\ndeadline_s = 60\nmax_tokens = 2048\n"
        f"[paths]\ncache_dir = {json.dumps(str(project.parent / 'cache'))}\n",
        encoding="utf-8",
    )


def final(code: str) -> str:
    return f"</think>\nThe proof:\n```lean4\n{code}\n```"


# `a`'s prompt (the file up to `a`) never mentions `b`; `b`'s prompt holds the whole file, `a` included.
ONLY_A = r"\A(?![\s\S]*theorem b\b)[\s\S]*theorem a\b"
ONLY_B = r"theorem b\b"


async def test_write_checks_the_whole_file_with_lean_then_writes(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    path = project / "Prelude" / "Goals.lean"
    path.write_text(prelude_file(A, B), encoding="utf-8")
    scripts = [
        {"match": ONLY_A, "turns": [final("theorem a (x : N) : Eq (N.add x N.z) x := Eq.refl")]},
        {"match": ONLY_B, "turns": [final("theorem b : Eq N.one N.two := Eq.refl")]},  # false: Lean refuses it
    ]
    async with FakeOpenAI({"scripts": scripts}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, out, err = await run_cli("prove", ["Prelude/Goals.lean", "--write", "--report", "r.json"])
    assert code == 1, err  # b is still open
    written = path.read_text(encoding="utf-8")
    assert written == prelude_file(A.replace("sorry", "Eq.refl"), B)
    assert "+theorem a (x : N) : Eq (N.add x N.z) x := Eq.refl" in out
    report = json.loads((project / "r.json").read_text())
    assert {t["declaration"]: t["outcome"] for t in report["targets"]} == {"a": "proved", "b": "failed"}
    assert report["files"]["Prelude/Goals.lean"]["status"] == "written"
    # What was written elaborates: the only errors left are prelude's "internal exception #3" at b's `sorry`.
    done = real_lean.run(path)
    errors = [ln for ln in done.stdout.splitlines() if ": error:" in ln]
    b_line = written.split("\n").index(B) + 1
    assert errors and all(f":{b_line}:" in ln and "internal exception #3" in ln for ln in errors), done.stdout


async def test_write_refused_when_the_whole_file_gets_a_new_error(
    project: Path, real_lean: RealLean, tiny_tokenizer_dir: Path
) -> None:
    """The proof of `a` checks on its own (its shadow ends at `a`), but its helper `aux` collides with a
    declaration further down the file: only the whole-file check can see that, and the file stays as it was."""
    path = project / "Prelude" / "Goals.lean"
    original = prelude_file(A, "theorem aux : True := True.intro")
    path.write_text(original, encoding="utf-8")
    answer = "theorem aux (x : N) : Eq (N.add x N.z) x := Eq.refl\n\ntheorem a (x : N) : Eq (N.add x N.z) x := aux x"
    async with FakeOpenAI({"scripts": [{"turns": [final(answer)]}]}, tokenizer_dir=tiny_tokenizer_dir) as model:
        configure(project, real_lean, model.url, tiny_tokenizer_dir)
        code, _out, err = await run_cli("prove", ["Prelude/Goals.lean", "--write", "--report", "r.json"])
    assert code == 4, err
    assert path.read_text(encoding="utf-8") == original
    report = json.loads((project / "r.json").read_text())
    assert report["targets"][0]["outcome"] == "proved"
    record = report["files"]["Prelude/Goals.lean"]
    assert record["status"] == "check-failed"
    assert "already been declared" in record["detail"]
