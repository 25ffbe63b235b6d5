"""A scripted OpenAI-compatible completions server (vLLM dialect) for tests and demos.

In process::

    async with FakeOpenAI({"scripts": [...]}, tokenizer_dir=tiny) as srv:
        srv.url          # "http://127.0.0.1:PORT/v1"
        srv.requests     # list[RequestRecord]

As a subprocess::

    python -m lean_copilot_py.testing.fake_openai --port 0 --script script.json [--tokenizer DIR] [--latency 0.01]

prints its base URL (…/v1) on stdout once it listens. ``GET /_requests`` returns the records as JSON.

Like vLLM, it also serves the tokenizer at the server root (not under /v1): ``POST /tokenize`` (a ``prompt``, or
``messages`` rendered with the tokenizer's chat template), ``POST /detokenize`` and, when asked for,
``GET /tokenizer_info``; ``tokenize=False`` (``--no-tokenize``) makes a server that has none of them, as most
non-vLLM OpenAI-compatible servers. ``srv.tokenize_calls`` records each /tokenize and /detokenize body.

The script format and how a turn is cut at the request's stops: model_script.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

if not __package__:  # run by path: the package of this checkout, whatever else sys.path holds
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lean_copilot_py.models.tokenizer import load_tokenizer
from lean_copilot_py.testing.char_tokenizer import CharTokenizer
from lean_copilot_py.testing.fake_tokenize import TokenizerRoutes
from lean_copilot_py.testing.model_script import Params, Script, TurnScript, emit, params_of, parse_script


@dataclass
class RequestRecord:
    index: int
    body: dict[str, Any]
    prompt_kind: str  # "ids" | "text"
    prompt_ids: list[int] | None
    prompt_text: str
    turn: int
    script: int
    stream: bool
    output_ids: list[int] = field(default_factory=list)
    output_text: str = ""
    finish_reason: str | None = None
    stop_reason: int | str | None = None
    closed_early: bool = False  # the client went away before the server finished
    completed: bool = False  # the server wrote the whole response
    ended: bool = False  # the handler is done, one way or another


class FakeOpenAI:
    def __init__(
        self,
        script: Any = None,
        *,
        tokenizer_dir: str | Path | None = None,
        latency_s: float | None = None,
        model: str | None = None,
        tokenize: bool = True,
        tokenizer_info: bool = False,
        tokenizer_info_template: str | None = None,
        max_model_len: int = 20480,
    ) -> None:
        self.scripts, opts = parse_script(script or [])
        self.tokenize = tokenize
        self.tokenizer_info = tokenizer_info
        self._tokenizer_info_template = tokenizer_info_template
        self._max_model_len = max_model_len
        self.model = model or opts.get("model", "fake-model")
        self.latency_s = latency_s if latency_s is not None else float(opts.get("latency_s", 0.0))
        # Feedback blocks open with "\n<REPL>\n"; StepFun's system prompt mentions "<REPL>" in prose, which must
        # not count as a turn.
        self.turn_marker = opts.get("turn_marker", "\n<REPL>\n")
        self.tok = load_tokenizer(str(tokenizer_dir)) if tokenizer_dir else CharTokenizer()
        self.tokenizer_routes = TokenizerRoutes(self.tok, self.model, max_model_len=self._max_model_len,
                                                info_template=self._tokenizer_info_template)
        self.requests: list[RequestRecord] = []
        self._emitted_texts: dict[tuple[Any, ...], str] = {}
        self._rr = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.host = "127.0.0.1"

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/_requests", self._requests)
        self.tokenizer_routes.add_to(app, tokenize=self.tokenize, info=self.tokenizer_info)
        return app

    @property
    def tokenize_calls(self) -> list[tuple[str, dict[str, Any]]]:
        return self.tokenizer_routes.calls

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self.host = host
        self._runner = web.AppRunner(self.app(), handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_ended(self, index: int = -1, wait_s: float = 5.0) -> RequestRecord:
        """Wait until request ``index`` has finished on the server side (written, dropped or closed)."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.requests and self.requests[index].ended:
                return self.requests[index]
            await asyncio.sleep(0.01)
        raise TimeoutError(f"request {index} still running on the fake server")

    # --- scripted generation -----------------------------------------------------------------
    def _emitted(self, turn: TurnScript, p: Params) -> str:
        """The text a turn produces under these stop parameters (for matching continuations). Memoised: a
        continuation is matched against every earlier turn of every script, and re-generating them all on
        every request cost ~30 ms of Python for 8 seed-story scripts, at the moment 8 attempts resume together
        after a shared check (a real server's prefill of a cached prefix costs milliseconds)."""
        key = (id(turn), p.max_tokens, tuple(p.stop), tuple(sorted(p.stop_token_ids)), p.include_stop, p.ignore_eos)
        if key not in self._emitted_texts:
            self._emitted_texts[key] = "".join(ev[0] for ev in emit(self.tok, turn.text, p, turn.ids))
        return self._emitted_texts[key]

    def _choose(self, prompt: str, turn: int, seed: int | None, p: Params) -> int:
        eligible = [i for i, s in enumerate(self.scripts) if not s.match or re.search(s.match, prompt)]
        if not eligible:
            return -1
        if turn > 0:
            for i in eligible:
                prev = self.scripts[i].turns[:turn]
                if len(prev) == turn and all(self._emitted(t, p) in prompt for t in prev):
                    return i
        if seed is not None:
            return eligible[seed % len(eligible)]
        i = eligible[self._rr % len(eligible)]
        self._rr += 1
        return i

    # --- HTTP ---------------------------------------------------------------------------------
    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(text="")

    async def _requests(self, _request: web.Request) -> web.Response:
        return web.json_response([asdict(r) for r in self.requests])

    async def _models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        prompt = body.get("prompt")
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], list):
            prompt = prompt[0]
        if isinstance(prompt, list):
            kind, ids, text = "ids", [int(x) for x in prompt], self.tok.decode([int(x) for x in prompt])
        else:
            kind, ids, text = "text", None, str(prompt)
        p = params_of(body)
        turn = text.count(self.turn_marker) if self.turn_marker else 0
        idx = self._choose(text, turn, body.get("seed"), p)
        script = self.scripts[idx] if idx >= 0 else Script(turns=[])
        ts = script.turns[turn] if turn < len(script.turns) else TurnScript()
        rec = RequestRecord(len(self.requests), body, kind, ids, text, turn, idx, bool(body.get("stream")))
        self.requests.append(rec)
        try:
            if ts.fail == "http500":
                return web.json_response({"error": {"message": "scripted failure", "type": "server_error"}},
                                         status=500)
            if not rec.stream:
                return await self._whole(rec, ts, p)
            return await self._stream(request, rec, ts, p)
        finally:
            rec.ended = True

    def _choice(self, rec: RequestRecord, delta: str, tids: list[int], finish: str | None,
                stop_reason: Any, first: bool) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "text": delta, "logprobs": None, "finish_reason": finish,
                                  "stop_reason": stop_reason}
        if rec.body.get("return_token_ids"):
            choice["token_ids"] = tids
            if first:
                choice["prompt_token_ids"] = rec.prompt_ids or self.tok.encode(rec.prompt_text)
        return choice

    async def _whole(self, rec: RequestRecord, ts: TurnScript, p: Params) -> web.Response:
        finish = stop_reason = None
        for delta, tid, fin, why in emit(self.tok, ts.text, p, ts.ids):
            rec.output_ids.append(tid)
            rec.output_text += delta
            finish, stop_reason = fin, why
        rec.finish_reason, rec.stop_reason, rec.completed = finish, stop_reason, True
        choice = self._choice(rec, rec.output_text, rec.output_ids, finish, stop_reason, True)
        return web.json_response({"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion",
                                  "created": int(time.time()), "model": self.model, "choices": [choice],
                                  "usage": self._usage(rec)})

    def _usage(self, rec: RequestRecord) -> dict[str, int]:
        n_prompt = len(rec.prompt_ids) if rec.prompt_ids is not None else len(self.tok.encode(rec.prompt_text))
        return {"prompt_tokens": n_prompt, "completion_tokens": len(rec.output_ids),
                "total_tokens": n_prompt + len(rec.output_ids)}

    async def _stream(self, request: web.Request, rec: RequestRecord, ts: TurnScript,
                      p: Params) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        latency = self.latency_s if ts.latency_s is None else ts.latency_s
        cid, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

        async def send(raw: bytes) -> None:
            if request.transport is None or request.transport.is_closing():
                raise ConnectionResetError("client closed")
            await resp.write(raw)

        try:
            for n, (delta, tid, finish, stop_reason) in enumerate(emit(self.tok, ts.text, p, ts.ids)):
                if ts.fail and n >= ts.after:
                    await self._fail(request, ts.fail, send)
                    return resp
                if latency:
                    await asyncio.sleep(latency)
                rec.output_ids.append(tid)
                rec.output_text += delta
                rec.finish_reason, rec.stop_reason = finish, stop_reason
                chunk = {"id": cid, "object": "text_completion", "created": created, "model": self.model,
                         "choices": [self._choice(rec, delta, [tid], finish, stop_reason, n == 0)]}
                await send(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            if (rec.body.get("stream_options") or {}).get("include_usage"):
                usage = {"id": cid, "object": "text_completion", "created": created, "model": self.model,
                         "choices": [], "usage": self._usage(rec)}
                await send(b"data: " + json.dumps(usage).encode() + b"\n\n")
            await send(b"data: [DONE]\n\n")
            await resp.write_eof()
            rec.completed = True
        except (ConnectionResetError, asyncio.CancelledError):
            rec.closed_early = True
        return resp

    async def _fail(self, request: web.Request, fail: str, send: Any) -> None:
        if fail == "drop":
            if request.transport is not None:
                request.transport.abort()
        elif fail == "garbage":
            await send(b"data: {this is not json\n\n")
            await send(b"data: [DONE]\n\n")
        elif fail == "non_utf8":
            await send(b"data: \xff\xfe\xfd{\x80\n\n")
            await send(b"data: [DONE]\n\n")
        elif fail == "hang":
            while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            raise ConnectionResetError("client closed while hanging")


async def _main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", type=Path)
    ap.add_argument("--tokenizer", default=None)
    ap.add_argument("--latency", type=float, default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-tokenize", action="store_true", help="serve no /tokenize or /detokenize")
    args = ap.parse_args(argv)
    script = json.loads(args.script.read_text(encoding="utf-8")) if args.script else []
    server = FakeOpenAI(script, tokenizer_dir=args.tokenizer, latency_s=args.latency, model=args.model,
                        tokenize=not args.no_tokenize)
    print(await server.start(args.port, args.host), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


if __name__ == "__main__":
    try:
        asyncio.run(_main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
