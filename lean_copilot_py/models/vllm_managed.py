"""A `vllm serve` child process we own: started on first use, watched, restarted, always stopped.

vLLM runs out of process (its own process group), so a crash or an OOM there never takes the language
server down, and every `import vllm` stays out of this package. We then speak the OpenAI API to it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from ..core.protocols import Tokenizer
from ..core.types import FinishReason, GenerationChunk, GenerationRequest
from ..settings import Settings
from .openai_backend import OpenAIGenerator

Progress = Callable[[str], None]

_HINTS = [
    (re.compile(r"out of memory|OutOfMemoryError|No available memory for the cache blocks|"
                r"larger than the maximum number of tokens that can be stored in KV cache", re.I),
     "the GPU is too small for this model and settings: lower vllm.max_model_len, raise "
     "vllm.gpu_memory_utilization, use more GPUs (vllm.tensor_parallel_size) or a smaller model"),
    (re.compile(r"No CUDA GPUs are available|Failed to infer device type|no GPU|NVIDIA driver", re.I),
     "vLLM found no usable GPU"),
    (re.compile(r"No module named ['\"]?vllm", re.I), "vLLM is not installed in the Python that runs it"),
    (re.compile(r"Repository Not Found|does not appear to have a file named|not a valid model identifier|"
                r"Can't load|Unrecognized model|OSError", re.I),
     "the model could not be loaded (check model.name: a local path or a model in the Hugging Face cache)"),
]


class VllmError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def executable_exists(exe: str) -> bool:
    return shutil.which(exe) is not None or Path(exe).is_file()


def explain_failure(tail: str) -> str:
    for pattern, hint in _HINTS:
        if pattern.search(tail):
            return hint
    return "vLLM failed"


async def http_ok(host: str, port: int, path: str = "/health", wait_s: float = 2.0) -> bool:
    """A bare GET (no HTTP client dependency needed for a health probe)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait_s)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), wait_s)
        return status.split(b" ")[1:2] == [b"200"]
    except (OSError, TimeoutError, IndexError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class ManagedVllm:
    """Generator backed by a managed `vllm serve` (``model.backend = "vllm"``)."""

    host = "127.0.0.1"

    def __init__(self, settings: Settings, tokenizer: Tokenizer, *, on_progress: Progress | None = None,
                 stop_timeout_s: float = 15.0) -> None:
        self.settings = settings
        self.tokenizer = tokenizer
        self.on_progress = on_progress or (lambda _msg: None)
        self.stop_timeout_s = stop_timeout_s
        self.port = 0
        self.restarts_used = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.log: deque[str] = deque(maxlen=200)
        self._client: OpenAIGenerator | None = None
        self._ready: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._failed: str | None = None
        self._closing = False
        atexit.register(self._kill_now)

    # --- public ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self, port: int) -> list[str]:
        v, m = self.settings.vllm, self.settings.model
        return [
            *v.command, m.name, "--host", self.host, "--port", str(port),
            "--tensor-parallel-size", str(v.tensor_parallel_size),
            "--gpu-memory-utilization", str(v.gpu_memory_utilization),
            "--max-model-len", str(v.max_model_len), *v.extra_args,
        ]

    async def start(self) -> None:
        """Start (once) and wait until healthy. Raises VllmError with a readable message."""
        if self._failed:
            raise VllmError(self._failed)
        if self._ready is None or (self._ready.done() and self._ready.exception() is not None):
            self._ready = asyncio.create_task(self._launch())
        # shield: a cancelled caller must not abort a start that other attempts wait for
        await asyncio.shield(self._ready)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        try:
            await self.start()
        except VllmError as exc:
            yield GenerationChunk(finish_reason=FinishReason.ERROR, error=str(exc))
            return
        assert self._client is not None
        async for chunk in self._client.stream(request):
            yield chunk

    async def aclose(self) -> None:
        self._closing = True
        for task in (self._watch, self._ready):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._stop_process()
        if self._client is not None:
            await self._client.aclose()
        atexit.unregister(self._kill_now)

    # --- process management ---------------------------------------------------------------------
    def _tail(self, n: int = 20) -> str:
        return "\n".join(list(self.log)[-n:])

    async def _launch(self) -> None:
        exe = self.settings.vllm.command[0]
        if not executable_exists(exe):
            self._failed = (
                f"vLLM is not installed: `{exe}` was not found on PATH. Install it on a machine with a CUDA GPU "
                "(pip install vllm), set vllm.command, or run any OpenAI-compatible server yourself and use "
                'model.backend = "openai" with model.endpoint.'
            )
            raise VllmError(self._failed)
        self.port = free_port()
        cmd = self.command(self.port)
        self.on_progress(f"starting vLLM: {' '.join(cmd)}")
        self.log.clear()
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
        self._drain = asyncio.create_task(self._drain_output(self.proc))
        await self._wait_healthy(self.proc)
        if self._client is None:
            self._client = OpenAIGenerator(self.url, self.settings.model.name, self.tokenizer,
                                           api_key=self.settings.model.api_key,
                                           timeout_s=self.settings.model.request_timeout_s)
        else:
            self._client.endpoint = self.url
            self._client._client = self._client._client.with_options(base_url=self.url)
        self.on_progress(f"vLLM ready at {self.url}")
        self._watch = asyncio.create_task(self._watch_process(self.proc))

    async def _drain_output(self, proc: asyncio.subprocess.Process) -> None:
        # vLLM logs a lot; an undrained pipe would block it. Keep the tail for error messages.
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self.log.append(line)
            if re.search(r"Loading (model )?weights|Started server|Uvicorn running|Capturing CUDA graph", line):
                self.on_progress(line.strip())

    async def _wait_healthy(self, proc: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        next_note = started + 5
        timeout = self.settings.vllm.startup_timeout_s
        while True:
            if proc.returncode is not None:
                await self._drained()
                tail = self._tail()
                self._failed = (f"{explain_failure(tail)} (vLLM exited with code {proc.returncode} while "
                                f"loading {self.settings.model.name}).\nLast output:\n{tail}")
                raise VllmError(self._failed)
            if await http_ok(self.host, self.port):
                return
            now = loop.time()
            if now - started > timeout:
                tail = self._tail()
                await self._stop_process()
                raise VllmError(f"vLLM did not become healthy within {timeout:.0f} s.\nLast output:\n{tail}")
            if now >= next_note:
                self.on_progress(f"waiting for vLLM to load {self.settings.model.name} ({now - started:.0f} s)")
                next_note = now + 5
            await asyncio.sleep(0.2)

    async def _drained(self) -> None:
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._drain, 2)

    async def _watch_process(self, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if self._closing:
            return
        await self._drained()
        if self.restarts_used >= self.settings.vllm.restarts:
            self._failed = (f"vLLM exited with code {code} and was restarted {self.restarts_used} times already; "
                            f"giving up ({explain_failure(self._tail())}).\nLast output:\n{self._tail()}")
            self.on_progress(self._failed)
            return
        self.restarts_used += 1
        self.on_progress(f"vLLM exited with code {code}; restarting ({self.restarts_used}/"
                         f"{self.settings.vllm.restarts})")
        self._ready = asyncio.create_task(self._launch())

    async def _stop_process(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the whole group: vLLM forks engine/worker processes
        try:
            await asyncio.wait_for(proc.wait(), self.stop_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        await self._drained()

    def _kill_now(self) -> None:
        """Interpreter exit without aclose(): never leave a GPU-holding orphan behind."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
