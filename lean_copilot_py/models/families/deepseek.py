"""DeepSeek-Prover-V2: whole-proof generation with a proof plan, no feedback turns (pass@k)."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.protocols import Problem, Tokenizer, Turn
from ...core.types import Sampling, Verdict
from .common import final_answer

PLAN_REQUEST = (
    "Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof plan "
    "outlining the main proof steps and strategies.\nThe plan should highlight key ideas, intermediate lemmas, "
    "and proof structures that will guide the construction of the final formal proof."
)


def formal_statement(problem: Problem) -> str:
    return f"{problem.header}{problem.statement}\n  sorry"


@dataclass
class DeepSeekFamily:
    name: str = "deepseek"
    uses_feedback: bool = False
    temperature: float = 1.0
    top_p: float = 0.95
    max_tokens: int = 8192

    def sampling(self, tokenizer: Tokenizer) -> Sampling:
        return Sampling(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            stop_token_ids=tuple(tokenizer.eos_token_ids),
        )

    def user_prompt(self, problem: Problem) -> str:
        return f"Complete the following Lean 4 code:\n\n```lean4\n{formal_statement(problem)}\n```\n\n{PLAN_REQUEST}"

    def initial_prompt(self, problem: Problem, tokenizer: Tokenizer) -> str:
        return tokenizer.chat_prompt([{"role": "user", "content": self.user_prompt(problem)}])

    def parse(self, output: str, finished: bool) -> Turn:
        return Turn(None, final_answer(output) if finished else None)

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        return ""  # whole-proof family: a failed proof ends the attempt
