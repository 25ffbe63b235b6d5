"""`lean-copilot prove --write` with `kimina.enabled`, end to end: the fake OpenAI model proposes proofs, the
real Kimina Lean Server (tests/kimina_server.py, REPLs answering with the real prelude Lean) checks each
candidate and then the whole file before it is saved. No Lean on the local machine at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.lake_project import make_lake_project, trust_projects
from tests.kimina_server import prisma_client_ready, running_kimina
from tests.real_lean import RealLean

pytestmark = pytest.mark.real_lean

FAKE_OPENAI = Path(__file__).resolve().parents[2] / "lean_copilot_py" / "testing" / "fake_openai.py"
A = "theorem a (x : N) : Eq (N.add x N.z) x"
B = "theorem b : Eq N.one N.two"
BASIC = f"""import Prelude.Basic

namespace T

{A} := sorry

{B} := sorry

end T
"""


def _answer(statement: str, proof: str) -> str:
    return f"Done.\n</think>\n```lean4\n{statement} := {proof}\n```"


def test_prove_write_through_the_real_kimina_server(
    real_lean: RealLean, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lean_copilot_py.cli import main
    from lean_copilot_py.models.tiny_tokenizer import build_tiny_tokenizer

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    for name in [k for k in __import__("os").environ if k.startswith("LEAN_COPILOT_")]:
        monkeypatch.delenv(name)
    prisma_client_ready()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no lake, no lean: Kimina needs none locally
    tokenizer = tmp_path / "tokenizer"
    build_tiny_tokenizer().save_pretrained(tokenizer)
    script = tmp_path / "model.json"
    script.write_text(json.dumps({"model": "fake-model", "scripts": [
        {"match": "Eq N.one N.two", "turns": [_answer(B, "Eq.refl")]},  # wrong: Lean refuses it
        {"match": r"Eq \(N.add x N.z\) x", "turns": [_answer(A, "Eq.refl")]},
    ]}))
    model = subprocess.Popen([sys.executable, str(FAKE_OPENAI), "--port", "0", "--script", str(script),
                              "--tokenizer", str(tokenizer)], stdout=subprocess.PIPE, text=True)
    try:
        assert model.stdout is not None
        model_url = model.stdout.readline().strip()
        with running_kimina(real_lean, tmp_path / "kimina") as server:
            project = make_lake_project(tmp_path / "proj", {"P/Basic.lean": BASIC}, name="p")
            trust_projects(tmp_path / "cfg", project)  # its .lean-copilot.toml sets privileged keys
            monkeypatch.chdir(project)
            (project / ".lean-copilot.toml").write_text(
                f"[model]\nbackend = 'openai'\nendpoint = {json.dumps(model_url)}\nname = 'fake-model'\n"
                f"tokenizer = {json.dumps(str(tokenizer))}\n"
                f"[kimina]\nenabled = true\nurl = {json.dumps(server.url)}\n"
                f"[lean]\ncheck_timeout_s = 20\n"
                f"[search]\nautomation = []\nattempts = 1\ncache = false\n"
                f"[paths]\ncache_dir = {json.dumps(str(tmp_path / 'cache'))}\n")
            code = main(["prove", "P", "--write", "--report", "r.json"])
            checked = [r["cmd"] for r in server.repl_requests()]
    finally:
        model.terminate()
        model.wait(10)
    err = capsys.readouterr().err
    assert code == 1, err  # b stays unproved
    text = (project / "P/Basic.lean").read_text()
    assert f"{A} := Eq.refl" in text and f"{B} := sorry" in text
    rep = json.loads((project / "r.json").read_text())
    assert rep["files"]["P/Basic.lean"]["status"] == "written"
    assert sorted(t["outcome"] for t in rep["targets"]) == ["failed", "proved"]
    # The saved file was checked whole by the server before it was written.
    assert any(f"{A} := Eq.refl" in c and f"{B} := sorry" in c and "#print axioms" not in c for c in checked)
