"""Resource limits through the Engine (fake Lean + fake OpenAI server + StepFun family):
a Lean check that eats time is stopped at lean.check_timeout_s and reported (to the user and to the
model, in StepFun's own words), and the slot is usable afterwards; a model that never closes its sketch
is cut at its token budget (max_tokens per call, context_tokens per attempt)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.targets import enclosing_declaration
from lean_copilot_py.core.types import Candidate, Outcome, Pos
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.settings import Settings
from lean_copilot_py.testing.fake_openai import FakeOpenAI
from lean_copilot_py.testing.lean_script import Rule, Script, fake_lean_command, proved, write_script
from tests.fakes.lake_project import make_lake_project

TEXT = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
STATEMENT = "theorem foo (n : Nat) : n + 0 = n"

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_lake_project(tmp_path / "proj", {"Foo.lean": TEXT})


def make_settings(tmp_path: Path, script: Script, **search: object) -> Settings:
    path = write_script(tmp_path / "script.json", script)
    return Settings.model_validate({
        "search": {"deadline_s": 30, "attempts": 1, "automation": [], "cache": False, **search},
        "lean": {"server_command": fake_lean_command(path), "check_timeout_s": 1, "startup_timeout_s": 20,
                 "slots": 1},
        "paths": {"cache_dir": str(tmp_path / "cache")},
        "model": {"backend": "none"},
    })


async def _engine_with_model(tmp_path: Path, script: Script, srv: FakeOpenAI, tok_dir: Path, **search: object):
    from lean_copilot_py.models.families import build_family
    from lean_copilot_py.models.openai_backend import OpenAIGenerator
    from lean_copilot_py.models.tokenizer import load_tokenizer

    gen = OpenAIGenerator(srv.url, "fake-model", load_tokenizer(str(tok_dir)))
    return Engine(make_settings(tmp_path, script, **search), generator=gen, family=build_family("stepfun"))


async def test_a_hanging_check_is_stopped_and_reported(tmp_path: Path, proj: Path) -> None:
    script = Script(rules=[Rule(pattern=r"\bspin\b", hang=True), proved(r"\bomega\b")])
    engine = Engine(make_settings(tmp_path, script))
    target = enclosing_declaration(proj / "Foo.lean", TEXT, Pos(0, 8))
    try:
        t0 = time.monotonic()
        verdict = await engine.verify(target, Candidate(proof="by\n  spin"))
        took = time.monotonic() - t0
        assert verdict.outcome is Outcome.TIMEOUT and "within 1 s" in verdict.reason, verdict
        assert took < 1 + 5  # the check's budget, plus starting the fake server once
        # The stuck slot is replaced: the next check in the same (single) slot still gets an answer.
        again = await engine.verify(target, Candidate(proof="by\n  omega"))
        assert again.proved, again
    finally:
        await engine.aclose()


async def test_a_hanging_sketch_is_reported_to_the_model_and_the_search_goes_on(
    tmp_path: Path, proj: Path, tiny_tokenizer_dir: Path
) -> None:
    script = Script(rules=[Rule(pattern=r"\bspin\b", hang=True), proved(r"\bomega\b")])
    turns = [f"Try.\n<sketch>\n{STATEMENT} := by\n  spin\n</sketch>",
             f"</think>\n```lean4\n{STATEMENT} := by\n  omega\n```"]
    async with FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": [turns]}, tokenizer_dir=tiny_tokenizer_dir) as srv:
        engine = await _engine_with_model(tmp_path, script, srv, tiny_tokenizer_dir)
        try:
            res = await engine.search(enclosing_declaration(proj / "Foo.lean", TEXT, Pos(0, 8)))
        finally:
            await engine.aclose()
    assert res.status is SearchStatus.PROVED, res.reason
    second = srv.requests[1].prompt_text
    assert "repl cannot return status in 1 seconds!" in second  # StepFun's own timeout feedback


@pytest.mark.parametrize(("max_tokens", "context_tokens"), [(40, 20480), (16384, 400)])
async def test_a_sketch_that_never_closes_is_cut_at_the_budget(
    tmp_path: Path, proj: Path, tiny_tokenizer_dir: Path, max_tokens: int, context_tokens: int
) -> None:
    endless = "<sketch>\n" + "have h := rfl\n  " * 2000  # never `</sketch>`, never EOS before the cut
    async with FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": [[endless]]}, tokenizer_dir=tiny_tokenizer_dir) as srv:
        engine = await _engine_with_model(tmp_path, Script(), srv, tiny_tokenizer_dir, max_tokens=max_tokens,
                                          context_tokens=context_tokens)
        try:
            t0 = time.monotonic()
            res = await engine.search(enclosing_declaration(proj / "Foo.lean", TEXT, Pos(0, 8)))
            took = time.monotonic() - t0
        finally:
            await engine.aclose()
    assert res.status is SearchStatus.FAILED and took < 20, (res.status, res.reason, took)
    assert len(srv.requests) == 1  # no endless continuation of a cut-off sketch
    (req,) = srv.requests
    prompt_tokens = len(req.prompt_ids if req.prompt_ids is not None else srv.tok.encode(req.prompt_text))
    assert req.finish_reason == "length"
    assert req.body["max_tokens"] <= max_tokens and prompt_tokens + req.body["max_tokens"] <= context_tokens
    assert len(req.output_ids) == req.body["max_tokens"]
