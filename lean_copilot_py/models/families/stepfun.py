"""StepFun-Prover-Preview: think, check partial proofs between <sketch> and </sketch>, read the Lean REPL's
JSON between <REPL> and </REPL>, continue in the same assistant turn (PROTOCOLS §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...core.protocols import Problem, Tokenizer, Turn
from ...core.types import Outcome, Sampling, Verdict
from .common import final_answer, format_seconds, repl_response, strip_imports, strip_trailing_specials

SYSTEM_PROMPT = (
    "You will be given an unsolved Lean 4 problem. Think carefully and work towards a solution. At any point, "
    "you may use the Lean 4 REPL to check your progress by enclosing your partial solution between <sketch> "
    "and </sketch>. The REPL feedback will be provided between <REPL> and </REPL>. Continue this process as "
    "needed until you arrive at a complete and correct solution."
)
SKETCH_OPEN, SKETCH_CLOSE = "<sketch>", "</sketch>"


@dataclass
class StepFunFamily:
    name: str = "stepfun"
    uses_feedback: bool = True
    temperature: float = 0.999
    top_p: float = 0.95
    max_tokens: int = 16384

    def sampling(self, tokenizer: Tokenizer) -> Sampling:
        stop_ids = list(tokenizer.eos_token_ids)
        stop: tuple[str, ...] = ()
        close_id = tokenizer.token_id(SKETCH_CLOSE)
        if close_id is None:
            stop = (SKETCH_CLOSE,)  # the vocabulary has no such token: stop on the string instead
        else:
            stop_ids.append(close_id)
        return Sampling(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            stop=stop,
            stop_token_ids=tuple(dict.fromkeys(stop_ids)),
        )

    def user_prompt(self, problem: Problem) -> str:
        return f"```lean4\n{problem.header}{problem.statement}\n```"

    def initial_prompt(self, problem: Problem, tokenizer: Tokenizer) -> str:
        return tokenizer.chat_prompt(
            [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": self.user_prompt(problem)}]
        )

    def parse(self, output: str, finished: bool) -> Turn:
        text = strip_trailing_specials(output).rstrip()
        if text.endswith(SKETCH_CLOSE):
            body = text[: -len(SKETCH_CLOSE)]
            start = body.rfind(SKETCH_OPEN)
            if start < 0:
                return Turn(None, None)
            sketch = strip_imports(body[start + len(SKETCH_OPEN) :]).strip("\n")
            return Turn(sketch if sketch.strip() else None, None)
        if finished:
            return Turn(None, final_answer(output))
        return Turn(None, None)

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        if verdict.outcome is Outcome.TIMEOUT:
            body = f"repl cannot return status in {format_seconds(elapsed)} seconds!"
        else:
            body = json.dumps(repl_response(verdict), ensure_ascii=False)
        return "\n<REPL>\n" + body + "\n</REPL>"
