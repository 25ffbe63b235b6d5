"""A tokenizer from `tokenizer.json` + the chat template, without transformers.

Importing transformers' tokenizers pulls in torch (measured: the language server's RSS went from 39 MB
to 259 MB, and 4.7 s of start-up). The server and the CLI only need encode/decode and the chat
template, which the `tokenizers` library and a sandboxed Jinja environment (the one transformers
renders chat templates with) give for a few MB. Models whose files don't fit this path fall back to
transformers (tokenizer.load_tokenizer).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


class FastTokenizer:
    exact_ids = True

    def __init__(self, tokenizer: Any, config: dict[str, Any], chat_template: str | None) -> None:
        self._tok = tokenizer
        self._config = config
        self._special = {k: _token_text(config.get(k)) for k in ("bos_token", "eos_token", "pad_token", "unk_token")}
        eos = self._special["eos_token"]
        eos_id = self._tok.token_to_id(eos) if eos else None
        self.eos_token_ids: Sequence[int] = (eos_id,) if eos_id is not None else ()
        self._template = compile_chat_template(chat_template) if chat_template else None

    @classmethod
    def from_dir(cls, directory: Path) -> FastTokenizer:
        from tokenizers import Tokenizer

        config_path = directory / "tokenizer_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        template_file = directory / "chat_template.jinja"
        template = template_file.read_text(encoding="utf-8") if template_file.exists() else _config_template(config)
        return cls(Tokenizer.from_file(str(directory / "tokenizer.json")), config, template)

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self._tok.decode(list(ids), skip_special_tokens=False))

    def token_id(self, token: str) -> int | None:
        tid = self._tok.token_to_id(token)
        if tid is not None and self._tok.id_to_token(tid) == token:
            return int(tid)
        ids = self.encode(token)
        return ids[0] if len(ids) == 1 and self.decode(ids) == token else None

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        if self._template is None:
            raise ValueError("this tokenizer has no chat template")
        context = {k: v for k, v in self._special.items() if v is not None}
        return str(self._template.render(messages=[dict(m) for m in messages], add_generation_prompt=True, **context))

    def __len__(self) -> int:
        return int(self._tok.get_vocab_size(with_added_tokens=True))


def _token_text(value: Any) -> str | None:
    """tokenizer_config.json writes special tokens as strings or as AddedToken dicts."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _config_template(config: dict[str, Any]) -> str | None:
    template = config.get("chat_template")
    if isinstance(template, list):  # named templates: the default one is what apply_chat_template uses
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    return template if isinstance(template, str) else None


def compile_chat_template(source: str) -> Any:
    """Jinja as transformers sets it up for chat templates (untrusted hub code: sandboxed)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(source)


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Can the Hugging Face hub be reached at all? One TCP connect: offline, huggingface_hub retries every file
    for about 40 s (measured: 117 s before transformers gave up on a missing tokenizer)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    if not url.hostname:
        return False
    try:
        with socket.create_connection((url.hostname, url.port or (80 if url.scheme == "http" else 443)),
                                      timeout=timeout_s):
            return True
    except OSError:
        return False


def find_tokenizer_dir(name_or_path: str, *, download: bool = True) -> Path | None:
    """A local folder holding tokenizer.json, or the hub cache's copy of the repo's tokenizer files
    (with ``download``, fetched when missing and the hub is reachable). None when neither works."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local if (local / "tokenizer.json").exists() else None
    if download and not hub_reachable():
        download = False
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError:
        return None
    folder: Path | None = None
    for name in TOKENIZER_FILES:
        try:
            folder = Path(hf_hub_download(name_or_path, name, local_files_only=not download)).parent
        except EntryNotFoundError:
            continue
        except Exception:
            return None
    return folder if folder is not None and (folder / "tokenizer.json").exists() else None
