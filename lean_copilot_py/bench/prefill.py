"""Prefill accounting from the fake model server's request log.

For each request: ``sent`` = prompt tokens sent; ``new`` = tokens the server had not seen as a prefix of
an earlier request's prompt + output (what an ideal prefix cache still has to prefill); ``new_blocks`` =
the same with vLLM's granularity (only whole 16-token blocks are cached); ``appended`` = tokens added
since the same conversation's previous request ended (the feedback), for continuations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from ..core.protocols import Tokenizer

BLOCK = 16  # vLLM's default prefix-cache block size


@dataclass(frozen=True)
class PrefillRow:
    index: int
    turn: int
    kind: str  # "ids" | "text"
    sent: int
    new: int
    new_blocks: int
    appended: int | None  # None for a conversation's first request


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def prefill_rows(records: list[dict[str, Any]], tokenizer: Tokenizer) -> list[PrefillRow]:
    seen: list[list[int]] = []  # prompt + output of every earlier request
    rows: list[PrefillRow] = []
    for r in sorted(records, key=lambda r: r["index"]):
        ids = list(r["prompt_ids"]) if r.get("prompt_ids") is not None else tokenizer.encode(r["prompt_text"])
        shared = max((_common(ids, s) for s in seen), default=0)
        # The previous turn of this conversation: an earlier sequence that this prompt extends entirely.
        parents = [len(s) for s in seen if len(s) <= len(ids) and _common(ids, s) == len(s)]
        appended = len(ids) - max(parents) if parents and r.get("turn", 0) > 0 else None
        rows.append(PrefillRow(r["index"], r.get("turn", 0), r["prompt_kind"], len(ids), len(ids) - shared,
                               len(ids) - (shared // BLOCK) * BLOCK, appended))
        seen.append(ids + list(r.get("output_ids") or []))
    return rows


def summarize(rows: list[PrefillRow]) -> dict[str, Any]:
    firsts = [r for r in rows if r.turn == 0]
    conts = [r for r in rows if r.turn > 0]

    def avg(xs: list[int]) -> float | None:
        return round(mean(xs), 1) if xs else None

    return {
        "requests": len(rows),
        "prompt_kind": sorted({r.kind for r in rows}),
        "sent_tokens_total": sum(r.sent for r in rows),
        "new_tokens_total": sum(r.new for r in rows),
        "new_block_tokens_total": sum(r.new_blocks for r in rows),
        "first_turn_sent_mean": avg([r.sent for r in firsts]),
        "first_turn_new_mean": avg([r.new for r in firsts]),
        "continuations": len(conts),
        "continuation_sent_mean": avg([r.sent for r in conts]),
        "continuation_new_mean": avg([r.new for r in conts]),
        "continuation_new_blocks_mean": avg([r.new_blocks for r in conts]),
        "continuation_feedback_mean": avg([r.appended for r in conts if r.appended is not None]),
        "continuations_new_equals_feedback": sum(1 for r in conts if r.appended is not None and r.new <= r.appended),
    }
