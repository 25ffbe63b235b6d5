from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from lean_copilot_py.core.types import FinishReason, GenerationRequest, Sampling
from lean_copilot_py.models.vllm_managed import ManagedVllm
from lean_copilot_py.settings import ModelSettings, Settings, VllmSettings

FAKE_VLLM = str(Path(__file__).resolve().parents[1] / "fakes" / "fake_vllm.py")
REQ = GenerationRequest("hi", None, Sampling(max_tokens=50))


def settings(*extra: str, restarts: int = 1, command: list[str] | None = None) -> Settings:
    return Settings(
        model=ModelSettings(backend="vllm", name="fake/model"),
        vllm=VllmSettings(command=command or [sys.executable, FAKE_VLLM, "serve"], extra_args=list(extra),
                          startup_timeout_s=30, restarts=restarts),
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


async def text_of(gen, req=REQ):
    chunks = [c async for c in gen.stream(req)]
    return "".join(c.text for c in chunks), chunks[-1]


async def test_healthy_start_serves_and_aclose_leaves_no_orphan(tmp_path, tiny_tokenizer):
    pidfile = tmp_path / "pids.json"
    notes: list[str] = []
    gen = ManagedVllm(settings("--fake-pidfile", str(pidfile)), tiny_tokenizer, on_progress=notes.append)
    try:
        text, last = await text_of(gen)
        assert last.finish_reason is FinishReason.STOP, last.error
        assert text.startswith("hello from fake vllm")
        cmd = gen.command(gen.port)
        assert cmd[cmd.index("--max-model-len") + 1] == "20480" and "--tensor-parallel-size" in cmd
        assert any("starting vLLM" in n for n in notes) and any("ready" in n for n in notes)
    finally:
        await gen.aclose()
    pids = json.loads(pidfile.read_text())
    assert not alive(pids["pid"]) and not alive(pids["child"])


async def test_crash_then_restart(tmp_path, tiny_tokenizer):
    notes: list[str] = []
    gen = ManagedVllm(settings("--fake-mode", "crash", "--fake-crash-after", "0.3", "--fake-state",
                               str(tmp_path / "state")), tiny_tokenizer, on_progress=notes.append)
    try:
        await gen.start()
        first_pid = gen.pid
        for _ in range(100):
            if gen.restarts_used == 1 and gen.pid != first_pid:
                break
            await asyncio.sleep(0.1)
        assert gen.restarts_used == 1
        text, last = await text_of(gen)
        assert last.finish_reason is FinishReason.STOP and text.startswith("hello")
        assert any("restarting (1/1)" in n for n in notes)
    finally:
        await gen.aclose()


async def test_gives_up_after_restarts(tmp_path, tiny_tokenizer):
    gen = ManagedVllm(settings("--fake-mode", "crash", "--fake-crash-after", "0.2", "--fake-crash-times", "9",
                               restarts=0), tiny_tokenizer)
    try:
        await gen.start()
        await asyncio.wait_for(gen.proc.wait(), 10)
        await asyncio.sleep(0.3)
        _, last = await text_of(gen)
        assert last.finish_reason is FinishReason.ERROR
        assert "giving up" in last.error and "illegal memory access" in last.error
    finally:
        await gen.aclose()


async def test_missing_vllm_message(tiny_tokenizer):
    gen = ManagedVllm(settings(command=["no-such-vllm-binary", "serve"]), tiny_tokenizer)
    _, last = await text_of(gen)
    assert last.finish_reason is FinishReason.ERROR and "vLLM is not installed" in last.error
    await gen.aclose()


@pytest.mark.parametrize(("mode", "expected", "tail"), [
    ("load_fail", "could not be loaded", "config.json"),
    ("oom", "GPU is too small", "No available memory for the cache blocks"),
])
async def test_load_failure_reports_stderr_tail(mode, expected, tail, tiny_tokenizer):
    gen = ManagedVllm(settings("--fake-mode", mode), tiny_tokenizer)
    _, last = await text_of(gen)
    assert last.finish_reason is FinishReason.ERROR
    assert expected in last.error and tail in last.error and "exited with code 1" in last.error
    await gen.aclose()
