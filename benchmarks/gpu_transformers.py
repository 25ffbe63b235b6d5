"""GPU benchmark of in-process transformers decoding with a StepFun-Prover-7B-shaped model.

Random weights in the Qwen2-7B shape (StepFun-Prover-Preview-7B is a Qwen2.5-7B fine-tune), bf16, on one GPU.
Measures, with the plain transformers forward pass (eager, no custom kernels):
  1. decode tokens/s for one attempt;
  2. eight attempts at once, two ways: one batched forward (what a batching server does) and eight
     independent streams interleaved on the GPU from threads (what an in-process backend without batching does);
  3. the prefill a REPL turn costs when the attempt keeps its KV cache versus re-encoding the whole
     conversation, over a realistic conversation (prompt, sketch, feedback, sketch, ...).
Run: python3 benchmarks/gpu_transformers.py --json out.json   (needs torch with CUDA and transformers)
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time

import torch
from transformers import AutoModelForCausalLM, DynamicCache, Qwen2Config


def qwen2_7b_config(layers: int | None = None) -> Qwen2Config:
    # Qwen2.5-7B's shape (hidden 3584, 28 layers, 28 heads / 4 KV heads, MLP 18944, vocab 152064).
    return Qwen2Config(
        vocab_size=152064,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=layers or 28,
        num_attention_heads=28,
        num_key_value_heads=4,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
    )


def build_model(layers: int | None) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(qwen2_7b_config(layers), dtype=torch.bfloat16)
    return model.eval()


@torch.inference_mode()
def prefill(model, ids: torch.Tensor, cache: DynamicCache | None = None) -> tuple[torch.Tensor, DynamicCache]:
    cache = cache if cache is not None else DynamicCache()
    out = model(input_ids=ids, past_key_values=cache, use_cache=True)
    return out.logits[:, -1, :], out.past_key_values


@torch.inference_mode()
def decode(model, logits: torch.Tensor, cache: DynamicCache, steps: int) -> float:
    """Decode `steps` tokens (sampled) and return the seconds spent."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        probs = torch.softmax(logits.float() / 0.999, dim=-1)
        nxt = torch.multinomial(probs, 1)
        out = model(input_ids=nxt, past_key_values=cache, use_cache=True)
        logits, cache = out.logits[:, -1, :], out.past_key_values
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def rand_ids(batch: int, n: int) -> torch.Tensor:
    return torch.randint(0, 150000, (batch, n), device="cuda")


def bench_single(model, prompt: int, steps: int) -> dict:
    logits, cache = prefill(model, rand_ids(1, prompt))
    decode(model, logits, cache, 8)  # warm-up
    logits, cache = prefill(model, rand_ids(1, prompt))
    secs = decode(model, logits, cache, steps)
    return {"tokens": steps, "seconds": secs, "tok_per_s": steps / secs}


def bench_batched(model, batch: int, prompt: int, steps: int) -> dict:
    logits, cache = prefill(model, rand_ids(batch, prompt))
    secs = decode(model, logits, cache, steps)
    return {"streams": batch, "tokens_each": steps, "seconds": secs,
            "aggregate_tok_per_s": batch * steps / secs, "per_stream_tok_per_s": steps / secs}


def bench_threads(model, streams: int, prompt: int, steps: int) -> dict:
    results: list[float] = [0.0] * streams

    def run(i: int) -> None:
        logits, cache = prefill(model, rand_ids(1, prompt))
        results[i] = decode(model, logits, cache, steps)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"streams": streams, "tokens_each": steps, "wall_seconds": wall,
            "aggregate_tok_per_s": streams * steps / wall,
            "per_stream_tok_per_s": sum(steps / r for r in results) / streams}


@torch.inference_mode()
def _conversation(model, total: torch.Tensor, prompt: int, sketch: int, feedback: int, turns: int) -> dict:
    cached: list[float] = []
    reencode: list[float] = []
    reencode_tokens = 0
    _, cache = prefill(model, total[:, :prompt])
    pos = prompt
    for _turn in range(turns):
        # The sketch's tokens were decoded one by one into the cache; feed them here without timing them.
        _, cache = prefill(model, total[:, pos:pos + sketch], cache)
        pos += sketch
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        _, cache = prefill(model, total[:, pos:pos + feedback], cache)
        torch.cuda.synchronize()
        cached.append(time.perf_counter() - t0)
        pos += feedback
        t0 = time.perf_counter()
        prefill(model, total[:, :pos])
        torch.cuda.synchronize()
        reencode.append(time.perf_counter() - t0)
        reencode_tokens += pos
    return {"cached": cached, "reencode": reencode, "reencode_tokens": reencode_tokens}


def bench_turns(model, prompt: int, sketch: int, feedback: int, turns: int) -> dict:
    """Prefill per REPL turn: keep the KV cache (feed only the feedback) vs re-encode the conversation."""
    total = rand_ids(1, prompt + turns * (sketch + feedback))
    _conversation(model, total, prompt, sketch, feedback, turns)  # warm-up: every shape seen once
    run = _conversation(model, total, prompt, sketch, feedback, turns)
    cached_tokens = feedback * turns
    return {"turns": turns, "prompt_tokens": prompt, "sketch_tokens": sketch, "feedback_tokens": feedback,
            "kv_cache_kept": {"prefill_tokens": cached_tokens, "prefill_seconds": sum(run["cached"]),
                              "per_turn_seconds": run["cached"]},
            "reencode": {"prefill_tokens": run["reencode_tokens"], "prefill_seconds": sum(run["reencode"]),
                         "per_turn_seconds": run["reencode"]},
            "prefill_tokens_saved": run["reencode_tokens"] - cached_tokens,
            "prefill_seconds_saved": sum(run["reencode"]) - sum(run["cached"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--steps", type=int, default=128)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--layers", type=int, default=None, help="fewer layers for a quick try")
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = build_model(args.layers)
    load_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    res = {
        "machine": {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
                    "python": platform.python_version(),
                    "transformers": __import__("transformers").__version__},
        "model": {"shape": "Qwen2-7B (StepFun-Prover-Preview-7B)", "params": params, "dtype": "bfloat16",
                  "init_seconds": load_s},
        "single": bench_single(model, args.prompt, args.steps),
        "batched_8": bench_batched(model, 8, args.prompt, args.steps),
        "threads_8": bench_threads(model, 8, args.prompt, args.steps // 2),
        "turns": bench_turns(model, prompt=600, sketch=700, feedback=250, turns=6),
        "peak_gpu_gib": torch.cuda.max_memory_allocated() / 2**30,
    }
    text = json.dumps(res, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
