"""A real `vllm serve` (0.24) on the GPU box, reached the way a user with no local model files reaches it.

A tiny random-weight Qwen2 model with lean_copilot_py/models/tiny_tokenizer.py's tokenizer (head dim 64, which
vLLM's attention kernels take) is served under a name that no local folder or hub cache has, with the hub offline.
lean-copilot's model factory then has no local tokenizer and must use the server's `/tokenize` (issue 15 §1). Measured:
  1. which tokenizer the factory built, and whether the served one agrees with the model's own tokenizer.json
     (ids of sample texts, decoding, the chat prompt, `</sketch>` and end-of-text ids);
  2. eight StepFun attempts at once through our OpenAIGenerator and attempt loop (Lean replaced by a fixed
     verdict: the model is random): every continuation's prompt ids must be the previous prompt ids + the
     streamed output ids + the feedback's ids, and vLLM's prefix cache must serve those prompts;
  3. the time a /tokenize round trip costs.
Run on the device (PYTHONPATH=/tmp/site from ../shared/gpu/vllm-kit.sh):
    python3 benchmarks/gpu_vllm_served.py --json $OUT/served.json --log $OUT/vllm.log
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVED_NAME = "stepfun-tiny-served"  # no folder, no hub cache entry: only the server knows this model
THEOREM = "theorem t (n : Nat) : n = n := by\n  sorry\n"
SAMPLES = ["theorem foo (n : Nat) : n + 0 = n := by\n  simp", "unsolved goals\nx y : Nat\n⊢ y = x",
           '{"messages": [{"data": "unknown identifier"}]}', "<sketch>\nintro h\n</sketch>", "∀ x, x ≤ x ∧ ℝ"]


def build_model(directory: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    from lean_copilot_py.models.tiny_tokenizer import EOS, build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    tokenizer.save_pretrained(directory)
    eos = tokenizer.convert_tokens_to_ids(EOS)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192,
                         eos_token_id=eos, bos_token_id=eos, pad_token_id=eos, tie_word_embeddings=True)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)
    return directory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_vllm(model: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    # torch first: it loads the CUDA 13 libraries vLLM's extensions need (the kit's note).
    launcher = ("import torch, runpy, sys; sys.argv = ['vllm', *sys.argv[1:]]; "
                "runpy.run_module('vllm.entrypoints.cli.main', run_name='__main__')")
    cmd = [sys.executable, "-c", launcher, "serve", str(model), "--served-model-name", SERVED_NAME,
           "--port", str(port), "--max-model-len", "4096", "--enforce-eager", "--gpu-memory-utilization", "0.3"]
    env = {**os.environ, "VLLM_USE_FLASHINFER_SAMPLER": "0", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"vllm serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(1.0)
    raise TimeoutError("vllm serve did not become healthy")


def prefix_cache_counters(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:  # a server without Prometheus metrics (the fake one, when the script is tried on CPU)
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        if "prefix_cache" in line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = out.get(name, 0.0) + float(value)
    return out


def tokenizer_agreement(tok, model_dir: Path) -> dict[str, object]:
    from tokenizers import Tokenizer as HFTokenizer
    from transformers import AutoTokenizer

    local = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
    template = AutoTokenizer.from_pretrained(model_dir)
    messages = [{"role": "system", "content": "You prove theorems."}, {"role": "user", "content": SAMPLES[0]}]
    t0 = time.monotonic()
    served_ids = [tok.encode(s) for s in SAMPLES]
    per_call = (time.monotonic() - t0) / len(SAMPLES)
    return {
        "encode_equal": all(ids == local.encode(s, add_special_tokens=False).ids
                            for ids, s in zip(served_ids, SAMPLES, strict=True)),
        "decode_roundtrip": all(tok.decode(ids) == s for ids, s in zip(served_ids, SAMPLES, strict=True)),
        "chat_prompt_equal": tok.chat_prompt(messages) == template.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True),
        "sketch_close_id": tok.token_id("</sketch>"),
        "sketch_close_id_local": local.token_to_id("</sketch>"),
        "eos_ids": list(tok.eos_token_ids),
        "eos_id_local": local.token_to_id("<|endoftext|>"),
        "tokenize_round_trip_ms": round(per_call * 1000, 2),
    }


class Recording:
    """The real generator, with every request's prompt ids and every stream's output ids kept."""

    def __init__(self, inner) -> None:
        self.inner, self.tokenizer, self.calls = inner, inner.tokenizer, []

    async def stream(self, request):
        record = {"session": request.session, "prompt_ids": list(request.prompt_ids or ()), "out_ids": [],
                  "stop_reason": None}
        self.calls.append(record)
        async for chunk in self.inner.stream(request):
            record["out_ids"].extend(chunk.token_ids)
            if chunk.finish_reason is not None:
                record["stop_reason"] = chunk.stop_reason
            yield chunk


async def attempts(settings, port: int, n: int) -> dict[str, object]:
    from lean_copilot_py.core.attempt import Attempt, AttemptConfig
    from lean_copilot_py.core.protocols import Problem
    from lean_copilot_py.core.targets import find_targets
    from lean_copilot_py.core.types import LeanMessage, Outcome, Pos, Severity, Span, Verdict
    from lean_copilot_py.models.factory import build_generator
    from lean_copilot_py.models.families import build_family

    gen = Recording(await asyncio.to_thread(build_generator, settings))
    family = build_family("stepfun")
    target = find_targets(Path("T.lean"), THEOREM)[0]
    problem = Problem(header="", statement="theorem t (n : Nat) : n = n := by")
    failed = Verdict(Outcome.FAILED, messages=(LeanMessage(Severity.ERROR, Span(Pos(1, 2), Pos(1, 7)),
                                                           "unknown tactic"),), reason="unknown tactic")

    async def check(_candidate, *_args, **_kwargs):  # Lean's part: a fixed verdict (the model is random)
        return failed

    cfg = AttemptConfig(context_tokens=4096, max_tokens=1500, max_turns=4, temperature=1.0, top_p=1.0)
    before = prefix_cache_counters(port)
    t0 = time.monotonic()
    runs = [Attempt(i, target, problem, gen, family, check, cfg, session=f"a{i}") for i in range(1, n + 1)]
    results = await asyncio.gather(*(a.run() for a in runs))
    wall = time.monotonic() - t0
    after = prefix_cache_counters(port)
    tok = gen.tokenizer
    continuations = exact = 0
    mismatch: dict[str, object] | None = None
    for res in results:
        calls = [c for c in gen.calls if c["session"] == f"a{res.attempt}"]
        for prev, (nxt, turn) in zip(calls, zip(calls[1:], res.turns[1:], strict=False), strict=False):
            continuations += 1
            expected = prev["prompt_ids"] + prev["out_ids"] + list(tok.encode(turn.sent))
            if nxt["prompt_ids"] == expected:
                exact += 1
            elif mismatch is None:
                at = next((i for i, (a, b) in enumerate(zip(expected, nxt["prompt_ids"], strict=False)) if a != b),
                          min(len(expected), len(nxt["prompt_ids"])))
                mismatch = {"index": at, "expected": expected[at:at + 8], "sent": nxt["prompt_ids"][at:at + 8],
                            "stop_reason": prev["stop_reason"]}
    generated = sum(len(c["out_ids"]) for c in gen.calls)
    return {"attempts": n, "requests": len(gen.calls), "continuations": continuations,
            "continuations_token_exact": exact, "first_mismatch": mismatch, "tokens_generated": generated,
            "wall_s": round(wall, 2),
            "aggregate_tok_per_s": round(generated / wall, 1),
            "prefix_cache": {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after},
            "turns_per_attempt": [len(r.turns) for r in results],
            "stop_reasons": [c["stop_reason"] for c in gen.calls]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--attempts", type=int, default=8)
    ap.add_argument("--endpoint-port", type=int, help="use a server already listening on this port (trying the "
                    "script on CPU against lean_copilot_py/testing/fake_openai.py) instead of starting vllm serve")
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from lean_copilot_py.models.factory import build_tokenizer
    from lean_copilot_py.settings import ModelSettings, Settings

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp) / "model")
        port = args.endpoint_port or free_port()
        proc = start_vllm(model, port, args.log) if not args.endpoint_port else None
        try:
            if proc is not None:
                out["startup_s"] = round(wait_healthy(port, proc, 600), 1)
            settings = Settings(model=ModelSettings(endpoint=f"http://127.0.0.1:{port}/v1", name=SERVED_NAME))
            tok = build_tokenizer(settings)
            out["tokenizer"] = {"type": type(tok).__name__, "exact_ids": getattr(tok, "exact_ids", None)}
            out["agreement"] = tokenizer_agreement(tok, model)
            out["attempts"] = asyncio.run(attempts(settings, port, args.attempts))
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
