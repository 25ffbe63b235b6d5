"""Where the tokenizer will come from, told without loading it (for `doctor`): the same order build_tokenizer
follows — local files, the hub cache, the model server's /tokenize, the hub, text prompts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..settings import Settings
from .fast_tokenizer import find_tokenizer_dir, hub_reachable


@dataclass(frozen=True)
class TokenizerSource:
    where: str  # "local files", "hub cache", "endpoint", "hub", "text", "unknown"
    detail: str
    token_ids: bool  # token-id continuations possible (with a server that returns ids, as vLLM does)
    fix: str = ""


def tokenizer_source(settings: Settings) -> TokenizerSource:
    """Blocking: may look at the hub cache, ask the model server, and try one TCP connect to the hub."""
    m = settings.model
    name = m.tokenizer or m.name
    if Path(name).expanduser().is_dir():
        return TokenizerSource("local files", f"local files in {Path(name).expanduser()}", True)
    folder = find_tokenizer_dir(name, download=False)
    if folder is not None:
        return TokenizerSource("hub cache", f"the Hugging Face cache ({folder})", True)
    fix = ("put a copy of the model's tokenizer files (tokenizer.json, tokenizer_config.json) in a folder and set "
           "model.tokenizer to it, or serve the model with vLLM, which has /tokenize")
    if m.backend == "openai":
        from .served_tokenizer import probe_server_tokenizer

        try:
            info = probe_server_tokenizer(m.endpoint, m.name, m.api_key, timeout_s=3.0)
        except OSError:
            return TokenizerSource("unknown", f"no local copy of {name!r}; the model server's /tokenize will be used "
                                   "if it has one, once it can be reached", False, fix)
        if info.tokenize:
            return TokenizerSource("endpoint", f"the model server's /tokenize at {info.root} (no local copy of "
                                   f"{name!r})", True)
    if hub_reachable():
        return TokenizerSource("hub", f"{name!r} is not cached: it will be downloaded from the Hugging Face hub "
                               "on first use", True)
    if m.backend != "openai":
        return TokenizerSource("none", f"no local copy of {name!r} and the Hugging Face hub can't be reached", False,
                               fix)
    template = ("the server's chat template (/tokenizer_info)" if info.chat_template
                else f"the {m.family} family's own rendering of its chat template")
    return TokenizerSource("text", f"no local copy of {name!r}, and {info.root} can't tokenize ({info.note}): "
                           f"prompts go as text rendered with {template}", False, fix)
