"""StepFun-Prover-Preview's loop, as its demo runs it (demo/interact_with_lean4repl.py), on our fakes.

One attempt at a time. Each turn re-sends the whole conversation as text (no token ids) and generates
until `</sketch>` or the end; the sketch (`import Mathlib` removed) is run in a *fresh* checker, so every
sketch pays the import header again; the REPL's JSON is appended as ``\\n<REPL>\\n...\\n</REPL>`` and the
loop continues. At the end of the output the last ```lean4 block is the answer, checked once more. The
next attempt starts only when this one has failed. Sampling and the 20,480-token budget are the demo's.
Checks go through our LeanChecker (the same fake Lean server, the same pinning under the original
statement) so the two loops differ only in how they drive the model and Lean.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.pinning import pin_code
from ..core.types import FinishReason, GenerationRequest, Outcome, Sampling, Target, Verdict
from ..models.families.common import repl_response
from ..models.families.stepfun import SYSTEM_PROMPT
from ..models.openai_backend import OpenAIGenerator
from ..settings import LeanSettings
from .timing import Recorder, TimedChecker, TimedGenerator

MAX_SEQ_LEN = 20480
_CODE = re.compile(r"```lean4?\n(.*?)```", re.S)


@dataclass
class ReferenceResult:
    proved: bool = False
    attempts: int = 0
    turns: int = 0  # generation calls
    sketches: int = 0
    proof_origin: str = ""
    winning_attempt: int = 0
    notes: list[str] = field(default_factory=list)


async def _fresh_check(target: Target, code: str, origin: str, project: Path, lean: LeanSettings,
                       rec: Recorder) -> Verdict:
    """A new checker (a new Lean server: the header is imported again), one check, closed."""
    from ..lean.checker import LeanChecker

    pinned = pin_code(target, code, origin)
    if isinstance(pinned, Verdict):
        return pinned
    checker = LeanChecker(project, lean)
    start = time.monotonic()
    await checker.start()
    rec.add("lean-start", start, key=origin)
    try:
        return await TimedChecker(checker, rec).check(target, pinned, timeout=lean.check_timeout_s)
    finally:
        start = time.monotonic()
        await checker.aclose()
        rec.add("lean-stop", start, key=origin)


async def run_reference(
    *, target: Target, formal_problem: str, generator: OpenAIGenerator, project: Path, lean: LeanSettings,
    rec: Recorder, max_attempts: int,
) -> ReferenceResult:
    """``generator`` is built by the caller before its clock starts (creating an HTTP client is not a turn)."""
    gen = TimedGenerator(generator, rec)
    tokenizer = generator.tokenizer
    close_id = tokenizer.token_id("</sketch>")
    sampling = Sampling(temperature=0.999, top_p=0.95, max_tokens=16384,
                        stop_token_ids=(*tokenizer.eos_token_ids, *([close_id] if close_id is not None else [])))
    dialog = [{"role": "system", "content": SYSTEM_PROMPT},
              {"role": "user", "content": f"```lean4\n{formal_problem}\n```"}]
    start_prompt = tokenizer.chat_prompt(dialog)
    res = ReferenceResult()
    try:
        for attempt in range(1, max_attempts + 1):
            res.attempts = attempt
            prompt = start_prompt
            while True:
                request = GenerationRequest(prompt_text=prompt, prompt_ids=None, sampling=sampling,
                                            session=f"ref-{attempt}")
                text, out_tokens, finish, stop_reason = "", 0, None, None
                async for chunk in gen.stream(request):
                    text += chunk.text
                    out_tokens += len(chunk.token_ids)
                    if chunk.finish_reason is not None:
                        finish, stop_reason = chunk.finish_reason, chunk.stop_reason
                res.turns += 1
                prompt += text
                if finish is not FinishReason.STOP:
                    res.notes.append(f"attempt {attempt}: the response did not stop normally ({finish})")
                    break
                if len(tokenizer.encode(prompt)) >= MAX_SEQ_LEN:
                    res.notes.append(f"attempt {attempt}: exceeded the {MAX_SEQ_LEN}-token budget")
                    break
                if close_id is not None and stop_reason == close_id:
                    if "<sketch>" not in text:
                        res.notes.append(f"attempt {attempt}: format error")
                        break
                    sketch = text[text.find("<sketch>") + len("<sketch>"): text.find("</sketch>")]
                    sketch = sketch.replace("import Mathlib", "").strip()
                    started = time.monotonic()
                    verdict = await _fresh_check(target, sketch, f"ref:attempt-{attempt}:sketch-{res.sketches}",
                                                 project, lean, rec)
                    res.sketches += 1
                    if verdict.outcome is Outcome.TIMEOUT:
                        repl = f"repl cannot return status in {time.monotonic() - started} seconds!"
                    else:
                        repl = json.dumps(repl_response(verdict), ensure_ascii=False)
                    prompt += f"\n<REPL>\n{repl}\n</REPL>"
                    continue
                break  # end of sentence: thinking and summary are done
            blocks = _CODE.findall(prompt[len(start_prompt):])
            if not blocks:
                continue
            verdict = await _fresh_check(target, blocks[-1], f"ref:attempt-{attempt}:final", project, lean, rec)
            if verdict.proved:
                res.proved, res.winning_attempt = True, attempt
                res.proof_origin = f"ref:attempt-{attempt}:final"
                return res
        return res
    finally:
        await gen.aclose()
