"""vLLM's tokenizer endpoints for the fake OpenAI server's tokenizer (a model folder's, loaded as the client loads
one: models/tokenizer.py; without one the server uses char_tokenizer.py), at the server root (not under /v1), as
vLLM 0.24 serves them.

Shapes: vllm/entrypoints/serve/tokenize/protocol.py — TokenizeCompletionRequest {model?, prompt,
add_special_tokens=true, return_token_strs=false}, TokenizeChatRequest {model?, messages, add_generation_prompt=true,
continue_final_message=false, add_special_tokens=false, chat_template?, …}, TokenizeResponse {count, max_model_len,
tokens, token_strs}, DetokenizeRequest {model?, tokens (each ≥ 0)}, DetokenizeResponse {prompt},
TokenizerInfoResponse (the tokenizer's init kwargs + tokenizer_class, + chat_template).
Behaviour: vllm/entrypoints/serve/tokenize/serving.py (ServingTokenization): a chat request renders the template to
text, which is then tokenized with the request's add_special_tokens; token_strs are convert_ids_to_tokens;
/detokenize is tokenizer.decode with its defaults (special tokens kept); the model is checked first
(vllm/entrypoints/serve/engine/serving.py BaseServing._check_model: 404 "The model `x` does not exist.").
Routing: vllm/entrypoints/serve/tokenize/api_router.py — /tokenize and /detokenize always, GET /tokenizer_info only
with --enable-tokenizer-info-endpoint; none of them behind the API key (GUARDED_PREFIX is /v1, /v2, /inference).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


def error_response(status: int, message: str, err_type: str, param: str | None = None) -> web.Response:
    """vLLM's ErrorResponse (vllm/entrypoints/openai/engine/protocol.py: ErrorResponse, ErrorInfo)."""
    return web.json_response({"error": {"message": message, "type": err_type, "param": param, "code": status}},
                             status=status)


class TokenizerRoutes:
    """``tok`` is the fake server's tokenizer: models.tokenizer.HFTokenizer (``.hf`` is a transformers tokenizer) or
    CharTokenizer (char_tokenizer.py)."""

    def __init__(self, tok: Any, model: str, *, max_model_len: int = 20480, info_template: str | None = None) -> None:
        self.tok = tok
        self.model = model
        self.max_model_len = max_model_len
        self.info_template = info_template
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def add_to(self, app: web.Application, *, tokenize: bool, info: bool) -> None:
        if tokenize:
            app.router.add_post("/tokenize", self.tokenize)
            app.router.add_post("/detokenize", self.detokenize)
        if info:
            app.router.add_get("/tokenizer_info", self.tokenizer_info)

    @property
    def _hf(self) -> Any:
        return getattr(self.tok, "hf", None)

    def _wrong_model(self, body: dict[str, Any]) -> web.Response | None:
        model = body.get("model")
        if model is not None and model != self.model:
            return error_response(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
        return None

    def _encode(self, text: str, add_special: bool) -> list[int]:
        if self._hf is not None:
            return list(self._hf.encode(text, add_special_tokens=add_special))
        return list(self.tok.encode(text))

    async def tokenize(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(("tokenize", body))
        if (wrong := self._wrong_model(body)) is not None:
            return wrong
        if "messages" in body:
            # TokenizeChatRequest.check_generation_prompt looks at the fields as sent, defaults not applied.
            if body.get("continue_final_message") and body.get("add_generation_prompt"):
                return error_response(400, "Cannot set both `continue_final_message` and `add_generation_prompt` "
                                      "to True.", "BadRequestError")
            template = body.get("chat_template") or getattr(self._hf, "chat_template", None)
            if self._hf is None or not template:
                return error_response(400, "As of transformers v4.44, default chat template is no longer allowed, "
                                      "so you must provide a chat template if the tokenizer does not define one.",
                                      "BadRequestError")
            text = self._hf.apply_chat_template(
                body["messages"], tokenize=False, chat_template=template,
                add_generation_prompt=body.get("add_generation_prompt", True),
                continue_final_message=body.get("continue_final_message", False),
            )
            ids = self._encode(text, bool(body.get("add_special_tokens", False)))
        elif isinstance(body.get("prompt"), str):
            ids = self._encode(body["prompt"], bool(body.get("add_special_tokens", True)))
        else:
            return web.json_response({"detail": [{"type": "missing", "loc": ["body", "prompt"]}]}, status=422)
        token_strs = None
        if body.get("return_token_strs"):
            token_strs = (self._hf.convert_ids_to_tokens(ids) if self._hf is not None
                          else [self.tok.decode([i]) for i in ids])
        return web.json_response({"count": len(ids), "max_model_len": self.max_model_len, "tokens": ids,
                                  "token_strs": token_strs})

    async def detokenize(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(("detokenize", body))
        if (wrong := self._wrong_model(body)) is not None:
            return wrong
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or any(isinstance(t, bool) or not isinstance(t, int) or t < 0 for t in tokens):
            return web.json_response({"detail": [{"type": "greater_than_equal", "loc": ["body", "tokens"]}]},
                                     status=422)
        text = self._hf.decode(tokens) if self._hf is not None else self.tok.decode(tokens)
        return web.json_response({"prompt": text})

    async def tokenizer_info(self, _request: web.Request) -> web.Response:
        info: dict[str, Any] = {"tokenizer_class": type(self._hf).__name__ if self._hf is not None else "CharTokenizer",
                                "eos_token": self._hf.eos_token if self._hf is not None else self.tok.eos_token}
        template = self.info_template or getattr(self._hf, "chat_template", None)
        if template:
            info["chat_template"] = template
        return web.json_response(info)
