"""Settings -> tokenizer, generator and prompt family."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.protocols import Generator, Tokenizer
from ..settings import Settings
from .fast_tokenizer import FastTokenizer, find_tokenizer_dir, hub_reachable
from .text_prompts import TextPromptTokenizer
from .tokenizer import HFTokenizer, load_tokenizer

if TYPE_CHECKING:
    from .served_tokenizer import ServerTokenizerInfo

log = logging.getLogger(__name__)


class ModelSetupError(RuntimeError):
    """The model side can't be built from the settings (message meant for the user)."""


def build_tokenizer(settings: Settings) -> Tokenizer:
    """Blocking (files, the hub, the model server): call it off the event loop.

    The in-process backend always loads transformers' tokenizer, and so does a local model folder without a
    tokenizer.json. Otherwise, in this order: the model's files (a folder, or the hub cache) through the
    `tokenizers`-only tokenizer, which keeps torch out of the server process; for an endpoint, the model server's own
    tokenizer (vLLM's /tokenize), which keeps token-id continuations exact with no local copy; the hub, when it can
    be reached; and for an endpoint that can't tokenize, text prompts (said once, in the log)."""
    name = settings.model.tokenizer or settings.model.name
    backend = settings.model.backend
    folder = find_tokenizer_dir(name, download=False)
    if backend == "transformers" or (folder is None and Path(name).expanduser().is_dir()):
        return _load_or_fail(name, lambda: load_tokenizer(name))
    if folder is not None:
        return _load_or_fail(name, lambda: FastTokenizer.from_dir(folder))
    info: ServerTokenizerInfo | None = None
    unreachable = ""
    if backend == "openai":
        from .served_tokenizer import ServedTokenizer, probe_server_tokenizer

        m = settings.model
        try:
            info = probe_server_tokenizer(m.endpoint, m.name, m.api_key)
        except OSError as exc:
            unreachable = str(exc)
        if info is not None and info.tokenize:
            try:
                served = ServedTokenizer.connect(info, m.name, m.api_key, timeout_s=min(30.0, m.request_timeout_s),
                                                 own_template=_own_template(settings))
            except Exception as exc:
                raise ModelSetupError(f"the model server's tokenizer at {info.root}/tokenize failed: "
                                      f"{type(exc).__name__}: {exc}") from exc
            log.info("tokenizer: the model server's (%s/tokenize); no local copy of %r", info.root, name)
            return served
    try:
        folder = find_tokenizer_dir(name)
        if folder is not None:
            return FastTokenizer.from_dir(folder)
        # Offline, transformers would retry the hub for minutes before saying what find_tokenizer_dir knows already.
        return load_tokenizer(name, local_files_only=not hub_reachable())
    except Exception as exc:
        local = f"cannot load the tokenizer {name!r} (model.tokenizer / model.name): {type(exc).__name__}: {exc}"
        if backend != "openai":
            raise ModelSetupError(local) from exc
        if unreachable:
            raise ModelSetupError(f"{local}; and the model server can't be reached to use its tokenizer instead "
                                  f"({unreachable})") from exc
        return _text_tokenizer(settings, info)


def _load_or_fail(name: str, load: Callable[[], Tokenizer]) -> Tokenizer:
    try:
        return load()
    except Exception as exc:
        raise ModelSetupError(
            f"cannot load the tokenizer {name!r} (model.tokenizer / model.name): {type(exc).__name__}: {exc}"
        ) from exc


def _own_template(settings: Settings) -> TextPromptTokenizer:
    from .families import OWN_TEMPLATES

    template, specials = OWN_TEMPLATES[settings.model.family]
    return TextPromptTokenizer(template, specials, source=f"the {settings.model.family} family's own rendering "
                               "of its chat template (the served model's may differ)")


def _text_tokenizer(settings: Settings, info: ServerTokenizerInfo | None) -> Tokenizer:
    """A server with no usable /tokenize and no local tokenizer: text prompts, said once here."""
    if info is not None and info.chat_template:
        specials = {k: v for k, v in (("bos_token", info.bos_token), ("eos_token", info.eos_token)) if v}
        tok = TextPromptTokenizer(info.chat_template, specials, source="the server's chat template (/tokenizer_info)")
    else:
        tok = _own_template(settings)
    why = (info.note if info is not None else "") or "no /tokenize"
    log.warning("the model server at %s can't tokenize (%s) and there is no local copy of %r: prompts are rendered "
                "with %s and sent as text, and continuations go as text (ids may shift at turn boundaries, so fewer "
                "prefix-cache hits)", settings.model.endpoint, why, settings.model.tokenizer or settings.model.name,
                tok.source)
    return tok


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

