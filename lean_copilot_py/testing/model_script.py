"""The fake model server's (fake_openai.py) script format, and what a scripted turn emits under a request's stop rules.

Script format (JSON; a bare list means {"scripts": list}, a script that is a list means {"turns": list})::

    {"model": "fake-model", "latency_s": 0.0, "turn_marker": "\\n<REPL>\\n",
     "scripts": [                                  # one per attempt: round robin, or seed % n
        {"match": "optional regex on the prompt",
         "turns": ["text of turn 0", {"text": "turn 1", "fail": "drop", "after": 3, "latency_s": 0.05}]}]}

The turn index of a request is the number of ``turn_marker`` occurrences in its prompt (ids are decoded).
Turn 0 picks the next eligible script (``seed % n`` when the request has a seed); turn k > 0 picks the
first eligible script whose turns 0..k-1, as they would have been emitted, all occur in the prompt, so a
continuation stays on its attempt's script. Past the last turn the model just ends (EOS).
A turn's text is what the model "would say": the server appends EOS and cuts it at the request's stop
strings / stop_token_ids / max_tokens exactly like vLLM (stop_reason, include_stop_str_in_output, EOS text
kept since skip_special_tokens is false). ``fail``: "http500" (no stream), "drop" (close the connection
after ``after`` tokens), "garbage" (a non-JSON SSE event), "non_utf8" (invalid bytes), "hang" (never end).
``ids``: the token ids the model samples instead of ``text`` tokenized (a model may emit a split that
re-tokenizing its text would merge: what token-exact continuations must keep).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class TurnScript:
    text: str = ""
    ids: list[int] | None = None
    fail: str | None = None
    after: int = 0
    latency_s: float | None = None


@dataclass
class Script:
    turns: list[TurnScript]
    match: str | None = None


def parse_script(data: Any) -> tuple[list[Script], dict[str, Any]]:
    if isinstance(data, list):
        data = {"scripts": data}
    scripts = []
    for raw in data.get("scripts", []):
        if isinstance(raw, list):
            raw = {"turns": raw}
        turns = [TurnScript(text=t) if isinstance(t, str) else TurnScript(**t) for t in raw.get("turns", [])]
        scripts.append(Script(turns=turns, match=raw.get("match")))
    opts = {k: v for k, v in data.items() if k != "scripts"}
    return scripts, opts


@dataclass
class Params:
    max_tokens: int
    stop: list[str]
    stop_token_ids: set[int]
    include_stop: bool
    ignore_eos: bool


def params_of(body: dict[str, Any]) -> Params:
    stop = body.get("stop") or []
    return Params(
        max_tokens=int(body.get("max_tokens") or 16),
        stop=[stop] if isinstance(stop, str) else list(stop),
        stop_token_ids=set(body.get("stop_token_ids") or []),
        include_stop=bool(body.get("include_stop_str_in_output")),
        ignore_eos=bool(body.get("ignore_eos")),
    )


def emit(
    tok: Any, text: str, p: Params, scripted: list[int] | None = None
) -> Iterator[tuple[str, int, str | None, Any]]:
    """Yield (text_delta, token_id, finish_reason, stop_reason) per token of ``text`` (or of the ``scripted`` ids)
    followed by EOS, cut at the request's stops exactly as vLLM's engine cuts a generation."""
    eos = tok.eos_token_ids[0]
    ids = [*(tok.encode(text) if scripted is None else scripted), eos]
    out: list[int] = []
    sent = 0
    hold = max((len(s) for s in p.stop), default=1) - 1
    for n, tid in enumerate(ids, 1):
        out.append(tid)
        finish = stop_reason = None
        full = tok.decode(out)
        if not p.ignore_eos and tid == eos:
            finish = "stop"
        elif tid in p.stop_token_ids:
            finish, stop_reason = "stop", tid
        if finish and not p.include_stop:
            full = tok.decode(out[:-1])
        if finish is None:
            for s in p.stop:
                at = full.find(s, max(0, sent - len(s)))
                if at >= 0:
                    finish, stop_reason = "stop", s
                    full = full[: at + len(s)] if p.include_stop else full[:at]
                    break
        if finish is None and n >= p.max_tokens:
            finish = "length"
        if finish is None:
            safe = max(sent, len(full) - hold)
            while safe > sent and full[safe - 1 : safe] == "\ufffd":
                safe -= 1
            delta, sent = full[sent:safe], safe
            yield delta, tid, None, None
        else:
            yield full[sent:], tid, finish, stop_reason
            return
