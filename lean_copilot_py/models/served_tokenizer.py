"""The served model's own tokenizer, over vLLM's ``POST /tokenize`` and ``POST /detokenize``.

For a remote endpoint with no local copy of the model (a shared GPU box, an offline laptop). vLLM serves both at the
server root, beside ``/v1`` and outside its API-key guard (vllm/entrypoints/serve/tokenize/api_router.py; the guard
covers /v1, /v2, /inference). Shapes (vllm/entrypoints/serve/tokenize/protocol.py): ``{"prompt", "add_special_tokens",
"return_token_strs"}`` or ``{"messages", "add_generation_prompt", ...}`` → ``{"count", "max_model_len", "tokens",
"token_strs"}``; ``{"tokens"}`` → ``{"prompt"}``. A chat request renders the server's chat template to text and
tokenizes that text without special tokens, so ``chat_prompt`` ids are what ``/v1/completions`` would see.

Every method is a blocking HTTP round trip (the core calls tokenizers off the event loop); results are cached, so the
prompt that N attempts share is tokenized once.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.protocols import Tokenizer

log = logging.getLogger(__name__)

# End-of-text spellings of the families' models (DeepSeek-style, Qwen/ChatML), tried when neither /tokenizer_info
# nor the chat template names one.
KNOWN_EOS = ("<｜end▁of▁sentence｜>", "<|endoftext|>", "<|im_end|>", "</s>", "<|eot_id|>", "<|end_of_text|>")
_TURN_SENTINEL = "Lean"  # one pre-token in the families' tokenizers: never merges with template text around it
_CACHE_SIZE = 256


class TokenizeUnavailable(OSError):
    """The server has no such route (404/405 without an OpenAI-style error body)."""


class ServerUnreachable(OSError):
    """No answer at all (connection refused, DNS, timeout)."""


class TokenizeError(RuntimeError):
    """The server answered, but not with what vLLM's tokenizer endpoints answer (message meant for the user)."""


def server_root(endpoint: str) -> str:
    """vLLM's tokenizer routes hang off the server root: ``http://h:8000/v1`` → ``http://h:8000``."""
    base = endpoint.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


class JsonHttp:
    """A tiny blocking JSON client (stdlib: nothing to install, thread-safe, one connection per call)."""

    def __init__(self, root: str, api_key: str = "EMPTY", timeout_s: float = 30.0) -> None:
        self.root = root.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.root + path, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.api_key}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = _error_message(exc.read())
            if exc.code in (404, 405) and detail is None:
                raise TokenizeUnavailable(f"{self.root}{path}: HTTP {exc.code}") from exc
            raise TokenizeError(f"{self.root}{path} answered HTTP {exc.code}: {detail or exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachable(f"cannot reach the model server at {self.root}: {reason}") from exc
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TokenizeError(f"{self.root}{path} sent a non-JSON answer") from exc


def _error_message(raw: bytes) -> str | None:
    """vLLM's ErrorResponse message (``{"error": {"message": …}}``); None for a framework's bare 404."""
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return None
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return err["message"]
    return None


def _ids(data: Any, where: str) -> list[int]:
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
        raise TokenizeError(f"{where} answered without a token list")
    return tokens


@dataclass(frozen=True)
class ServerTokenizerInfo:
    """What a model server tells about its tokenizer."""

    root: str
    tokenize: bool  # /tokenize and /detokenize both answer as vLLM's do
    chat_template: str | None = None  # from GET /tokenizer_info (vLLM --enable-tokenizer-info-endpoint)
    eos_token: str | None = None
    bos_token: str | None = None
    note: str = ""  # why /tokenize isn't usable, when it isn't


def probe_server_tokenizer(endpoint: str, model: str, api_key: str = "EMPTY",
                           timeout_s: float = 10.0) -> ServerTokenizerInfo:
    """Ask the server which tokenizer routes it has. Raises OSError only when it can't be reached at all."""
    http = JsonHttp(server_root(endpoint), api_key, timeout_s)
    template = eos = bos = None
    try:
        info = http.call("/tokenizer_info")  # ServerUnreachable propagates: nothing else can be learnt
    except (TokenizeUnavailable, TokenizeError):
        info = None
    # /tokenizer_info is optional in vLLM (--enable-tokenizer-info-endpoint): most servers have none.
    if isinstance(info, dict):
        template = info.get("chat_template") if isinstance(info.get("chat_template"), str) else None
        eos, bos = _token_text(info.get("eos_token")), _token_text(info.get("bos_token"))
    note = ""
    try:
        ids = _ids(http.call("/tokenize", {"model": model, "prompt": "a", "add_special_tokens": False}), "/tokenize")
        text = http.call("/detokenize", {"model": model, "tokens": ids})
        has = isinstance(text, dict) and isinstance(text.get("prompt"), str)
        note = "" if has else "/detokenize answered without a prompt"
    except TokenizeUnavailable as exc:
        has, note = False, f"no such route ({exc})"
    except TokenizeError as exc:  # another dialect (llama.cpp's /tokenize takes "content"), or a wrong model name
        has, note = False, str(exc)
    return ServerTokenizerInfo(http.root, has, template, eos, bos, note)


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):  # an AddedToken serialised with its fields
        value = value.get("content")
    return value if isinstance(value, str) and value else None


