"""Helpers shared by the prompt families: code-block extraction, import stripping, REPL-style JSON."""

from __future__ import annotations

import re
from typing import Any

from ...core.protocols import Tokenizer
from ...core.types import LeanMessage, Severity, Verdict

_CODE_BLOCK = re.compile(r"```(?:lean4|lean)[ \t]*\n(.*?)```", re.DOTALL)
_IMPORT_LINE = re.compile(r"^[ \t]*import[ \t]+\S.*(?:\n|$)", re.MULTILINE)
# Special tokens a server leaves at the end of a finished output (EOS, end of turn).
_TRAILING_SPECIALS = re.compile(r"(?:\s*(?:<\|[^|<>]*\|>|<｜[^<>]*｜>|</s>))+\s*$")

# The families' own renderings of their models' chat templates, used only when neither a local tokenizer nor the
# model server can template (a server without /tokenize). Written from the models' published prompt formats: the
# DeepSeek style (DeepSeek-Prover-V2, and the DeepSeek-R1-distilled Qwen that StepFun-Prover-Preview-7B builds on)
# and ChatML (the Qwen-based Kimina-Prover and Goedel-Prover-V2). A served template, when there is one, wins.
DEEPSEEK_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}"
    "{% elif m['role'] == 'user' %}<｜User｜>{{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %}<｜Assistant｜>{{ m['content'] }}<｜end▁of▁sentence｜>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<｜Assistant｜>{% endif %}"
)
DEEPSEEK_SPECIALS = {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CHATML_SPECIALS = {"eos_token": "<|im_end|>"}

SEVERITY_NAMES = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "info",
    Severity.HINT: "info",
}


def strip_trailing_specials(text: str) -> str:
    return _TRAILING_SPECIALS.sub("", text)


def strip_imports(code: str) -> str:
    """Drop `import …` lines (the checker's environment already holds the imports)."""
    return _IMPORT_LINE.sub("", code)


def last_code_block(text: str) -> str | None:
    """The last complete ```lean4 / ```lean block, without its fences; None if there is none."""
    blocks = _CODE_BLOCK.findall(text)
    if not blocks:
        return None
    code = blocks[-1].rstrip("\n")
    return code if code.strip() else None


def final_answer(output: str) -> str | None:
    """The final Lean code of a finished output: the last complete block after the thinking, imports
    removed (the checker supplies the file's header)."""
    text = strip_trailing_specials(output)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    code = last_code_block(text)
    if code is None:
        return None
    code = strip_imports(code).strip("\n")
    return code if code.strip() else None


def repl_pos(line0: int, col: int) -> dict[str, int]:
    """REPL positions: 1-based line, 0-based column; Lean's Json prints object keys sorted."""
    return {"column": col, "line": line0 + 1}


def repl_message(m: LeanMessage) -> dict[str, Any]:
    return {
        "data": m.text.strip(),
        "endPos": repl_pos(m.span.end.line, m.span.end.col),
        "pos": repl_pos(m.span.start.line, m.span.start.col),
        "severity": SEVERITY_NAMES.get(m.severity, "info"),
    }


def repl_response(verdict: Verdict) -> dict[str, Any]:
    """The Lean REPL's answer to the checked command, rebuilt from a Verdict, `env` left out (StepFun
    drops it). Keys are in the order Lean's Json prints them (sorted); empty lists are omitted."""
    messages = [repl_message(m) for m in verdict.messages]
    if not messages and verdict.reason and verdict.outcome.value in ("failed", "crashed", "refused"):
        # No Lean message (a refused sketch, a crash): the model still needs to hear why.
        messages = [{"data": verdict.reason, "pos": repl_pos(0, 0), "severity": "error"}]
    sorries = [
        {
            "endPos": repl_pos(s.span.end.line, s.span.end.col),
            "goal": s.goal,
            "pos": repl_pos(s.span.start.line, s.span.start.col),
            "proofState": i,
        }
        for i, s in enumerate(verdict.sorries)
    ]
    out: dict[str, Any] = {}
    if messages:
        out["messages"] = messages
    if sorries:
        out["sorries"] = sorries
    return out


def errors_of(verdict: Verdict) -> list[LeanMessage]:
    return [m for m in verdict.messages if m.severity is Severity.ERROR]


_SENTINEL_ASSISTANT = "\x00ASSISTANT\x00"


def chat_continuation(tokenizer: Tokenizer, user_content: str) -> str:
    """Template text that follows an assistant turn when a new user turn is added, ending with the
    generation prompt. A leading end-of-turn token equal to the tokenizer's EOS is dropped: the model's
    own output already ends with it."""
    full = tokenizer.chat_prompt(
        [
            {"role": "user", "content": "\x00USER\x00"},
            {"role": "assistant", "content": _SENTINEL_ASSISTANT},
            {"role": "user", "content": user_content},
        ]
    )
    at = full.find(_SENTINEL_ASSISTANT)
    suffix = full[at + len(_SENTINEL_ASSISTANT) :] if at >= 0 else full
    for eos in tokenizer.eos_token_ids:
        eos_text = tokenizer.decode([eos])
        if eos_text and suffix.startswith(eos_text):
            return suffix[len(eos_text) :]
    return suffix


def prior_answer(code: str) -> str:
    """The assistant turn of a repair's prior turn for a whole-proof family: the failing declaration as its final
    code block (no thinking of ours is put in the model's mouth)."""
    return f"```lean4\n{code.rstrip(chr(10))}\n```"


def format_seconds(elapsed: float) -> str:
    return str(round(elapsed)) if abs(elapsed - round(elapsed)) < 0.05 or elapsed >= 10 else f"{elapsed:.1f}"
