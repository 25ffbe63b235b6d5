"""A stand-in tokenizer for a model server that can't tokenize for us and no local copy of the model.

Prompts are rendered from a chat template (the server's, when it exposes one; else the family's own rendering) and
sent as text; continuations go as text too. Nothing here knows the vocabulary, so ``exact_ids`` is False: the
attempt loop never sends ids, and ``encode`` only estimates how many tokens a text costs, for the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .fast_tokenizer import compile_chat_template

# Bytes per token, a little below what BPE vocabularies average on Lean and prose (3.5–4 characters, a Unicode
# symbol is 3 bytes and about one token), so the budget errs on the side of stopping before the server's limit.
BYTES_PER_TOKEN = 3
PLACEHOLDER_ID = -1  # never a valid id: a server would refuse it, so an estimate can't pass for a prompt


class TextPromptTokenizer:
    exact_ids = False
    eos_token_ids: Sequence[int] = ()

    def __init__(self, template: str, specials: Mapping[str, str] | None = None, *, source: str = "") -> None:
        self._template: Any = compile_chat_template(template)
        self._specials = dict(specials or {})
        self.source = source  # where the template came from, for messages

    def encode(self, text: str) -> list[int]:
        """Placeholder ids whose count estimates the tokens of ``text``."""
        n = len(text.encode("utf-8"))
        return [PLACEHOLDER_ID] * (-(-n // BYTES_PER_TOKEN))

    def decode(self, ids: Sequence[int]) -> str:
        raise ValueError("no vocabulary here: the model server can't detokenize and there is no local tokenizer")

    def token_id(self, token: str) -> int | None:
        return None  # stops are sent as strings instead

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return str(self._template.render(messages=[dict(m) for m in messages], add_generation_prompt=True,
                                         **self._specials))
