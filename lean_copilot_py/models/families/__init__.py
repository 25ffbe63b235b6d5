"""Prompt families: how a model family is prompted, parsed, and told what Lean said."""

from __future__ import annotations

from ...core.protocols import PromptFamily
from .common import CHATML_SPECIALS, CHATML_TEMPLATE, DEEPSEEK_SPECIALS, DEEPSEEK_TEMPLATE
from .deepseek import DeepSeekFamily
from .goedel import GoedelFamily
from .kimina import KiminaFamily
from .stepfun import StepFunFamily

FAMILIES = {"stepfun": StepFunFamily, "deepseek": DeepSeekFamily, "kimina": KiminaFamily, "goedel": GoedelFamily}
# (chat template, the special tokens it refers to) per family, for servers that can't template for us.
OWN_TEMPLATES = {
    "stepfun": (DEEPSEEK_TEMPLATE, DEEPSEEK_SPECIALS),
    "deepseek": (DEEPSEEK_TEMPLATE, DEEPSEEK_SPECIALS),
    "kimina": (CHATML_TEMPLATE, CHATML_SPECIALS),
    "goedel": (CHATML_TEMPLATE, CHATML_SPECIALS),
}


def build_family(name: str) -> PromptFamily:
    """A fresh family instance (families that wrap feedback in a chat template keep the tokenizer)."""
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ValueError(f"unknown prompt family {name!r} (known: {', '.join(FAMILIES)})") from None


__all__ = ["FAMILIES", "OWN_TEMPLATES", "DeepSeekFamily", "GoedelFamily", "KiminaFamily", "StepFunFamily",
           "build_family"]
