"""A remote endpoint with no local copy of the model: the server's own tokenizer (vLLM's /tokenize, /detokenize)
keeps continuations token-exact; a server without them gets text prompts and text continuations; doctor says which.

The fake server's /tokenize is backed by the tiny model's real tokenizer (lean_copilot_py/testing/fake_tokenize.py,
shaped as vLLM 0.24's vllm/entrypoints/serve/tokenize/protocol.py), so the ids asserted here are real ids of that
vocabulary, compared with the same tokenizer loaded locally."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.targets import enclosing_declaration
from lean_copilot_py.core.types import Pos
from lean_copilot_py.doctor import tokenizer_check
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.models.factory import ModelSetupError, build_tokenizer
from lean_copilot_py.models.fast_tokenizer import FastTokenizer
from lean_copilot_py.models.served_tokenizer import ServedTokenizer, probe_server_tokenizer, server_root
from lean_copilot_py.models.text_prompts import TextPromptTokenizer
from lean_copilot_py.settings import Settings
from lean_copilot_py.testing.fake_openai import FakeOpenAI
from tests.real_lean import RealLean, make_prelude_project, prelude_file

STMT = "theorem add_zero_twice (a : N) : Eq (N.add (N.add a N.z) N.z) a"
TEXT = prelude_file(f"{STMT} := sorry")
# Checked by the real (prelude-only) Lean 4.35: `rfl` doesn't exist there, `Eq.refl` proves it by computation.
TURNS = [
    f"The recursor computes `N.add a N.z` to `a`.\n<sketch>\n{STMT} := rfl\n</sketch>",
    f"`rfl` is not declared here; `Eq.refl` is.\n</think>\n```lean4\n{STMT} := Eq.refl\n```",
]
# The model's name on the server; no folder and no hub cache entry has it, so nothing can be loaded locally.
SERVED = "fake-org/prover-7b"


@pytest.fixture(autouse=True)
def no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    # The hub is out of reach (the laptop offline); SERVED is in no hub cache.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def model_settings(tmp_path: Path, endpoint: str, lean: RealLean | None = None, **model: object) -> Settings:
    return Settings.model_validate({
        "search": {"deadline_s": 60, "attempts": 1, "automation": []},
        "lean": {"server_command": lean.server_command() if lean else None, "check_timeout_s": 30,
                 "startup_timeout_s": 60},
        "paths": {"cache_dir": str(tmp_path / "cache")},
        "model": {"backend": "openai", "endpoint": endpoint, "name": SERVED, **model},
    })


def non_canonical(tok: FastTokenizer, text: str) -> list[int]:
    """The ids of ``text`` with its longest plain token split into one token per character: what a sampling model
    may emit, and what re-tokenizing the text would merge back (losing the server's prefix cache)."""
    ids = tok.encode(text)
    at = max(range(len(ids)), key=lambda i: len(tok.decode([ids[i]])) if tok.decode([ids[i]]).isalpha() else 0)
    pieces = [tok.encode(c)[0] for c in tok.decode([ids[at]])]
    return [*ids[:at], *pieces, *ids[at + 1:]]


async def prove_it(tmp_path: Path, settings: Settings):
    proj = make_prelude_project(tmp_path / "proj", {"Demo.lean": TEXT})
    engine = Engine(settings)
    try:
        line = TEXT.count("\n", 0, TEXT.index(STMT))
        return await engine.search(enclosing_declaration(proj / "Demo.lean", TEXT, Pos(line, 8)))
    finally:
        await engine.aclose()


def test_server_root_is_beside_v1() -> None:
    assert server_root("http://gpu-box:8000/v1") == "http://gpu-box:8000"
    assert server_root("http://gpu-box:8000/v1/") == "http://gpu-box:8000"
    assert server_root("https://example.org/vllm") == "https://example.org/vllm"


async def test_served_tokenizer_answers_as_the_local_copy_does(tiny_tokenizer_dir: Path) -> None:
    local = FastTokenizer.from_dir(tiny_tokenizer_dir)
    async with FakeOpenAI([], tokenizer_dir=tiny_tokenizer_dir, model=SERVED) as srv:
        def check() -> None:
            info = probe_server_tokenizer(srv.url, SERVED)
            assert info.tokenize and info.root == f"http://127.0.0.1:{srv.port}"
            tok = ServedTokenizer.connect(info, SERVED)
            for text in ("a <sketch>\n⊢ x</sketch>", "\n<REPL>\n{\"messages\": []}\n</REPL>", TEXT):
                assert tok.encode(text) == local.encode(text)
                assert tok.decode(tok.encode(text)) == text
            assert tok.token_id("</sketch>") == local.token_id("</sketch>") is not None
            assert tok.token_id("no such token") is None
            messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "prove ⊢ x"}]
            assert tok.chat_prompt(messages) == local.chat_prompt(messages)
            # EOS: the vocabulary's end-of-text and the token the chat template closes an assistant turn with.
            assert set(tok.eos_token_ids) == {local.eos_token_ids[0], local.token_id("<|im_end|>")}
            calls = len(srv.tokenize_calls)
            tok.encode(TEXT)
            assert len(srv.tokenize_calls) == calls  # cached: N attempts share one round trip

        await asyncio.to_thread(check)
    assert all(kind in ("tokenize", "detokenize") for kind, _ in srv.tokenize_calls)
    assert all(body.get("model") == SERVED for _, body in srv.tokenize_calls)