class _Lru:
    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class ServedTokenizer:
    """core.protocols.Tokenizer answered by the model server. Build it with ``connect``."""

    exact_ids = True

    def __init__(self, http: JsonHttp, model: str, own_template: Tokenizer | None = None) -> None:
        self.http = http
        self.model = model
        self.eos_token_ids: Sequence[int] = ()
        self.templates = True  # the server renders the chat template (False: ``own_template`` renders it)
        self._own_template = own_template
        self._encoded = _Lru(_CACHE_SIZE)
        self._decoded = _Lru(_CACHE_SIZE)
        self._prompts = _Lru(_CACHE_SIZE)
        self._single: dict[str, int | None] = {}

    @classmethod
    def connect(cls, info: ServerTokenizerInfo, model: str, api_key: str = "EMPTY", timeout_s: float = 30.0,
                own_template: Tokenizer | None = None) -> ServedTokenizer:
        """``own_template`` renders prompts when the served model has no chat template (a base model)."""
        tok = cls(JsonHttp(info.root, api_key, timeout_s), model, own_template)
        tok.eos_token_ids = tok.find_eos(info.eos_token)
        return tok

    def _tokenize(self, body: dict[str, Any]) -> dict[str, Any]:
        data = self.http.call("/tokenize", {"model": self.model, **body})
        _ids(data, "/tokenize")
        return data  # type: ignore[no-any-return]

    def encode(self, text: str) -> list[int]:
        if not text:
            return []
        hit = self._encoded.get(text)
        if hit is None:
            hit = tuple(self._tokenize({"prompt": text, "add_special_tokens": False})["tokens"])
            self._encoded.put(text, hit)
        return list(hit)

    def decode(self, ids: Sequence[int]) -> str:
        if not ids:
            return ""
        key = tuple(ids)
        hit = self._decoded.get(key)
        if hit is None:
            data = self.http.call("/detokenize", {"model": self.model, "tokens": list(key)})
            if not isinstance(data, dict) or not isinstance(data.get("prompt"), str):
                raise TokenizeError("/detokenize answered without a prompt")
            hit = data["prompt"]
            self._decoded.put(key, hit)
        return str(hit)

    def token_id(self, token: str) -> int | None:
        """A token exists only if its text is exactly one id that decodes back to it (as the local tokenizers)."""
        if token not in self._single:
            data = self._tokenize({"prompt": token, "add_special_tokens": False, "return_token_strs": True})
            ids, strs = data["tokens"], data.get("token_strs") or []
            found = None
            if len(ids) == 1 and ((strs and strs[0] == token) or self.decode(ids) == token):
                found = int(ids[0])
            self._single[token] = found
        return self._single[token]

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """The server's chat template with the generation prompt; the ids it gave are kept for ``encode``."""
        key = json.dumps(list(messages), sort_keys=True)
        hit = self._prompts.get(key)
        if hit is not None:
            return str(hit)
        if not self.templates and self._own_template is not None:
            text = self._own_template.chat_prompt(messages)
        else:
            data = self._tokenize({"messages": [dict(m) for m in messages], "add_generation_prompt": True})
            text = self.decode(data["tokens"])
            self._encoded.put(text, tuple(data["tokens"]))
        self._prompts.put(key, text)
        return text

    def find_eos(self, named: str | None) -> tuple[int, ...]:
        """Token ids that end the model's turn: the one /tokenizer_info names, the one the chat template closes an
        assistant message with, and the families' usual end-of-text tokens this vocabulary has."""
        found = [self.token_id(named) if named else None, self._turn_end(), *map(self.token_id, KNOWN_EOS)]
        return tuple(dict.fromkeys(t for t in found if t is not None))

    def _turn_end(self) -> int | None:
        try:
            data = self._tokenize({"messages": [{"role": "user", "content": "?"},
                                                {"role": "assistant", "content": _TURN_SENTINEL}],
                                   "add_generation_prompt": False})
        except TokenizeError as exc:  # the served model has no chat template (vLLM answers 400)
            if self._own_template is not None:
                self.templates = False
                log.warning("the model server can't apply a chat template (%s): prompts are rendered with %s",
                            exc, getattr(self._own_template, "source", "the prompt family's own template"))
            return None
        ids, content = data["tokens"], self.encode(_TURN_SENTINEL)
        n = len(content)
        for at in range(len(ids) - n, -1, -1):
            if ids[at : at + n] == content:
                if at + n >= len(ids):
                    return None
                cand = ids[at + n]
                text = self.decode([cand])
                return cand if text.strip() and self.token_id(text) == cand else None
        return None
