"""Goedel-Prover-V2: whole proofs with a plan; a failed proof gets a correction turn quoting up to 8 errors
marked with <error></error> in their code context (Goedel-LM/Goedel-Prover-V2: src/utils.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core.protocols import Problem, Tokenizer, Turn
from ...core.types import LeanMessage, Outcome, Sampling, Verdict
from .common import chat_continuation, errors_of, final_answer, format_seconds, prior_answer
from .deepseek import PLAN_REQUEST, formal_statement

MAX_ERRORS = 8
SHOW_LINES = 6


def _error_block(lines: list[str], err: LeanMessage) -> str:
    sl, sc = err.span.start.line, err.span.start.col
    el, ec = err.span.end.line, err.span.end.col
    sl = min(sl, len(lines) - 1)
    el = min(max(el, sl), len(lines) - 1)
    code = "".join(f"{lines[sl + k]}\n" for k in range(-4, 0) if sl + k >= 0)
    if sl != el:
        code += lines[sl][:sc] + "<error>" + lines[sl][sc:] + "\n"
        for j in range(sl + 1, min(el, sl + SHOW_LINES)):
            code += f"{lines[j]}\n"
        if el > sl + SHOW_LINES:
            last = lines[min(el, sl + SHOW_LINES) - 1]
            code += "\n" + " " * (len(last) - len(last.lstrip(" "))) + "... --[Truncated]-- ...\n"
        code += lines[el][:ec] + "</error>" + lines[el][ec:] + "\n"
    else:
        code += lines[sl][:sc] + "<error>" + lines[sl][sc:ec] + "</error>" + lines[sl][ec:] + "\n"
    if el + 1 < len(lines):
        code += f"{lines[el + 1]}\n"
    return code


def error_string(verdict: Verdict) -> str:
    lines = verdict.snippet.split("\n")
    errors = errors_of(verdict)
    out = ""
    for i, err in enumerate(errors[:MAX_ERRORS]):
        out += f"\nError {i + 1}:\n\nCorresponding Code:\n```lean4\n{_error_block(lines, err)}\n```\n"
        out += f"\nError Message: {err.text.strip()}\n"
    if len(errors) > MAX_ERRORS:
        out += f"\n... [Omitted {len(errors) - MAX_ERRORS} more errors] ...\n"
    return out


def correction_message(verdict: Verdict, elapsed: float, turn: int) -> str:
    if verdict.outcome is Outcome.TIMEOUT:
        errors = f"The compilation timed out after {format_seconds(elapsed)} seconds."
    else:
        errors = error_string(verdict) or (verdict.reason or "The proof was not accepted.")
    return (
        f"The proof (Round {turn}) is not correct. Following is the compilation error message, where we use "
        f"<error></error> to signal the position of the error.\n\n{errors}"
        "\n\nBefore producing the Lean 4 code to formally prove the given theorem, provide a detailed analysis "
        "of the error message."
    )


@dataclass
class GoedelFamily:
    name: str = "goedel"
    uses_feedback: bool = True
    temperature: float = 1.0
    top_p: float = 0.95
    max_tokens: int = 16384
    _tokenizer: Tokenizer | None = field(default=None, repr=False, compare=False)

    def sampling(self, tokenizer: Tokenizer) -> Sampling:
        return Sampling(self.temperature, self.top_p, self.max_tokens, stop_token_ids=tuple(tokenizer.eos_token_ids))

    def user_prompt(self, problem: Problem) -> str:
        return f"Complete the following Lean 4 code:\n\n```lean4\n{formal_statement(problem)}\n```\n\n{PLAN_REQUEST}"

    def initial_prompt(self, problem: Problem, tokenizer: Tokenizer) -> str:
        """With ``problem.prior`` (a repair): Goedel's correction round, the failing code as its Round 0 answer and
        the correction prompt about it, so the model's next answer is Round 1."""
        self._tokenizer = tokenizer
        messages = [{"role": "user", "content": self.user_prompt(problem)}]
        if problem.prior is not None:
            prior = problem.prior
            messages += [
                {"role": "assistant", "content": prior_answer(prior.code)},
                {"role": "user", "content": correction_message(prior.verdict, prior.elapsed, 0)},
            ]
        return tokenizer.chat_prompt(messages)

    def parse(self, output: str, finished: bool) -> Turn:
        return Turn(None, final_answer(output) if finished else None)

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        """``turn``: 0-based index of the generation whose proof failed (Goedel's "Round")."""
        content = correction_message(verdict, elapsed, turn)
        if self._tokenizer is None:
            return content
        return chat_continuation(self._tokenizer, content)