async def test_probe_tells_a_missing_route_from_a_wrong_model(tiny_tokenizer_dir: Path) -> None:
    async with FakeOpenAI([], tokenizer_dir=tiny_tokenizer_dir, model=SERVED, tokenize=False) as none:
        info = await asyncio.to_thread(probe_server_tokenizer, none.url, SERVED)
        assert not info.tokenize and "no such route" in info.note
    async with FakeOpenAI([], tokenizer_dir=tiny_tokenizer_dir, model=SERVED) as srv:
        info = await asyncio.to_thread(probe_server_tokenizer, srv.url, "another-model")
        assert not info.tokenize and "does not exist" in info.note


async def test_remote_endpoint_without_local_files_continues_with_exact_ids(tmp_path: Path, tiny_tokenizer_dir: Path,
                                                                            real_lean: RealLean) -> None:
    local = FastTokenizer.from_dir(tiny_tokenizer_dir)  # the same vocabulary, only to check the server's answers
    sampled = non_canonical(local, TURNS[0])
    assert local.decode(sampled) == TURNS[0] and local.encode(TURNS[0]) != sampled
    script = {"turn_marker": "<REPL>\n", "scripts": [[{"text": TURNS[0], "ids": sampled}, TURNS[1]]]}
    async with FakeOpenAI(script, tokenizer_dir=tiny_tokenizer_dir, model=SERVED) as srv:
        res = await prove_it(tmp_path, model_settings(tmp_path, srv.url, real_lean))
    assert res.status is SearchStatus.PROVED, res.reason
    assert res.model_used and res.proof.proof.strip() == "Eq.refl"
    first, second = srv.requests
    assert first.prompt_kind == second.prompt_kind == "ids" and first.output_ids == sampled
    # The prompt: the served chat template, as ids the local copy would give the same text.
    assert first.prompt_text.startswith("<|im_start|>system\n")
    assert first.prompt_text.endswith("<|im_start|>assistant\n")
    assert first.prompt_ids == local.encode(first.prompt_text)
    # The continuation: prompt ids + the output's ids as streamed + the feedback tokenized without specials.
    head = len(first.prompt_ids) + len(first.output_ids)
    assert second.prompt_ids[:head] == first.prompt_ids + first.output_ids
    feedback = local.decode(second.prompt_ids[head:])
    assert feedback.startswith("\n<REPL>\n") and "Unknown identifier `rfl`" in feedback  # real Lean's words
    assert second.prompt_ids[head:] == local.encode(feedback)
    # Stop ids came from the server: </sketch> and the end-of-text tokens it named.
    stops = set(first.body["stop_token_ids"])
    assert {local.token_id("</sketch>"), local.eos_token_ids[0]} <= stops
    assert first.stop_reason == local.token_id("</sketch>")


async def test_server_without_tokenize_gets_text_prompts_said_once(tmp_path: Path, tiny_tokenizer_dir: Path,
                                                                  real_lean: RealLean,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lean_copilot_py.models.factory")
    async with FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": [TURNS]}, tokenizer_dir=tiny_tokenizer_dir,
                          model=SERVED, tokenize=False) as srv:
        res = await prove_it(tmp_path, model_settings(tmp_path, srv.url, real_lean))
    assert res.status is SearchStatus.PROVED, res.reason
    first, second = srv.requests
    assert first.prompt_kind == second.prompt_kind == "text"
    # The StepFun family's own rendering (DeepSeek style), since neither side could template.
    assert first.prompt_text.startswith("<｜begin▁of▁sentence｜>You will be given an unsolved Lean 4 problem.")
    assert first.prompt_text.endswith("```<｜Assistant｜>")
    assert second.prompt_text.startswith(first.prompt_text + first.output_text + "\n<REPL>\n")
    assert first.body["stop"] == ["</sketch>"] and "stop_token_ids" not in first.body
    said = [r for r in caplog.records if "can't tokenize" in r.getMessage()]
    assert len(said) == 1 and "as text" in said[0].getMessage() and "stepfun family's own" in said[0].getMessage()


