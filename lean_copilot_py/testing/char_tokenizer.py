"""CharTokenizer: one token per character, for the fake model server and for whatever talks to it.

The StepFun/Qwen special tags are single tokens (ids 0..8, ``<|endoftext|>`` the EOS); any other character c
is the token ``ord(c) + 1000``. So a workload is sized in tokens by its length in characters, ids are exact
(a text re-tokenises to the ids it came from: the *best* case for a client that re-sends text), and no
tokenizer files or transformers import are needed. It is both the fake server's tokenizer (``encode``,
``decode``, ``eos_token_ids``) and a ``core.protocols.Tokenizer`` (``token_id``, ``chat_prompt``: Qwen's chat
template, as StepFun-Prover-Preview's tokenizer applies it with add_generation_prompt=True).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..models.tiny_tokenizer import SPECIAL_TOKENS as SPECIALS

OFFSET = 1000  # ids below are the specials'
_IM_START, _IM_END = "<|im_start|>", "<|im_end|>"


class CharTokenizer:
    exact_ids = True

    def __init__(self) -> None:
        self._re = re.compile("|".join(re.escape(s) for s in SPECIALS))
        self.eos_token_id = 0
        self.eos_token = SPECIALS[0]
        self.eos_token_ids: Sequence[int] = (self.eos_token_id,)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        pos = 0
        for m in self._re.finditer(text):
            ids.extend(ord(c) + OFFSET for c in text[pos : m.start()])
            ids.append(SPECIALS.index(m.group()))
            pos = m.end()
        ids.extend(ord(c) + OFFSET for c in text[pos:])
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(SPECIALS[i] if i < len(SPECIALS) else chr(i - OFFSET) for i in ids)

    def token_id(self, token: str) -> int | None:
        return SPECIALS.index(token) if token in SPECIALS else None

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        body = "".join(f"{_IM_START}{m['role']}\n{m['content']}{_IM_END}\n" for m in messages)
        return body + f"{_IM_START}assistant\n"
