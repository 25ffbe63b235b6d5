"""The Engine end to end over the real seams' doubles: LeanChecker on the scripted fake Lean server,
OpenAIGenerator on the scripted OpenAI-compatible server with the tiny tokenizer, the StepFun family,
targets read from text, real screening and pinning."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.targets import enclosing_declaration
from lean_copilot_py.core.types import Pos
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.settings import Settings
from lean_copilot_py.testing.lean_script import Diag, Rule, Script, error, fake_lean_command, proved, write_script
from tests.fakes.lake_project import make_lake_project

TEXT = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    # Only the tokenizer is needed here: skip building the random-weight model (torch is slow to load).
    from lean_copilot_py.models.tiny_tokenizer import build_tiny_tokenizer

    path = tmp_path_factory.mktemp("tiny")
    build_tiny_tokenizer().save_pretrained(path)
    return path


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_lake_project(tmp_path / "proj", {"Foo.lean": TEXT})


def make_settings(tmp_path: Path, script: Script, **search) -> Settings:
    script_path = write_script(tmp_path / "script.json", script)
    search.setdefault("attempts", 1)
    return Settings.model_validate({
        "search": {"deadline_s": 60, **search},
        "lean": {"server_command": fake_lean_command(script_path), "check_timeout_s": 10, "startup_timeout_s": 20},
        "paths": {"cache_dir": str(tmp_path / "cache")},
        "model": {"backend": "none"},
    })


async def test_exact_query_round_trip_through_fake_lean(tmp_path, proj):
    script = Script(rules=[proved(r"exact Nat\.add_zero n")], try_this={"exact?": "exact Nat.add_zero n"})
    engine = Engine(make_settings(tmp_path, script, automation=["rfl", "exact?"]))
    try:
        target = enclosing_declaration(proj / "Foo.lean", TEXT, Pos(0, 8))
        res = await engine.search(target)
        assert res.status is SearchStatus.PROVED, res.reason
        assert res.proof.proof.strip().endswith("exact Nat.add_zero n") and res.model_used is False
    finally:
        await engine.aclose()


async def test_timeout_feedback_then_proof_with_stepfun_over_http(tmp_path, proj, tiny_dir):
    from lean_copilot_py.models.families import build_family
    from lean_copilot_py.models.openai_backend import OpenAIGenerator
    from lean_copilot_py.models.tokenizer import load_tokenizer
    from lean_copilot_py.testing.fake_openai import FakeOpenAI

    slow = "(deterministic) timeout at `whnf`, maximum number of heartbeats (200000) has been reached"
    script = Script(rules=[error("slow_tac", slow), proved("omega")],
                    default=Rule(diagnostics=[Diag("unknown tactic", at="body")]))
    turns = [
        "Let me try.\n<sketch>\ntheorem foo (n : Nat) : n + 0 = n := by\n  slow_tac\n</sketch>",
        "</think>\nDifferent approach:\n```lean4\ntheorem foo (n : Nat) : n + 0 = n := by\n  omega\n```",
    ]
    tok = load_tokenizer(str(tiny_dir))
    # The StepFun system prompt itself mentions "<REPL>", so count only the feedback's "<REPL>\n" as turns.
    async with FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": [turns]}, tokenizer_dir=tiny_dir) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tok)
        engine = Engine(make_settings(tmp_path, script, automation=[]), generator=gen, family=build_family("stepfun"))
        try:
            target = enclosing_declaration(proj / "Foo.lean", TEXT, Pos(0, 8))
            res = await engine.search(target)
        finally:
            await engine.aclose()
        assert res.status is SearchStatus.PROVED, res.reason
        assert res.proof.origin == "model:attempt-1:final" and "omega" in res.proof.proof
        first, second = srv.requests
        assert second.prompt_kind == "ids"  # continued from token ids (prefix cache hits)
        assert second.prompt_ids[: len(first.prompt_ids) + len(first.output_ids)] == first.prompt_ids + first.output_ids
        assert "<REPL>" in tok.decode(second.prompt_ids[len(first.prompt_ids):])
        md = res.transcript_path.read_text()
        assert "slow_tac" in md and "omega" in md


async def test_model_server_down_with_real_backend(tmp_path, proj, tiny_dir):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Script(rules=[error(None, "omega could not prove the goal")])
    settings = make_settings(tmp_path, script, automation=["omega"], attempts=2)
    settings = settings.model_copy(update={"model": settings.model.model_copy(update={
        "backend": "openai", "endpoint": f"http://127.0.0.1:{port}/v1", "tokenizer": str(tiny_dir)})})
    engine = Engine(settings)
    try:
        target = enclosing_declaration(proj / "Foo.lean", TEXT, Pos(0, 8))
        res = await engine.search(target)
    finally:
        await engine.aclose()
    assert res.status is SearchStatus.FAILED and res.model_used is False
    assert "model unavailable" in res.reason and str(port) in res.reason and "automation only" in res.reason
    assert res.stats.automation_tried == 1
