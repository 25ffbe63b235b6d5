"""Building the next request of a sketch/feedback conversation so the server's prefix cache hits."""

from __future__ import annotations

from collections.abc import Sequence

from ..core.protocols import Tokenizer
from ..core.types import GenerationRequest, Sampling


def next_request(
    previous: GenerationRequest,
    output_text: str,
    output_ids: Sequence[int],
    feedback: str,
    tokenizer: Tokenizer,
    *,
    sampling: Sampling | None = None,
) -> GenerationRequest:
    """The request that continues ``previous`` after its output and the rendered feedback.

    Token ids are kept when both the previous prompt and the output came with ids: re-tokenising the
    concatenated text could change ids at the boundaries and lose the server's prefix cache. When the
    server returned no ids, the continuation falls back to text."""
    text = previous.prompt_text + output_text + feedback
    ids: tuple[int, ...] | None = None
    if previous.prompt_ids is not None and (output_ids or not output_text):
        ids = (*previous.prompt_ids, *output_ids, *tokenizer.encode(feedback))
    return GenerationRequest(text, ids, sampling or previous.sampling, previous.session)
