"""Kimina-Prover: whole proofs; a failed proof gets an error-fix user turn listing up to 3 errors with a
numbered code snippet (MoonshotAI/Kimina-Prover-Preview: kimina_prover_demo/utils.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core.protocols import Problem, Tokenizer, Turn
from ...core.types import Outcome, Sampling, Verdict
from .common import chat_continuation, errors_of, final_answer, format_seconds, prior_answer

SYSTEM_PROMPT = "You are an expert programmer and mathematician who helps formalizing mathematical problems in Lean 4."
MAX_ERRORS = 3


def error_fix_message(verdict: Verdict, elapsed: float) -> str:
    if verdict.outcome is Outcome.TIMEOUT:
        return f"# System Error:\nError message: \nLean did not answer within {format_seconds(elapsed)} seconds.\n\n"
    lines = verdict.snippet.split("\n")
    out = ""
    for i, err in enumerate(errors_of(verdict)[:MAX_ERRORS], 1):
        out += f"# Error {i}:\n"
        if err.unsolved_goals and "\n" in err.text:
            out += f"Goals state before error position: \n{err.text.split(chr(10), 1)[1].strip()}\n\n"
        out += f"Error message: \n{err.text.strip()}\n\n"
        line = err.span.start.line
        snippet = "```lean4\n"
        for ln in range(max(0, line - 2), min(len(lines), line + 3)):
            snippet += f"{ln + 1:03d}{' >' if ln == line else '  '}| {lines[ln]}\n"
        out += f"Lean 4 code snippet with error:\n{snippet}```\n"
    if not out:
        out = f"# System Error:\nError message: \n{(verdict.reason or 'the proof was not accepted').strip()}\n\n"
    return out


@dataclass
class KiminaFamily:
    name: str = "kimina"
    uses_feedback: bool = True
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 16000
    _tokenizer: Tokenizer | None = field(default=None, repr=False, compare=False)

    def sampling(self, tokenizer: Tokenizer) -> Sampling:
        return Sampling(self.temperature, self.top_p, self.max_tokens, stop_token_ids=tuple(tokenizer.eos_token_ids))

    def user_prompt(self, problem: Problem) -> str:
        return "Think about and solve the following problems step by step in Lean 4.\n\n" + (
            f"{problem.header}{problem.statement} sorry"
        )

    def initial_prompt(self, problem: Problem, tokenizer: Tokenizer) -> str:
        """With ``problem.prior`` (a repair): the conversation of Kimina's error fix, its first answer the failing
        code and the user's error-fix turn about it, so the model's next answer is the fix."""
        self._tokenizer = tokenizer  # feedback turns are wrapped in the same chat template
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": self.user_prompt(problem)},
        ]
        if problem.prior is not None:
            messages += [
                {"role": "assistant", "content": prior_answer(problem.prior.code)},
                {"role": "user", "content": error_fix_message(problem.prior.verdict, problem.prior.elapsed)},
            ]
        return tokenizer.chat_prompt(messages)

    def parse(self, output: str, finished: bool) -> Turn:
        return Turn(None, final_answer(output) if finished else None)

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        content = error_fix_message(verdict, elapsed)
        if self._tokenizer is None:
            return content
        return chat_continuation(self._tokenizer, content)
