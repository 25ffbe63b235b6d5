"""The fake model server's character tokenizer, seen through core.protocols.Tokenizer.

One character is one token (the StepFun special tags are single tokens), so a workload is sized in tokens
by its length in characters, and our ids are exactly the ids the fake server computes: no transformers
import, no tokenizer files. Text prompts re-tokenise to the same ids here (no merges across a boundary),
which is the *best* case for a client that re-sends text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .fakes import ensure_fakes

# Qwen's chat template, as StepFun-Prover-Preview's tokenizer applies it with add_generation_prompt=True.
_IM_START, _IM_END = "<|im_start|>", "<|im_end|>"


class CharTokenizer:
    exact_ids = True

    def __init__(self) -> None:
        ensure_fakes()
        from tests.fakes.fake_openai import SPECIALS
        from tests.fakes.fake_openai import CharTokenizer as ServerTokenizer

        self._server: Any = ServerTokenizer()
        self._specials = list(SPECIALS)
        self.eos_token_ids: Sequence[int] = (self._server.eos_token_id,)

    def encode(self, text: str) -> list[int]:
        return self._server.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self._server.decode(list(ids))

    def token_id(self, token: str) -> int | None:
        return self._specials.index(token) if token in self._specials else None

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        body = "".join(f"{_IM_START}{m['role']}\n{m['content']}{_IM_END}\n" for m in messages)
        return body + f"{_IM_START}assistant\n"
