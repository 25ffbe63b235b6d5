"""A tiny random-weight Qwen2 model plus a byte-level BPE tokenizer, built locally (no hub access).

`build_tiny_model(dir)` is idempotent: a directory that already holds a built model is reused.
The tokenizer knows the StepFun special tokens and a Qwen-style chat template, so prompt families and
backends can be exercised end to end on CPU in well under a second per generation.
"""

from __future__ import annotations

import json
from pathlib import Path

EOS = "<|endoftext|>"
SPECIAL_TOKENS = [
    EOS, "<|im_start|>", "<|im_end|>", "<sketch>", "</sketch>", "<REPL>", "</REPL>", "<think>", "</think>",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_QWEN2_SPLIT = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

_CORPUS = [
    "theorem foo (n : Nat) : n + 0 = n := by\n  simp",
    "theorem bar (a b : Nat) (h : a = b) : b = a := by\n  omega",
    "lemma baz (x : ℝ) (hx : 0 < x) : 0 < x ^ 2 := by\n  positivity",
    "import Mathlib\nopen Real Nat\n\nexample : 2 + 2 = 4 := by norm_num",
    "unsolved goals\nx y : Nat\nh : x = y\n⊢ y = x",
    '{"messages": [{"data": "unknown identifier", "endPos": {"column": 4, "line": 2}, "pos": {"column": 2, '
    '"line": 2}, "severity": "error"}]}',
    "Let me think about this problem. We need to prove the statement by induction on n.",
    "```lean4\ntheorem foo : True := by\n  trivial\n```",
    "intro h\n  rcases h with ⟨a, b⟩\n  exact ⟨b, a⟩\n  linarith [sq_nonneg x]\n  nlinarith",
]


def _build_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # The pre-tokenizer real Qwen2 tokenizer.json files carry (digits split one by one, newlines apart);
    # transformers imposes it on any qwen2 model, so the saved file must agree with it.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN2_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS,
        pad_token=EOS,
        additional_special_tokens=SPECIAL_TOKENS[1:],
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_model(directory: str | Path, *, seed: int = 0) -> Path:
    """Write a tokenizer and a random 2-layer Qwen2 model to ``directory``; return the path."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    path = Path(directory)
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _build_tokenizer()
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
