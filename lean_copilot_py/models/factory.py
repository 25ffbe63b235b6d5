"""Settings -> tokenizer, generator and prompt family."""

from __future__ import annotations

from collections.abc import Callable

from ..core.protocols import Generator, PromptFamily, Tokenizer
from ..settings import Settings
from .families import build_family
from .fast_tokenizer import FastTokenizer, find_tokenizer_dir
from .tokenizer import HFTokenizer, load_tokenizer


class ModelSetupError(RuntimeError):
    """The model side can't be built from the settings (message meant for the user)."""


def build_tokenizer(settings: Settings) -> Tokenizer:
    """For an HTTP backend, the `tokenizers`-only tokenizer when the model has a tokenizer.json (keeps torch
    out of the server process); transformers' otherwise, and always for the in-process backend."""
    name = settings.model.tokenizer or settings.model.name
    try:
        if settings.model.backend != "transformers":
            folder = find_tokenizer_dir(name)
            if folder is not None:
                return FastTokenizer.from_dir(folder)
        return load_tokenizer(name)
    except Exception as exc:
        raise ModelSetupError(
            f"cannot load the tokenizer {name!r} (model.tokenizer / model.name): {type(exc).__name__}: {exc}"
        ) from exc


def build_generator(settings: Settings, *, tokenizer: Tokenizer | None = None,
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

        hf_tok = tok if isinstance(tok, HFTokenizer) else load_tokenizer(settings.model.tokenizer or m.name)
        return TransformersGenerator(m.name, tokenizer=hf_tok, device=m.device, dtype=m.dtype)
    raise ModelSetupError(f"unknown model.backend {m.backend!r}")


def family_for(settings: Settings) -> PromptFamily:
    return build_family(settings.model.family)
