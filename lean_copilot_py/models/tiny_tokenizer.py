"""A tiny byte-level BPE tokenizer with the StepFun special tokens and a Qwen-style chat template, built locally
(no hub access): what the fake model server (lean_copilot_py/testing/fake_openai.py) loads and what the client side
uses, so token-id continuations are exercised end to end in the tests and `lean-copilot bench`. It lives here, not in
testing/, because building it takes `tokenizers` and `transformers`, which only models/ imports.
``python -m lean_copilot_py.models.tiny_tokenizer DIR`` saves one. (The tiny random-weight model of the tests is
built on it: tests/fakes/tiny_model.py.)
"""

from __future__ import annotations

import sys
from typing import Any

# StepFun's and Qwen's special tags, each one token; the character tokenizer (testing/char_tokenizer.py) uses the same.
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<sketch>", "</sketch>", "<REPL>", "</REPL>",
                  "<think>", "</think>"]
EOS = SPECIAL_TOKENS[0]
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


def build_tiny_tokenizer() -> Any:
    """The tokenizer, trained on a small corpus (a second or two; needs `tokenizers` and `transformers`)."""
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


if __name__ == "__main__":
    build_tiny_tokenizer().save_pretrained(sys.argv[1] if len(sys.argv) > 1 else "tiny-tokenizer")
