"""DeepSeek-Prover-V2: whole-proof generation with a proof plan, no feedback turns (pass@k).

The model has no feedback format, so a repair's prior turn goes into the one user prompt: the failing proof and
Lean's errors about it, between the code to complete and the request for a plan. That wording is ours, not the
model's training format (deepseek-ai/DeepSeek-Prover-V2 publishes only the completion prompt)."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.protocols import PriorTurn, Problem, Tokenizer, Turn
from ...core.types import Outcome, Sampling, Verdict
from .common import errors_of, final_answer, format_seconds

PLAN_REQUEST = (
    "Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof plan "
    "outlining the main proof steps and strategies.\nThe plan should highlight key ideas, intermediate lemmas, "
    "and proof structures that will guide the construction of the final formal proof."
)


MAX_PRIOR_ERRORS = 8


def formal_statement(problem: Problem) -> str:
    return f"{problem.header}{problem.statement}\n  sorry"


def prior_errors(prior: PriorTurn) -> str:
    """Lean's verdict of the failing proof, one entry per error (positions counted from the proof's first line)."""
    verdict = prior.verdict
    if verdict.outcome is Outcome.TIMEOUT:
        return f"Lean did not finish checking it within {format_seconds(prior.elapsed)} seconds."
    errors = errors_of(verdict)
    if not errors:
        return (verdict.reason or "Lean did not accept it.").strip()
    out = [f"Line {e.span.start.line + 1}, column {e.span.start.col}: {e.text.strip()}"
           for e in errors[:MAX_PRIOR_ERRORS]]
    if len(errors) > MAX_PRIOR_ERRORS:
        out.append(f"... and {len(errors) - MAX_PRIOR_ERRORS} more errors.")
    return "\n\n".join(out)


def prior_section(prior: PriorTurn) -> str:
    return (
        f"The following proof of this theorem does not compile:\n\n```lean4\n{prior.code.rstrip(chr(10))}\n```\n\n"
        f"Lean 4 reports:\n\n{prior_errors(prior)}\n\n"
    )


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
        prior = prior_section(problem.prior) if problem.prior is not None else ""
        code = formal_statement(problem)
        return f"Complete the following Lean 4 code:\n\n```lean4\n{code}\n```\n\n{prior}{PLAN_REQUEST}"

    def initial_prompt(self, problem: Problem, tokenizer: Tokenizer) -> str:
        return tokenizer.chat_prompt([{"role": "user", "content": self.user_prompt(problem)}])

    def parse(self, output: str, finished: bool) -> Turn:
        return Turn(None, final_answer(output) if finished else None)

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        return ""  # whole-proof family: a failed proof ends the attempt
