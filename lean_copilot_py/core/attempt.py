"""One sketch/feedback conversation with the model (StepFun-Prover style).

The model writes until it closes a ``<sketch>``; the sketch is screened, pinned under the target's original
statement and checked by Lean; the verdict is rendered in the family's feedback format and generation
continues from the same token ids (prefix-cache hits). At the end of the output, the final Lean code is
pinned, screened strictly and must be PROVED. Nothing the model writes can make this raise: malformed
output becomes feedback or a clean failure recorded in the transcript.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .cancel import raise_if_cancelled
from .pinning import pin_code
from .protocols import CheckFn, CheckPriority, Generator, Problem, PromptFamily, Tokenizer
from .screen import screen_candidate
from .types import Candidate, FinishReason, GenerationRequest, Target, Verdict, refusal_verdict
from .verification import checked

if TYPE_CHECKING:
    from ..settings import SearchSettings

# --- records -------------------------------------------------------------------------------------------


@dataclass
class TurnRecord:
    index: int
    sent: str  # the prompt (turn 0) or the feedback appended before this generation call
    output: str = ""
    sketch: str | None = None
    final: str | None = None
    verdict: Verdict | None = None
    feedback: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    model_seconds: float = 0.0
    lean_seconds: float = 0.0
    note: str = ""  # why the turn ended the attempt, screening refusals, backend errors


@dataclass
class AttemptResult:
    attempt: int
    proof: Candidate | None = None  # a verified proof (strict screening passed and Lean said PROVED)
    verdict: Verdict | None = None
    reason: str = ""
    turns: list[TurnRecord] = field(default_factory=list)
    backend_error: str = ""  # set when the model could not be used at all
    produced_output: bool = False

    @property
    def prompt_tokens(self) -> int:
        return sum(t.prompt_tokens for t in self.turns)

    @property
    def completion_tokens(self) -> int:
        return sum(t.completion_tokens for t in self.turns)


@dataclass(frozen=True)
class AttemptConfig:
    context_tokens: int = 20480
    max_tokens: int = 16384
    max_turns: int = 0  # 0 = no cap
    temperature: float | None = None
    top_p: float | None = None
    allow_native_decide: bool = False
    max_helpers: int = 8
    max_helper_chars: int = 20000

    @classmethod
    def from_settings(cls, search: SearchSettings, *, allow_native_decide: bool = False) -> AttemptConfig:
        return cls(
            context_tokens=search.context_tokens,
            max_tokens=search.max_tokens,
            max_turns=search.max_turns,
            temperature=search.temperature,
            top_p=search.top_p,
            allow_native_decide=allow_native_decide,
            max_helpers=search.max_helpers,
            max_helper_chars=search.max_helper_chars,
        )


SketchHook = Callable[[int, int, Verdict], None]  # (attempt, turn, verdict)


class Attempt:
    """One conversation. ``run()`` returns an AttemptResult; cancellation propagates (closing the stream),
    and ``self.result`` keeps the turns recorded so far for the transcript."""

    def __init__(
        self,
        index: int,
        target: Target,
        problem: Problem,
        generator: Generator,
        family: PromptFamily,
        check: CheckFn,
        config: AttemptConfig,
        *,
        session: str = "",
        on_sketch: SketchHook | None = None,
    ) -> None:
        self.index = index
        self.target = target
        self.problem = problem
        self.generator = generator
        self.family = family
        self.check = check
        self.config = config
        self.session = session or f"attempt-{index}"
        self.on_sketch = on_sketch
        self.result = AttemptResult(attempt=index)

    async def run(self) -> AttemptResult:
        try:
            await self._loop()
        except asyncio.CancelledError:
            self.result.reason = self.result.reason or "cancelled"
            raise
        except TimeoutError:
            self.result.reason = "deadline reached"
        except Exception as exc:  # a bug in a seam (family, tokenizer) ends this attempt, not the search
            self.result.reason = f"attempt failed: {type(exc).__name__}: {exc}"
        return self.result

    # -- the loop ---------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        tok: Tokenizer = self.generator.tokenizer
        family, cfg, res = self.family, self.config, self.result
        # Tokenizer work (and the family methods that use it) may block, e.g. on the model server's /tokenize:
        # always off the event loop.
        off_loop = asyncio.to_thread
        prompt = await off_loop(family.initial_prompt, self.problem, tok)
        text = prompt
        ids: list[int] | None = list(await off_loop(tok.encode, prompt)) if tok.exact_ids else None
        base = await off_loop(family.sampling, tok)
        base = replace(
            base,
            temperature=cfg.temperature if cfg.temperature is not None else base.temperature,
            top_p=cfg.top_p if cfg.top_p is not None else base.top_p,
        )
        sent = prompt
        turn_no = 0
        while True:
            if cfg.max_turns and turn_no >= cfg.max_turns:
                res.reason = f"turn limit ({cfg.max_turns}) reached"
                return
            used = len(ids) if ids is not None else len(await off_loop(tok.encode, text))
            remaining = cfg.context_tokens - used
            if remaining <= 0:
                res.reason = f"token budget ({cfg.context_tokens}) exhausted"
                return
            rec = TurnRecord(index=turn_no, sent=sent, prompt_tokens=used)
            res.turns.append(rec)
            sampling = replace(base, max_tokens=max(1, min(cfg.max_tokens, base.max_tokens, remaining)))
            request = GenerationRequest(
                prompt_text=text, prompt_ids=tuple(ids) if ids is not None else None,
                sampling=sampling, session=self.session,
            )
            output, out_ids, finish, stop_reason, error = await self._generate(request, rec)
            if error:
                rec.note = f"model error: {error}"
                if not res.produced_output:
                    res.backend_error = error
                res.reason = rec.note
                return
            res.produced_output = True
            output, out_ids = await off_loop(_with_stop_text, output, out_ids, stop_reason, tok)
            rec.output = output
            rec.completion_tokens = len(out_ids) if out_ids else len(await off_loop(tok.encode, output))
            rec.finish_reason = finish.value if finish else ""

            if finish is FinishReason.STOP and family.uses_feedback and self._closed_sketch(output, stop_reason, tok):
                rec.sketch = family.parse(output, False).sketch
                verdict = await self._check_sketch(rec, turn_no)
                if res.proof is not None:
                    return
                feedback = await off_loop(family.render_feedback, verdict, verdict.elapsed, turn_no)
                rec.feedback = feedback
                # Continue from the same ids (prefix-cache hits); fall back to text when ids are missing.
                if ids is not None and out_ids:
                    ids = ids + list(out_ids) + list(await off_loop(tok.encode, feedback))
                else:
                    ids = None
                text = text + output + feedback
                sent = feedback
                turn_no += 1
                continue

            # The output has ended (EOS, length, or a stop that closed no sketch): judge the final code.
            if finish is FinishReason.LENGTH and used + rec.completion_tokens >= cfg.context_tokens:
                rec.note = f"token budget ({cfg.context_tokens}) exhausted"
            await self._check_final(rec, text[len(prompt):] + output)
            return

    def _closed_sketch(self, output: str, stop_reason: str | int | None, tok: Tokenizer) -> bool:
        """Did this call stop at a sketch's closing tag (continue) rather than at the end of the output?"""
        if stop_reason is not None and stop_reason not in tuple(tok.eos_token_ids):
            return True  # the sketch stop matched (an empty sketch then gets "empty" feedback)
        if self.family.parse(output, False).sketch is None:
            return False
        # No stop reason (or EOS right after a sketch): a sketch turn only if there is no final code yet.
        return stop_reason is None and self.family.parse(output, True).final is None

    async def _generate(
        self, request: GenerationRequest, rec: TurnRecord
    ) -> tuple[str, list[int], FinishReason | None, str | int | None, str]:
        parts: list[str] = []
        out_ids: list[int] = []
        finish: FinishReason | None = None
        stop_reason: str | int | None = None
        error = ""
        start = time.monotonic()
        stream = self.generator.stream(request)
        try:
            async for chunk in stream:
                parts.append(chunk.text)
                out_ids.extend(chunk.token_ids)
                if chunk.error:
                    error = chunk.error
                if chunk.finish_reason is not None:
                    finish, stop_reason = chunk.finish_reason, chunk.stop_reason
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # connection refused, HTTP errors: the backend is a seam
            error = f"{type(exc).__name__}: {exc}"
        finally:
            # Closing the iterator closes the HTTP request / aborts the engine request, also on cancel.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:  # closing a broken stream must not hide the real outcome
                    pass
            rec.model_seconds += time.monotonic() - start
        raise_if_cancelled()  # a stream that ended as its attempt was cancelled may have eaten the cancel
        if finish is FinishReason.ERROR and not error:
            error = "the model backend reported an error"
        if finish is None and not error:
            finish = FinishReason.LENGTH  # the stream ended without saying why: treat as cut off
        return "".join(parts), out_ids, finish, stop_reason, error

    async def _check_sketch(self, rec: TurnRecord, turn_no: int) -> Verdict:
        cfg, res = self.config, self.result
        origin = f"model:attempt-{self.index}:turn-{turn_no}"
        sketch = (rec.sketch or "").strip()
        if not sketch:
            verdict = refusal_verdict("the sketch is empty: write Lean code between <sketch> and </sketch>")
        else:
            verdict = await self._pin_screen_check(sketch, origin, strict=False, rec=rec)
        rec.verdict = verdict
        cand = self._last_candidate
        # A sketch Lean proves is a proof, if it also passes strict screening (no sorry, no exact?).
        if verdict.proved and cand is not None:
            if screen_candidate(cand, strict=True, allow_native_decide=cfg.allow_native_decide) is None:
                res.proof, res.verdict = cand, verdict
                res.reason = "proved by a sketch"
        if self.on_sketch is not None:
            self.on_sketch(self.index, turn_no, verdict)
        return verdict

    async def _check_final(self, rec: TurnRecord, full_output: str) -> None:
        res = self.result
        turn = self.family.parse(rec.output, True)
        final = turn.final
        if final is None and full_output != rec.output:
            final = self.family.parse(full_output, True).final
        rec.final = final
        if final is None or not final.strip():
            res.reason = rec.note or "the output ended without Lean code"
            return
        verdict = await self._pin_screen_check(final, f"model:attempt-{self.index}:final", strict=True, rec=rec)
        rec.verdict = verdict
        res.verdict = verdict
        if verdict.proved and self._last_candidate is not None:
            res.proof = self._last_candidate
            res.reason = "proved"
        else:
            res.reason = f"final proof not accepted: {verdict.outcome.value}" + (
                f" ({verdict.reason})" if verdict.reason else ""
            )
            if rec.note:
                res.reason = f"{rec.note}; {res.reason}"

    _last_candidate: Candidate | None = None

    async def _pin_screen_check(self, code: str, origin: str, *, strict: bool, rec: TurnRecord) -> Verdict:
        self._last_candidate = None
        cfg = self.config
        pinned = pin_code(self.target, code, origin, max_helpers=cfg.max_helpers, max_helper_chars=cfg.max_helper_chars)
        if isinstance(pinned, Verdict):
            return pinned
        refused = screen_candidate(pinned, strict=strict, allow_native_decide=self.config.allow_native_decide)
        if refused is not None:
            return refused
        start = time.monotonic()
        # A final answer is one check from a proof; a sketch of a later turn comes from a conversation that
        # has read Lean's feedback: both go ahead of first guesses when Lean's slots are scarce.
        priority = CheckPriority(final=strict, turn=rec.index, owner=self.session)
        verdict = await checked(self.check, pinned, priority)
        rec.lean_seconds += time.monotonic() - start
        if not verdict.elapsed:
            verdict = replace(verdict, elapsed=time.monotonic() - start)
        self._last_candidate = pinned
        return verdict


def _with_stop_text(
    output: str, out_ids: list[int], stop_reason: str | int | None, tok: Tokenizer
) -> tuple[str, list[int]]:
    """Make sure a matched stop (``</sketch>``) is part of the output, whatever the backend's
    include-stop setting: the family's parser needs the closing tag, the continuation needs its ids."""
    if isinstance(stop_reason, str) and stop_reason and not output.endswith(stop_reason):
        return output + stop_reason, (out_ids + list(tok.encode(stop_reason))) if out_ids else out_ids
    if isinstance(stop_reason, int) and not isinstance(stop_reason, bool):
        if stop_reason in tuple(tok.eos_token_ids):
            return output, out_ids
        if out_ids and out_ids[-1] == stop_reason:
            piece = tok.decode([stop_reason])
            return (output if output.endswith(piece) else output + piece), out_ids
        piece = tok.decode([stop_reason])
        if piece and not output.endswith(piece):
            output += piece
        return output, [*out_ids, stop_reason] if out_ids else out_ids
    return output, out_ids
