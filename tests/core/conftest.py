"""In-memory doubles of the seams (Checker, Generator, Tokenizer, PromptFamily) for the search core."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lean_copilot_py.core.attempt import AttemptConfig
from lean_copilot_py.core.protocols import CheckPriority, Problem, Turn
from lean_copilot_py.core.search import SearchConfig
from lean_copilot_py.core.types import (
    Candidate,
    FinishReason,
    GenerationChunk,
    GenerationRequest,
    LeanMessage,
    Outcome,
    Pos,
    Sampling,
    Severity,
    Span,
    Target,
    Verdict,
)
from lean_copilot_py.testing.char_tokenizer import CharTokenizer
from tests.helpers import STATEMENT, make_target

# --- tokenizer / family -------------------------------------------------------------------------------


_SKETCH = re.compile(r"<sketch>(.*?)</sketch>\s*$", re.S)
_CODE = re.compile(r"```lean4?\n(.*?)```", re.S)


class FakeFamily:
    name = "fake"
    uses_feedback = True

    def sampling(self, tokenizer: CharTokenizer) -> Sampling:
        return Sampling(stop=("</sketch>",), max_tokens=16384)

    def initial_prompt(self, problem: Problem, tokenizer: CharTokenizer) -> str:
        return tokenizer.chat_prompt([{"role": "user", "content": f"{problem.header}{problem.statement}"}])

    def parse(self, output: str, finished: bool) -> Turn:
        m = _SKETCH.search(output)
        sketch = m.group(1) if m else None
        final = None
        if finished:
            blocks = _CODE.findall(output.split("</think>")[-1])
            final = blocks[-1] if blocks else None
        return Turn(sketch=sketch, final=final)

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        msgs = "|".join(m.text for m in verdict.messages)
        return f"\n<REPL>{verdict.outcome.value}:{verdict.reason}:{msgs}</REPL>\n"


# --- generator ----------------------------------------------------------------------------------------


Reply = list[GenerationChunk] | BaseException


def chunks(text: str, *, stop: str | int | None = "</sketch>", finish: FinishReason = FinishReason.STOP,
           size: int = 16, ids: bool = True) -> list[GenerationChunk]:
    """A streamed reply; the stop string is included in the text (include_stop_str_in_output). Token ids are the
    character tokenizer's, ``size`` to a chunk, so a special tag is never split across chunks."""
    out = []
    tokens = CharTokenizer().encode(text)
    for i in range(0, len(tokens), size):
        piece = tokens[i:i + size]
        out.append(GenerationChunk(text=CharTokenizer().decode(piece), token_ids=tuple(piece) if ids else ()))
    out.append(GenerationChunk(finish_reason=finish, stop_reason=stop))
    return out


def sketch_reply(code: str, **kw) -> list[GenerationChunk]:
    return chunks(f"Let me check.\n<sketch>\n{code}\n</sketch>", **kw)


def final_reply(code: str, **kw) -> list[GenerationChunk]:
    kw.setdefault("stop", None)
    return chunks(f"</think>\nHere it is:\n```lean4\n{code}\n```", **kw)


def thm(body: str, statement: str = STATEMENT) -> str:
    return f"{statement} := by\n  {body}"


@dataclass
class FakeGenerator:
    """Scripted replies: ``script(request, call_no_of_this_session)`` returns chunks or an exception.
    Tracks open streams so tests can prove cancelled requests were really closed."""

    script: Callable[[GenerationRequest, int], Reply]
    delay: float = 0.0
    tokenizer: CharTokenizer = field(default_factory=CharTokenizer)
    requests: list[GenerationRequest] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    open_streams: int = 0
    closed_streams: int = 0
    closed: bool = False

    def stream(self, request: GenerationRequest):
        self.requests.append(request)
        n = self.calls.get(request.session, 0)
        self.calls[request.session] = n + 1
        reply = self.script(request, n)
        return self._stream(reply)

    async def _stream(self, reply: Reply):
        self.open_streams += 1
        try:
            if isinstance(reply, BaseException):
                raise reply
            for c in reply:
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield c
        finally:
            self.open_streams -= 1
            self.closed_streams += 1

    async def aclose(self) -> None:
        self.closed = True


# --- checker ------------------------------------------------------------------------------------------


def proved() -> Verdict:
    return Verdict(Outcome.PROVED, axioms=("propext",), reason="ok")


def failed(msg: str = "unknown identifier 'bogus'") -> Verdict:
    return Verdict(Outcome.FAILED, messages=(LeanMessage(Severity.ERROR, Span(Pos(1, 2), Pos(1, 7)), msg),),
                   reason=msg)


def default_rule(c: Candidate) -> Verdict:
    if "slow" in c.proof:
        return Verdict(Outcome.TIMEOUT, reason="timed out", elapsed=60.0)
    if "omega" in c.proof or "good" in c.proof:
        return proved()
    return failed()


@dataclass
class FakeChecker:
    rule: Callable[[Candidate], Verdict] = default_rule
    delay: float = 0.0
    goals: list[str] | None = field(default_factory=lambda: ["n : Nat\n⊢ n + 0 = n"])
    calls: list[tuple[Candidate, Verdict]] = field(default_factory=list)
    priorities: list[CheckPriority | None] = field(default_factory=list)
    closed: bool = False
    environment_epoch: int = 0  # what LeanChecker exposes; core/sharing.py forgets its memo when it changes

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        return self.goals

    async def check(self, target: Target, candidate: Candidate, *, timeout: float | None = None,  # noqa: ASYNC109
                    priority: CheckPriority | None = None) -> Verdict:
        self.priorities.append(priority)
        if self.delay:
            await asyncio.sleep(self.delay)
        v = self.rule(candidate)
        self.calls.append((candidate, v))
        return v

    async def aclose(self) -> None:
        self.closed = True

    def checked_proofs(self) -> list[str]:
        return [c.proof for c, _ in self.calls]


def config(tmp_path: Path | None = None, **kw) -> SearchConfig:
    att = AttemptConfig(**{k: kw.pop(k) for k in list(kw) if k in AttemptConfig.__dataclass_fields__})
    kw.setdefault("automation", ())
    kw.setdefault("attempts", 1)
    kw.setdefault("deadline_s", 10.0)
    return SearchConfig(attempt=att, transcript_dir=tmp_path, **kw)


@pytest.fixture
def target() -> Target:
    return make_target()
