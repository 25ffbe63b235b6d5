"""A tiny random-weight Qwen2 model on the tiny tokenizer (lean_copilot_py/models/tiny_tokenizer.py), built
locally (no hub access), so prompt families and backends can be exercised end to end on CPU in well under a second
per generation. `build_tiny_model(dir)` is idempotent: a directory that already holds a built model is reused.
"""

from __future__ import annotations

import json
from pathlib import Path

from lean_copilot_py.models.tiny_tokenizer import EOS, build_tiny_tokenizer


def build_tiny_model(directory: str | Path, *, seed: int = 0) -> Path:
    """Write a tokenizer and a random 2-layer Qwen2 model to ``directory``; return the path."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    path = Path(directory)
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer()
    tokenizer.save_pretrained(path)
    eos_id = tokenizer.convert_tokens_to_ids(EOS)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=eos_id,
        bos_token_id=eos_id,
        pad_token_id=eos_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(path)
    (path / "tiny_model.json").write_text(json.dumps({"seed": seed}))
    return path


if __name__ == "__main__":
    import sys

    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model"))
