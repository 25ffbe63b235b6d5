"""The scripted fakes the package ships (lean_copilot_py/testing/), started as separate processes.

The fake model server runs in its own process so its per-token sleeps and JSON encoding do not share our
event loop: it plays the GPU, and what happens in *our* process is what we measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]  # the checkout: benchmarks/ (the GPU part), the server to run


def server_root() -> Path:
    """The checkout `lean-copilot serve` runs from in the server benchmarks: this one, or
    ``LEAN_COPILOT_BENCH_SERVER_ROOT`` (another checkout, for a before/after comparison with the same driver)."""
    return Path(os.environ.get("LEAN_COPILOT_BENCH_SERVER_ROOT") or REPO_ROOT)


GPU_NICE = -10


def raise_priority(pid: int) -> bool:
    """Run the simulated GPU ahead of other work on this machine. The fake model server stands in for a GPU
    server elsewhere: its own per-token CPU work competing with a small, shared machine's other load is not
    something a real deployment has, so it gets a higher scheduling priority (when we may raise it: root);
    our own process keeps the normal one, since its work under load is what is measured."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, GPU_NICE)
    except (OSError, AttributeError):
        return False
    return True


class FakeModelServer:
    """``lean_copilot_py/testing/fake_openai.py`` as a subprocess; ``requests()`` reads its request log."""

    def __init__(self, script: dict[str, Any], workdir: Path, *, tokenizer_dir: Path | None = None) -> None:
        self.script_path = workdir / f"model-script-{id(self):x}.json"
        self.script_path.write_text(json.dumps(script, ensure_ascii=False), encoding="utf-8")
        self.tokenizer_dir = tokenizer_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def start(self) -> str:
        cmd = [sys.executable, "-m", "lean_copilot_py.testing.fake_openai", "--port", "0", "--script",
               str(self.script_path)]
        if self.tokenizer_dir is not None:
            cmd += ["--tokenizer", str(self.tokenizer_dir)]
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        raise_priority(self.proc.pid)
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=60)
        self.url = line.decode().strip()
        if not self.url.startswith("http"):
            raise RuntimeError(f"the fake model server did not start (said {line!r})")
        return self.url

    async def requests(self) -> list[dict[str, Any]]:
        base = self.url.removesuffix("/v1")

        def get() -> list[dict[str, Any]]:
            with urllib.request.urlopen(f"{base}/_requests", timeout=30) as resp:
                return json.loads(resp.read())

        return await asyncio.to_thread(get)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), timeout=5)
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()

    async def __aenter__(self) -> FakeModelServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def make_project(root: Path, lean_text: str, name: str = "Bench.lean") -> Path:
    """A Lake-looking project (what project discovery and leanclient read) with one Lean file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "lakefile.toml").write_text('name = "bench"\n', encoding="utf-8")
    (root / "lean-toolchain").write_text("leanprover/lean4:v4.24.0\n", encoding="utf-8")
    path = root / name
    path.write_text(lean_text, encoding="utf-8")
    return path
