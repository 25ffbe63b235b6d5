"""Prompt families: how a model family is prompted, parsed, and told what Lean said."""

from __future__ import annotations

from ...core.protocols import PromptFamily
from .deepseek import DeepSeekFamily
from .goedel import GoedelFamily
from .kimina import KiminaFamily
from .stepfun import StepFunFamily

FAMILIES = {"stepfun": StepFunFamily, "deepseek": DeepSeekFamily, "kimina": KiminaFamily, "goedel": GoedelFamily}


def build_family(name: str) -> PromptFamily:
    """A fresh family instance (families that wrap feedback in a chat template keep the tokenizer)."""
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ValueError(f"unknown prompt family {name!r} (known: {', '.join(FAMILIES)})") from None


__all__ = ["FAMILIES", "DeepSeekFamily", "GoedelFamily", "KiminaFamily", "StepFunFamily", "build_family"]
