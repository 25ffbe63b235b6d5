"""StepFun-Prover-Preview: think, check partial proofs between <sketch> and </sketch>, read the Lean REPL's
JSON between <REPL> and </REPL>, continue in the same assistant turn (PROTOCOLS §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...core.protocols import PriorTurn, Problem, Tokenizer, Turn
from ...core.types import Outcome, Sampling, Verdict
from .common import final_answer, format_seconds, repl_response, strip_imports, strip_trailing_specials

SYSTEM_PROMPT = (
    "You will be given an unsolved Lean 4 problem. Think carefully and work towards a solution. At any point, "
    "you may use the Lean 4 REPL to check your progress by enclosing your partial solution between <sketch> "
    "and </sketch>. The REPL feedback will be provided between <REPL> and </REPL>. Continue this process as "
    "needed until you arrive at a complete and correct solution."
)
SKETCH_OPEN, SKETCH_CLOSE = "<sketch>", "</sketch>"
THINK_OPEN = "<think>"
# A repair's prior turn is written in the model's voice: its sketches come inside its thinking, after a sentence of
# reasoning, so the prior sketch does too. Ours, and deliberately plain: the REPL feedback after it says the rest.
REPAIR_LEAD_IN = "Let me first check the proof that is already written for this theorem.\n"


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
        prompt = tokenizer.chat_prompt(
            [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": self.user_prompt(problem)}]
        )
        return prompt if problem.prior is None else prompt + self.prior_text(prompt, problem.prior)

    def prior_text(self, prompt: str, prior: PriorTurn) -> str:
        """The start of the assistant turn as if the model had already sent ``prior.code`` as a sketch and read the
        REPL's answer: generation continues right after ``</REPL>``, as after any sketch. The sketches live inside
        the thinking (the final answer follows ``</think>``), so the thinking is opened here when the chat template
        does not open it itself (DeepSeek-R1-style templates differ on that); every attempt of a repair then shares
        the same prompt, and its start is the plain prompt's (prefix-cache hits either way)."""
        tail = prompt.rstrip(" ")
        opener = "" if tail.endswith(THINK_OPEN + "\n") else "\n" if tail.endswith(THINK_OPEN) else THINK_OPEN + "\n"
        sketch = f"{SKETCH_OPEN}\n{prior.code.rstrip(chr(10))}\n{SKETCH_CLOSE}"
        return opener + REPAIR_LEAD_IN + sketch + self.render_feedback(prior.verdict, prior.elapsed, 0)

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
