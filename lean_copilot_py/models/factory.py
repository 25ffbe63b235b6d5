"""Settings -> tokenizer, generator and prompt family."""

from __future__ import annotations

from collections.abc import Callable

from ..core.protocols import Generator, PromptFamily
from ..settings import Settings
from .families import build_family
from .tokenizer import HFTokenizer, load_tokenizer


class ModelSetupError(RuntimeError):
    """The model side can't be built from the settings (message meant for the user)."""


def build_tokenizer(settings: Settings) -> HFTokenizer:
    name = settings.model.tokenizer or settings.model.name
    try:
        return load_tokenizer(name)
    except Exception as exc:
        raise ModelSetupError(
            f"cannot load the tokenizer {name!r} (model.tokenizer / model.name): {type(exc).__name__}: {exc}"
        ) from exc


def build_generator(settings: Settings, *, tokenizer: HFTokenizer | None = None,
                    on_progress: Callable[[str], None] | None = None) -> Generator | None:
    """The configured backend; None for backend "none". Nothing heavy starts here: the managed vLLM
    process starts on the first request (or ``await gen.start()``), transformers loads lazily."""
    m = settings.model
    if m.backend == "none":
        return None
    tok = tokenizer or build_tokenizer(settings)
    if m.backend == "openai":
        from .openai_backend import OpenAIGenerator

        return OpenAIGenerator(m.endpoint, m.name, tok, api_key=m.api_key, timeout_s=m.request_timeout_s)
    if m.backend == "vllm":
        from .vllm_managed import ManagedVllm

        return ManagedVllm(settings, tok, on_progress=on_progress)
    if m.backend == "transformers":
        from .hf_backend import TransformersGenerator

        return TransformersGenerator(m.name, tokenizer=tok, device=m.device, dtype=m.dtype)
    raise ModelSetupError(f"unknown model.backend {m.backend!r}")


def family_for(settings: Settings) -> PromptFamily:
    return build_family(settings.model.family)
