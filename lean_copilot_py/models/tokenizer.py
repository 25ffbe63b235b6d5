"""Hugging Face tokenizers seen through core.protocols.Tokenizer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class HFTokenizer:
    """Wraps a transformers tokenizer: no special tokens added on encode, special tokens kept on decode
    (the sketch/REPL tags must survive a round trip)."""

    exact_ids = True

    def __init__(self, hf: Any) -> None:
        self.hf = hf
        ids: list[int] = []
        eos = getattr(hf, "eos_token_id", None)
        if isinstance(eos, int):
            ids.append(eos)
        self.eos_token_ids: Sequence[int] = tuple(ids)

    def encode(self, text: str) -> list[int]:
        return list(self.hf.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def token_id(self, token: str) -> int | None:
        # A token exists only if it encodes to exactly one id that decodes back to itself; this rejects
        # the unknown-token id that convert_tokens_to_ids returns for strangers.
        tid = self.hf.convert_tokens_to_ids(token)
        if isinstance(tid, int) and tid != getattr(self.hf, "unk_token_id", None):
            if self.hf.convert_ids_to_tokens(tid) == token:
                return tid
        ids = self.encode(token)
        if len(ids) == 1 and self.decode(ids) == token:
            return ids[0]
        return None

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return self.hf.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)

    def __len__(self) -> int:
        return len(self.hf)


def load_tokenizer(name_or_path: str, **kwargs: Any) -> HFTokenizer:
    """Load with AutoTokenizer (a local directory or a name already in the local HF cache)."""
    from transformers import AutoTokenizer

    return HFTokenizer(AutoTokenizer.from_pretrained(name_or_path, **kwargs))
