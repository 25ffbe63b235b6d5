from __future__ import annotations

import asyncio
import contextlib
import socket

from lean_copilot_py.core.types import FinishReason, GenerationRequest, Outcome, Sampling, Verdict
from lean_copilot_py.models.families import build_family
from lean_copilot_py.models.openai_backend import OpenAIGenerator
from lean_copilot_py.testing.fake_openai import FakeOpenAI

SKETCH_TURN = "I will try simp.\n<sketch>\ntheorem foo : 1 + 1 = 2 := by\n  simp\n</sketch> and more text"
FINAL_TURN = "It worked.\n```lean4\ntheorem foo : 1 + 1 = 2 := by\n  simp\n```"


async def collect(gen, request):
    chunks = [c async for c in gen.stream(request)]
    return "".join(c.text for c in chunks), [i for c in chunks for i in c.token_ids], chunks


def stepfun_request(tok, prompt="<|im_start|>user\nprove<|im_end|>\n<|im_start|>assistant\n", ids=True):
    sampling = build_family("stepfun").sampling(tok)
    return GenerationRequest(prompt, tuple(tok.encode(prompt)) if ids else None, sampling)


async def test_stream_stops_at_sketch_token_and_continues_with_ids(tiny_model_dir, tiny_tokenizer):
    tok = tiny_tokenizer
    async with FakeOpenAI([[SKETCH_TURN, FINAL_TURN]], tokenizer_dir=tiny_model_dir) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tok)
        req = stepfun_request(tok)
        text, ids, chunks = await collect(gen, req)
        assert text == "I will try simp.\n<sketch>\ntheorem foo : 1 + 1 = 2 := by\n  simp\n</sketch>"
        last = chunks[-1]
        assert last.finish_reason is FinishReason.STOP
        assert last.stop_reason == tok.token_id("</sketch>")
        assert all(c.finish_reason is None for c in chunks[:-1])
        assert tok.decode(ids) == text
        # the request carried vLLM's extra fields and the prompt as ids
        body = srv.requests[0].body
        assert srv.requests[0].prompt_kind == "ids"
        assert body["include_stop_str_in_output"] is True and body["skip_special_tokens"] is False
        assert body["add_special_tokens"] is False and body["return_token_ids"] is True
        assert set(body["stop_token_ids"]) == {tok.eos_token_ids[0], tok.token_id("</sketch>")}

        feedback = build_family("stepfun").render_feedback(Verdict(Outcome.PROVED), 0.1, 0)
        assert feedback == "\n<REPL>\n{}\n</REPL>"
        # The continuation as the attempt loop builds it: the same ids, then the feedback's.
        req2 = GenerationRequest(req.prompt_text + text + feedback, (*req.prompt_ids, *ids, *tok.encode(feedback)),
                                 req.sampling)
        text2, _, chunks2 = await collect(gen, req2)
        assert "```lean4" in text2 and chunks2[-1].stop_reason is None  # ended at EOS
        rec0, rec1 = srv.requests
        assert rec1.prompt_kind == "ids" and rec1.turn == 1
        assert rec1.prompt_ids[: len(rec0.prompt_ids) + len(rec0.output_ids)] == rec0.prompt_ids + rec0.output_ids
        await gen.aclose()


async def test_text_prompt_and_stop_string(tiny_model_dir, tiny_tokenizer):
    async with FakeOpenAI([["abc STOP def"]], tokenizer_dir=tiny_model_dir) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tiny_tokenizer)
        req = GenerationRequest("hello", None, Sampling(stop=("STOP",), max_tokens=100))
        text, _, chunks = await collect(gen, req)
        assert text == "abc STOP"
        assert chunks[-1].stop_reason == "STOP"
        assert srv.requests[0].prompt_kind == "text" and srv.requests[0].prompt_text == "hello"
        await gen.aclose()


async def test_max_tokens_gives_length(tiny_model_dir, tiny_tokenizer):
    async with FakeOpenAI([["one two three four five six seven"]], tokenizer_dir=tiny_model_dir) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tiny_tokenizer)
        _, ids, chunks = await collect(gen, GenerationRequest("p", None, Sampling(max_tokens=3)))
        assert len(ids) == 3 and chunks[-1].finish_reason is FinishReason.LENGTH
        await gen.aclose()


async def test_cancellation_closes_the_request(tiny_tokenizer):
    async with FakeOpenAI([["x" * 400]], latency_s=0.01) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tiny_tokenizer)
        got = asyncio.Event()

        async def consume():
            async for _ in gen.stream(GenerationRequest("p", None, Sampling(max_tokens=1000))):
                got.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got.wait(), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        rec = await srv.wait_ended()
        assert rec.closed_early and not rec.completed
        assert len(rec.output_ids) < 400
        await gen.aclose()


async def test_aclose_of_iterator_closes_the_request(tiny_tokenizer):
    async with FakeOpenAI([["y" * 400]], latency_s=0.01) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tiny_tokenizer)
        it = gen.stream(GenerationRequest("p", None, Sampling(max_tokens=1000)))
        await it.__anext__()
        await it.aclose()
        rec = await srv.wait_ended()
        assert rec.closed_early
        await gen.aclose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_server_down_gives_error_chunk(tiny_tokenizer):
    gen = OpenAIGenerator(f"http://127.0.0.1:{_free_port()}/v1", "m", tiny_tokenizer, timeout_s=5)
    _, _, chunks = await collect(gen, GenerationRequest("p", None, Sampling()))
    assert len(chunks) == 1 and chunks[0].finish_reason is FinishReason.ERROR
    assert "cannot reach the model server" in chunks[0].error
    await gen.aclose()


async def test_failure_modes_give_error_chunks(tiny_tokenizer):
    script = [[{"text": "aaaa", "fail": f, "after": 2}] for f in ("http500", "drop", "garbage", "non_utf8")]
    async with FakeOpenAI(script) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tiny_tokenizer)
        results = []
        for _ in script:
            _, _, chunks = await collect(gen, GenerationRequest("p", None, Sampling()))
            assert chunks[-1].finish_reason is FinishReason.ERROR, chunks
            results.append(chunks[-1].error)
        assert "HTTP 500" in results[0]
        assert all(r for r in results)
        await gen.aclose()


async def test_script_choice_round_robin_and_continuation_stickiness(tiny_tokenizer):
    a = ["<sketch>A1</sketch>", "A2 done"]
    b = ["<sketch>B1</sketch>", "B2 done"]
    async with FakeOpenAI([a, b]) as srv:
        gen = OpenAIGenerator(srv.url, "fake-model", tiny_tokenizer)
        s = Sampling(stop=("</sketch>",))
        t_a, _, _ = await collect(gen, GenerationRequest("P", None, s))
        t_b, _, _ = await collect(gen, GenerationRequest("P", None, s))
        assert (t_a, t_b) == ("<sketch>A1</sketch>", "<sketch>B1</sketch>")
        # continue B first: the prompt contains B's first turn, so B's second turn answers
        t_b2, _, _ = await collect(gen, GenerationRequest("P" + t_b + "\n<REPL>\n{}\n</REPL>", None, s))
        t_a2, _, _ = await collect(gen, GenerationRequest("P" + t_a + "\n<REPL>\n{}\n</REPL>", None, s))
        assert t_b2.startswith("B2 done") and t_a2.startswith("A2 done")
        await gen.aclose()