async def test_text_prompts_use_the_servers_template_when_it_shows_one(
    tmp_path: Path, tiny_tokenizer_dir: Path
) -> None:
    async with FakeOpenAI([], tokenizer_dir=tiny_tokenizer_dir, model=SERVED, tokenize=False,
                          tokenizer_info=True) as srv:
        tok = await asyncio.to_thread(build_tokenizer, model_settings(tmp_path, srv.url))
    assert isinstance(tok, TextPromptTokenizer) and not tok.exact_ids and "/tokenizer_info" in tok.source
    local = FastTokenizer.from_dir(tiny_tokenizer_dir)
    messages = [{"role": "user", "content": "q"}]
    assert tok.chat_prompt(messages) == local.chat_prompt(messages)
    assert all(i == -1 for i in tok.encode("abc ⊢")) and len(tok.encode("abc ⊢")) == 3  # 7 bytes, estimated


async def test_unreachable_server_and_no_local_copy_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelSetupError) as err:
        await asyncio.to_thread(build_tokenizer, model_settings(tmp_path, "http://127.0.0.1:9/v1"))
    assert "cannot load the tokenizer" in str(err.value) and "can't be reached" in str(err.value)


async def test_a_model_server_that_comes_up_later_is_used_by_a_later_search(tmp_path: Path, tiny_tokenizer_dir: Path,
                                                                             real_lean: RealLean) -> None:
    import socket

    from lean_copilot_py.engine.engine import MODEL_RETRY_S

    with socket.socket() as s:  # a port nobody listens on yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proj = make_prelude_project(tmp_path / "proj", {"Demo.lean": TEXT})
    target = enclosing_declaration(proj / "Demo.lean", TEXT, Pos(TEXT.count("\n", 0, TEXT.index(STMT)), 8))
    now = [0.0]
    settings = model_settings(tmp_path, f"http://127.0.0.1:{port}/v1", real_lean)
    engine = Engine(settings.model_copy(update={"search": settings.search.model_copy(update={"cache": False})}),
                    clock=lambda: now[0])
    srv = FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": [TURNS]}, tokenizer_dir=tiny_tokenizer_dir, model=SERVED)
    try:
        down = await engine.search(target)  # no tokenizer here, and the server's can't be reached
        assert not down.model_used and "model unavailable" in down.reason and "can't be reached" in down.reason
        await srv.start(port)
        now[0] += MODEL_RETRY_S
        up = await engine.search(target)
    finally:
        await engine.aclose()
        await srv.stop()
    assert up.status is SearchStatus.PROVED and up.model_used, up.reason
    assert up.proof is not None and up.proof.proof.strip() == "Eq.refl" and srv.requests


async def test_doctor_says_where_the_tokenizer_comes_from(tmp_path: Path, tiny_tokenizer_dir: Path) -> None:
    async with FakeOpenAI([], tokenizer_dir=tiny_tokenizer_dir, model=SERVED) as srv:
        served = await asyncio.to_thread(tokenizer_check, model_settings(tmp_path, srv.url))
    async with FakeOpenAI([], tokenizer_dir=tiny_tokenizer_dir, model=SERVED, tokenize=False) as srv:
        text = await asyncio.to_thread(tokenizer_check, model_settings(tmp_path, srv.url))
    local = await asyncio.to_thread(tokenizer_check, model_settings(tmp_path, "http://127.0.0.1:9/v1",
                                                                    tokenizer=str(tiny_tokenizer_dir)))
    assert served.ok and "model server's /tokenize" in served.detail and "token-id continuations" in served.detail
    assert not text.ok and not text.required and "text continuations" in text.detail
    assert "stepfun family's own rendering" in text.detail and text.fix
    assert local.ok and f"local files in {tiny_tokenizer_dir}" in local.detail


async def test_a_served_model_without_chat_template_gets_the_familys_own(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    from lean_copilot_py.testing.char_tokenizer import CharTokenizer

    caplog.set_level(logging.WARNING, logger="lean_copilot_py.models.served_tokenizer")
    async with FakeOpenAI([], model=SERVED) as srv:  # its character tokenizer has no chat template: vLLM says 400
        tok = await asyncio.to_thread(build_tokenizer, model_settings(tmp_path, srv.url))
        assert isinstance(tok, ServedTokenizer) and tok.exact_ids and not tok.templates
        messages = [{"role": "user", "content": "q"}]
        prompt = await asyncio.to_thread(tok.chat_prompt, messages)
        assert prompt == "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜>"
        assert await asyncio.to_thread(tok.encode, prompt) == CharTokenizer().encode(prompt)  # ids still served
        assert await asyncio.to_thread(tok.token_id, "</sketch>") == CharTokenizer().encode("</sketch>")[0]
        calls = len(srv.tokenize_calls)
        assert await asyncio.to_thread(tok.chat_prompt, messages) == prompt and len(srv.tokenize_calls) == calls
    said = [r for r in caplog.records if "can't apply a chat template" in r.getMessage()]
    assert len(said) == 1 and "stepfun family's own rendering" in said[0].getMessage()
