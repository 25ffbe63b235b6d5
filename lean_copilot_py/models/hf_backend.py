"""In-process transformers backend: a worker thread samples token by token, keeping a KV cache per
``request.session`` so a continuation (prompt + output + feedback) only prefills the new suffix.

Meant for CPU/dev use and small models; production uses vLLM. Requests are served one at a time (one
worker thread): parallel attempts queue up rather than fight over the cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..core.types import FinishReason, GenerationChunk, GenerationRequest, GenerationStats, Sampling
from .tokenizer import HFTokenizer, load_tokenizer


@dataclass
class _Session:
    ids: list[int]  # the tokens whose keys/values are in ``cache``, in order
    cache: Any


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class _Detok:
    """Incremental detokenisation that never emits half of a multi-byte character."""

    def __init__(self, tokenizer: HFTokenizer) -> None:
        self.tok = tokenizer
        self.ids: list[int] = []
        self.prefix = 0
        self.read = 0

    def push(self, tid: int) -> str:
        self.ids.append(tid)
        before = self.tok.decode(self.ids[self.prefix : self.read])
        after = self.tok.decode(self.ids[self.prefix :])
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return after[len(before) :]
        return ""


class TransformersGenerator:
    def __init__(self, model: str, *, tokenizer: HFTokenizer | None = None, device: str = "auto",
                 dtype: str = "auto", max_sessions: int = 8) -> None:
        self.model_name = model
        self.tokenizer = tokenizer or load_tokenizer(model)
        self.device = device
        self.dtype = dtype
        self.max_sessions = max_sessions
        self.last_stats = GenerationStats()
        self.session_stats: dict[str, GenerationStats] = {}
        self._model: Any = None
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lean-copilot-hf")

    # --- loading -------------------------------------------------------------------------------
    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if self.dtype == "auto":
            dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        else:
            dtype = getattr(torch, self.dtype)
        model = AutoModelForCausalLM.from_pretrained(self.model_name, dtype=dtype)
        self._model = model.to(device).eval()

    async def load(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def drop_session(self, session: str) -> None:
        self._sessions.pop(session, None)

    # --- streaming -----------------------------------------------------------------------------
    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[GenerationChunk] = asyncio.Queue()
        cancel = threading.Event()

        def emit(chunk: GenerationChunk) -> None:
            with contextlib.suppress(RuntimeError):  # the loop may be gone at interpreter exit
                loop.call_soon_threadsafe(queue.put_nowait, chunk)

        fut = loop.run_in_executor(self._executor, self._run, request, emit, cancel)
        try:
            while True:
                chunk = await queue.get()
                yield chunk
                if chunk.finish_reason is not None:
                    break
        finally:
            cancel.set()  # the worker stops before its next token
            with contextlib.suppress(BaseException):
                await asyncio.shield(fut)

    def _run(self, request: GenerationRequest, emit: Callable[[GenerationChunk], None],
             cancel: threading.Event) -> None:
        try:
            if cancel.is_set():
                emit(GenerationChunk(finish_reason=FinishReason.ABORTED))
                return
            self._load()
            self._generate(request, emit, cancel)
        except Exception as exc:  # every failure becomes a final ERROR chunk
            self.drop_session(request.session)
            emit(GenerationChunk(finish_reason=FinishReason.ERROR,
                                 error=f"transformers generation failed: {type(exc).__name__}: {exc}"))

    def _generate(self, request: GenerationRequest, emit: Callable[[GenerationChunk], None],
                  cancel: threading.Event) -> None:
        import time

        import torch
        from transformers import DynamicCache

        started = time.monotonic()
        model, s = self._model, request.sampling
        ids = list(request.prompt_ids) if request.prompt_ids else self.tokenizer.encode(request.prompt_text)
        if not ids:
            raise ValueError("empty prompt")
        sess = self._sessions.pop(request.session, None) if request.session else None
        reused = 0
        if sess is not None:
            # keep at least one prompt token to prefill: its logits give the first new token
            reused = min(common_prefix(sess.ids, ids), len(ids) - 1)
            _crop(sess.cache, reused)
            cache, processed = sess.cache, ids[:reused]
        else:
            cache, processed = DynamicCache(config=model.config), []
        stats = GenerationStats(prompt_tokens=len(ids), cached_prompt_tokens=reused)
        stats.extra["prefill_tokens"] = float(len(ids) - reused)
        self.last_stats = stats
        if request.session:
            self.session_stats[request.session] = stats

        device = next(model.parameters()).device
        cache_kw = _cache_keyword(model)
        gen = torch.Generator(device=device)
        if s.seed is not None:
            gen.manual_seed(s.seed)
        else:
            gen.seed()
        eos = set(self.tokenizer.eos_token_ids)
        stop_ids = set(s.stop_token_ids)
        detok = _Detok(self.tokenizer)
        text = ""
        finish: FinishReason | None = None
        stop_reason: str | int | None = None
        with torch.inference_mode():
            feed = ids[reused:]
            for _step in range(s.max_tokens):
                if cancel.is_set():
                    finish = FinishReason.ABORTED
                    break
                out = model(input_ids=torch.tensor([feed], device=device), use_cache=True, **{cache_kw: cache})
                processed.extend(feed)
                tid = _sample(out.logits[0, -1].float(), s, gen)
                delta = detok.push(tid)
                stats.completion_tokens += 1
                if tid in eos:
                    finish = FinishReason.STOP
                elif tid in stop_ids:
                    finish, stop_reason = FinishReason.STOP, tid
                else:
                    for stop in s.stop:
                        at = (text + delta).find(stop, max(0, len(text) - len(stop)))
                        if at >= 0:  # the stop string stays in the output, as with vLLM's include_stop_str
                            delta = (text + delta)[len(text) : at + len(stop)]
                            finish, stop_reason = FinishReason.STOP, stop
                            break
                text += delta
                if finish is None and stats.completion_tokens >= s.max_tokens:
                    finish = FinishReason.LENGTH
                emit(GenerationChunk(text=delta, token_ids=(tid,), finish_reason=finish, stop_reason=stop_reason))
                if finish is not None:
                    break
                feed = [tid]
        if finish is None or finish is FinishReason.ABORTED:
            emit(GenerationChunk(finish_reason=finish or FinishReason.LENGTH))
        stats.seconds = time.monotonic() - started
        if request.session:
            self._sessions[request.session] = _Session(processed, cache)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)

    async def aclose(self) -> None:
        self._sessions.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _crop(cache: Any, keep: int) -> None:
    """Drop cached positions past ``keep``. transformers 5 takes a negative count to remove; 4.x a length."""
    current = cache.get_seq_length()
    if keep >= current:
        return
    try:
        cache.crop(keep - current)
    except ValueError:
        cache.crop(keep)


def _cache_keyword(model: Any) -> str:
    """transformers renamed the forward argument `past_key_values` to `cache` (5.x deprecates the old name)."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _sample(logits: Any, s: Sampling, gen: Any) -> int:
    import torch

    if s.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / s.temperature, dim=-1)
    if s.top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < s.top_p  # always keeps the most likely token
        sorted_p = sorted_p * keep
        choice = torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=gen))
