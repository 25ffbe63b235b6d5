from __future__ import annotations

import asyncio

import pytest

from lean_copilot_py.core.types import FinishReason, GenerationRequest, Sampling
from lean_copilot_py.models.hf_backend import TransformersGenerator

PROMPT = "<|im_start|>user\ntheorem foo (n : Nat) : n + 0 = n := by<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def hf_gen(tiny_model_dir, tiny_tokenizer):
    return TransformersGenerator(str(tiny_model_dir), tokenizer=tiny_tokenizer, device="cpu", dtype="float32")


def greedy(max_tokens=24, **kw) -> Sampling:
    return Sampling(temperature=0.0, max_tokens=max_tokens, **kw)


async def run(gen, req):
    chunks = [c async for c in gen.stream(req)]
    return "".join(c.text for c in chunks), [i for c in chunks for i in c.token_ids], chunks[-1]


async def test_stream_length_and_determinism(hf_gen, tiny_tokenizer):
    req = GenerationRequest(PROMPT, tuple(tiny_tokenizer.encode(PROMPT)), greedy(12))
    text, ids, last = await run(hf_gen, req)
    assert last.finish_reason in (FinishReason.LENGTH, FinishReason.STOP)
    assert len(ids) <= 12 and tiny_tokenizer.decode(ids) == text
    again, ids2, _ = await run(hf_gen, GenerationRequest(PROMPT, None, greedy(12)))  # text prompt, same ids
    assert (again, ids2) == (text, ids)


async def test_stop_string_and_stop_token(hf_gen, tiny_tokenizer):
    eos = set(tiny_tokenizer.eos_token_ids)
    text, ids, _ = await run(hf_gen, GenerationRequest(PROMPT, None, greedy(40, stop_token_ids=())))
    if eos & set(ids) or len(text) < 8:
        pytest.skip("the random model ended too early to carve a stop out of its output")
    stop = text[4:7]
    cut = text.find(stop) + len(stop)
    t2, _, last = await run(hf_gen, GenerationRequest(PROMPT, None, greedy(40, stop=(stop,))))
    assert t2 == text[:cut] and last.stop_reason == stop and last.finish_reason is FinishReason.STOP
    stop_id = ids[5]
    first = ids.index(stop_id)
    _, ids3, last3 = await run(hf_gen, GenerationRequest(PROMPT, None, greedy(40, stop_token_ids=(stop_id,))))
    assert ids3 == ids[: first + 1] and last3.stop_reason == stop_id


async def test_cancellation_stops_the_worker(hf_gen):
    it = hf_gen.stream(GenerationRequest(PROMPT, None, Sampling(temperature=1.0, max_tokens=3000, seed=1)))
    for _ in range(3):
        await it.__anext__()
    await it.aclose()
    n = hf_gen.last_stats.completion_tokens
    await asyncio.sleep(0.2)
    assert hf_gen.last_stats.completion_tokens == n < 100


async def test_kv_cache_reused_across_turns(hf_gen, tiny_tokenizer):
    p_ids = tuple(tiny_tokenizer.encode(PROMPT))
    _, out_ids, _ = await run(hf_gen, GenerationRequest(PROMPT, p_ids, greedy(10), session="s1"))
    assert hf_gen.session_stats["s1"].extra["prefill_tokens"] == len(p_ids)
    feedback = tiny_tokenizer.encode('\n<REPL>\n{"messages": []}\n</REPL>')
    ids2 = (*p_ids, *out_ids, *feedback)
    with_cache = await run(hf_gen, GenerationRequest("", ids2, greedy(10), session="s1"))
    st = hf_gen.session_stats["s1"]
    # only the last sampled token (never fed back) and the feedback are prefilled
    assert st.extra["prefill_tokens"] == 1 + len(feedback)
    assert st.cached_prompt_tokens == len(p_ids) + len(out_ids) - 1
    fresh = await run(hf_gen, GenerationRequest("", ids2, greedy(10), session="fresh"))
    assert hf_gen.session_stats["fresh"].extra["prefill_tokens"] == len(ids2)
    assert with_cache[1] == fresh[1]  # the cache gives the same greedy continuation
    # a diverging prompt crops the cache back to the common prefix
    diverged = (*p_ids[:-2], *feedback)
    cropped = await run(hf_gen, GenerationRequest("", diverged, greedy(6), session="s1"))
    assert hf_gen.session_stats["s1"].cached_prompt_tokens == len(p_ids) - 2
    assert cropped[1] == (await run(hf_gen, GenerationRequest("", diverged, greedy(6))))[1]


async def test_load_error_is_an_error_chunk(tiny_tokenizer, tmp_path):
    gen = TransformersGenerator(str(tmp_path / "missing"), tokenizer=tiny_tokenizer, device="cpu")
    _, _, last = await run(gen, GenerationRequest("x", None, greedy(2)))
    assert last.finish_reason is FinishReason.ERROR and "transformers generation failed" in last.error
    await gen.aclose()
