"""Part of `lean-copilot bench --only responsiveness`: `lean-copilot serve` on one large document, and how
fast it leaves when a client dies with work queued.

- Code actions on a 2 MB document (one theorem with a `sorry` every three lines, ~29k targets): the first
  request of a version indexes it (cold), later ones reuse the index (warm; target p99 <= 20 ms); one typed
  character makes a new version (cold again).
- Exit latency: a client queues (didChange to a new 1 MB version + a code action) pairs, each costing an index
  build, then closes stdin or the server gets SIGTERM: the time until the process is gone, and how many of
  the queued requests it still answered.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .fakes import REPO_ROOT, make_project
from .lsp_client import LspClient


@dataclass(frozen=True)
class LargeDocConfig:
    name: str
    size_bytes: int = 2_000_000
    requests: int = 500
    exit_queue: int = 30
    exit_version_bytes: int = 1_000_000


FULL_LARGE = LargeDocConfig("full")
SMOKE_LARGE = LargeDocConfig("smoke", size_bytes=200_000, requests=50, exit_queue=4, exit_version_bytes=100_000)


def repeated_document(size_bytes: int, declaration: Callable[[int], str]) -> str:
    """``declaration(0)``, ``declaration(1)``, … until the text holds ``size_bytes`` characters."""
    parts: list[str] = []
    total = n = 0
    while total < size_bytes:
        part = declaration(n)
        parts.append(part)
        total += len(part)
        n += 1
    return "".join(parts)


def big_document(size_bytes: int, tag: str = "t") -> str:
    return repeated_document(size_bytes,
                             lambda n: f"theorem {tag}_{n} (a b : N) : Eq (N.add a b) (N.add a b) := by\n  sorry\n\n")


def _stats(ms: list[float]) -> dict[str, Any]:
    xs = sorted(ms)

    def pct(q: float) -> float:
        return round(xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))], 3)

    return {"n": len(xs), "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": round(xs[-1], 3)}


def _client(work: Path) -> LspClient:
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, XDG_CONFIG_HOME=str(work / "xdg"), PYTHONPATH=pythonpath)
    return LspClient([sys.executable, "-m", "lean_copilot_py", "serve", "--log-file", str(work / "server.log")],
                     env=env, cwd=str(work))


async def _started(work: Path, uri: str, text: str) -> LspClient:
    client = _client(work)
    await client.start()
    await client.request("initialize", {"processId": os.getpid(), "rootUri": (work / "proj").as_uri(),
                                        "capabilities": {}, "initializationOptions": {"model": {"backend": "none"}}},
                         timeout=120)
    client.notify("initialized", {})
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "lean4", "version": 1,
                                                            "text": text}})
    return client


def _code_action_params(uri: str, line: int) -> dict[str, Any]:
    at = {"line": line, "character": 2}
    return {"textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}


async def _timed_code_action(client: LspClient, uri: str, line: int) -> float:
    t = time.perf_counter()
    result = await client.request("textDocument/codeAction", _code_action_params(uri, line), timeout=600)
    ms = 1000 * (time.perf_counter() - t)
    if not result:
        raise RuntimeError(f"no code action offered at line {line}")
    return ms


async def _code_actions(cfg: LargeDocConfig, work: Path, uri: str) -> dict[str, Any]:
    text = big_document(cfg.size_bytes)
    lines = text.count("\n")
    client = await _started(work, uri, text)
    try:
        rng = random.Random(0)
        cold = await _timed_code_action(client, uri, 1)
        warm = [await _timed_code_action(client, uri, rng.randrange(0, lines)) for _ in range(cfg.requests)]
        middle = (lines // 2) // 3 * 3 + 1  # a sorry line
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": middle, "character": 0},
                                          "end": {"line": middle, "character": 0}}, "text": " "}]})
        new_version = await _timed_code_action(client, uri, middle)
        warm_after = [await _timed_code_action(client, uri, rng.randrange(0, lines)) for _ in range(cfg.requests)]
    finally:
        await client.stop()
    return {"document_bytes": len(text.encode()), "lines": lines, "targets": text.count("sorry"),
            "cold_first_request_ms": round(cold, 1), "warm": _stats(warm),
            "first_request_after_an_edit_ms": round(new_version, 1), "warm_after_the_edit": _stats(warm_after),
            "targets_ms": {"p99_max": 20.0}}


async def _exit_after(cfg: LargeDocConfig, work: Path, uri: str, how: str, queue: int) -> dict[str, Any]:
    client = await _started(work, uri, "theorem foo : True := by\n  sorry\n")
    try:
        futures = [client.request_future("textDocument/codeAction", _code_action_params(uri, 1))]
        for i in range(queue):
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": 2 + i},
                "contentChanges": [{"text": big_document(cfg.exit_version_bytes, tag=f"v{i}")}]})
            futures.append(client.request_future("textDocument/codeAction", _code_action_params(uri, 1)))
        assert client.proc is not None and client.proc.stdin is not None
        await client.proc.stdin.drain()
        await asyncio.wait_for(asyncio.shield(futures[min(1, queue)]), 600)  # the server works through the queue
        t0 = time.perf_counter()
        if how == "stdin-eof":
            client.proc.stdin.close()
        else:
            client.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(client.proc.wait(), 600)
        exit_s = time.perf_counter() - t0
        await asyncio.sleep(0)
        done = [f.result() for f in futures[1:] if f.done() and not f.exception()]
        answered, indexed = len(done), sum(1 for r in done if r)
    finally:
        await client.stop()
    return {"how": how, "queued_requests": queue, "version_bytes": cfg.exit_version_bytes,
            "exit_s": round(exit_s, 3), "exit_code": code, "queued_requests_answered": answered,
            # answered with actions, i.e. that version was indexed (the others: [] for a replaced version)
            "queued_requests_indexed": indexed}


async def run_large_document(cfg: LargeDocConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lean-copilot-bench-large-") as tmp:
        work = Path(tmp)
        path = make_project(work / "proj", "theorem foo : True := by\n  sorry\n")
        uri = path.as_uri()
        result: dict[str, Any] = {"config": asdict(cfg), "code_actions": await _code_actions(cfg, work, uri)}
        # The same exits with nothing queued: the floor (closing the engine holder, the interpreter's exit).
        result["exit"] = [await _exit_after(cfg, work, uri, how, queue)
                          for queue in (0, cfg.exit_queue) for how in ("stdin-eof", "sigterm")]
        return result


def large_document_table(r: dict[str, Any]) -> str:
    c = r["code_actions"]
    warm, after = c["warm"], c["warm_after_the_edit"]
    lines = [
        f"Large document: {c['document_bytes'] / 1e6:.1f} MB, {c['lines']} lines, {c['targets']} sorries",
        f"  code action, first request of the version (indexing): {c['cold_first_request_ms']:g} ms",
        f"  code action, warm ({warm['n']}): p50 {warm['p50_ms']:g} / p99 {warm['p99_ms']:g} (target <= 20) / "
        f"max {warm['max_ms']:g} ms",
        f"  after typing one character: first request {c['first_request_after_an_edit_ms']:g} ms, then p50 "
        f"{after['p50_ms']:g} / p99 {after['p99_ms']:g} / max {after['max_ms']:g} ms",
    ]
    for e in r["exit"]:
        lines.append(f"  exit on {e['how']} with {e['queued_requests']} queued (new {e['version_bytes'] / 1e6:g} MB "
                     f"version + code action) pairs: {e['exit_s']:g} s, exit code {e['exit_code']}, "
                     f"{e['queued_requests_answered']} of them answered, {e['queued_requests_indexed']} after "
                     f"indexing their version")
    return "\n".join(lines)
