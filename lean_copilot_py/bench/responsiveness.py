"""Part 2: how fast `lean-copilot serve` answers code actions, and its memory, while searches run.

The server is a real subprocess over stdio (our minimal client), configured through initializationOptions
to use the fake Lean server and the fake model server. We first time code actions on an idle server, then
start one `leanCopilot.prove` per theorem (8 searches) and keep asking for code actions at a fixed rate,
sampling the server's RSS (its own process; the fake Lean processes it started are reported apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..testing.lean_script import Script, fake_lean_command, unsolved, write_script
from .fakes import FakeModelServer, make_project, server_root
from .lsp_client import LspClient
from .workload import uniform


@dataclass(frozen=True)
class RespConfig:
    name: str
    searches: int = 8
    attempts: int = 4  # per search
    window_s: float = 10.0  # how long code actions are timed while the searches run
    interval_s: float = 0.025  # one code action every interval
    idle_requests: int = 40
    warmup_max_s: float = 60.0  # waiting for the searches to reach the model
    check_s: float = 0.3
    header_s: float = 1.0
    tok_per_s: float = 220.0
    use_model: bool = True  # False: automation only (no tokenizer build, for the smoke run)


FULL_RESP = RespConfig("full")
SMOKE_RESP = RespConfig("smoke", searches=3, attempts=2, window_s=1.5, interval_s=0.05, idle_requests=10,
                        warmup_max_s=1.0, check_s=0.05, header_s=0.05, tok_per_s=2000.0, use_model=False)


def _lean_file(n: int) -> tuple[str, list[int]]:
    lines = ["import Mathlib", ""]
    decl_lines = []
    for i in range(n):
        decl_lines.append(len(lines))
        lines += [f"theorem resp_{i} (a b : Nat) (h : a ≤ b) : a + (b - a) = b + {i} - {i} := by", "  sorry", ""]
    return "\n".join(lines), decl_lines


def _build_tokenizer(directory: Path) -> Path:
    """The tiny BPE tokenizer (lean_copilot_py/models/tiny_tokenizer.py), built in a subprocess: transformers
    stays out of the bench process."""
    subprocess.run([sys.executable, "-m", "lean_copilot_py.models.tiny_tokenizer", str(directory)], check=True,
                   timeout=300)
    return directory


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]


def _latency_stats(ms: list[float]) -> dict[str, Any]:
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(_pct(ms, 50), 2), "p99_ms": round(_pct(ms, 99), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.mean(ms), 2)}


class _Rss:
    """Samples the server's RSS and, apart, its children's (the fake Lean processes)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.server: list[int] = []
        self.children: list[int] = []

    def sample(self) -> None:
        with contextlib.suppress(Exception):
            self.server.append(self.proc.memory_info().rss)
            kids = self.proc.children(recursive=True)
            self.children.append(sum(k.memory_info().rss for k in kids))

    def cpu_seconds(self) -> float:
        try:
            t = self.proc.cpu_times()
            return t.user + t.system
        except Exception:  # the process is gone
            return 0.0

    def summary(self) -> dict[str, Any]:
        mb = 1024 * 1024
        return {"server_peak_mb": round(max(self.server, default=0) / mb, 1),
                "server_last_mb": round((self.server[-1] if self.server else 0) / mb, 1),
                "children_peak_mb": round(max(self.children, default=0) / mb, 1), "samples": len(self.server)}


def _progress_timeline(client: LspClient, began: float) -> list[dict[str, Any]]:
    """When each kind of progress message first arrived (seconds since the prove commands): where the
    warm-up goes (goal reads, automation, first attempts)."""
    first: dict[str, float] = {}
    for t, method, params in client.notifications:
        if method != "$/progress" or not isinstance(params, dict):
            continue
        msg = str((params.get("value") or {}).get("message") or "")
        # "attempts 2 · sketches checked 5 · attempt 3, sketch 1: failed" -> "attempt N, sketch N"
        kind = re.sub(r"\d+", "N", msg.split(" · ")[-1].split(":")[0]).strip()[:60]
        if kind and kind not in first:
            first[kind] = round(t - began, 2)
    return [{"at_s": v, "message": k} for k, v in sorted(first.items(), key=lambda kv: kv[1])][:15]


async def _code_action(client: LspClient, uri: str, line: int) -> float:
    params = {"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 2},
              "end": {"line": line, "character": 2}}, "context": {"diagnostics": []}}
    t = time.perf_counter()
    result = await client.request("textDocument/codeAction", params)
    ms = 1000 * (time.perf_counter() - t)
    if not result:
        raise RuntimeError(f"no code action offered at line {line}: {result!r}")
    return ms


async def run_responsiveness(cfg: RespConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lean-copilot-bench-resp-") as tmp:
        work = Path(tmp)
        text, decl_lines = _lean_file(cfg.searches)
        path = make_project(work / "proj", text)
        uri = path.as_uri()
        lean_script = write_script(work / "lean.json", Script(default=unsolved(), delay_s=cfg.check_s,
                                                              header_delay_s=cfg.header_s))
        # Model conversations that never prove: the searches keep the model and Lean busy all window long.
        w = uniform("resp", tok_per_s=cfg.tok_per_s, attempts=cfg.searches * cfg.attempts, winner=0,
                    failing_turns=400)
        script = {"model": "fake-stepfun", "latency_s": 1.0 / cfg.tok_per_s, "turn_marker": "\n<REPL>\n",
                  "scripts": [{"turns": list(c)} for c in w.conversations]}
        options: dict[str, Any] = {
            "lean": {"server_command": fake_lean_command(lean_script), "slots": 4, "check_timeout_s": 60.0},
            "search": {"attempts": cfg.attempts, "cache": False, "deadline_s": 600.0},
            "paths": {"cache_dir": str(work / "cache"), "transcript_dir": str(work / "transcripts")},
            "model": {"backend": "none"},
        }
        model_srv: FakeModelServer | None = None
        if cfg.use_model:
            tok_dir = _build_tokenizer(work / "tokenizer")
            model_srv = FakeModelServer(script, work, tokenizer_dir=tok_dir)
            await model_srv.start()
            options["model"] = {"backend": "openai", "endpoint": model_srv.url, "name": "fake-stepfun",
                                "tokenizer": str(tok_dir), "family": "stepfun"}
        # Our own checkout first on the path (the package need not be installed); no user config file.
        pythonpath = os.pathsep.join(p for p in (str(server_root()), os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, XDG_CONFIG_HOME=str(work / "xdg"), PYTHONPATH=pythonpath)
        log_file = Path(os.environ.get("LEAN_COPILOT_BENCH_SERVER_LOG") or work / "server.log")
        client = LspClient([sys.executable, "-m", "lean_copilot_py", "serve", "--log-file", str(log_file)],
                           env=env, cwd=str(work))
        try:
            return await _measure(cfg, client, uri, text, decl_lines, work, options, model_srv)
        finally:
            await client.stop()
            if model_srv is not None:
                await model_srv.stop()


async def _measure(cfg: RespConfig, client: LspClient, uri: str, text: str, decl_lines: list[int], work: Path,
                   options: dict[str, Any], model_srv: FakeModelServer | None) -> dict[str, Any]:
    t_start = time.perf_counter()
    await client.start()
    await client.request("initialize", {"processId": os.getpid(), "rootUri": (work / "proj").as_uri(),
                                        "capabilities": {"window": {"workDoneProgress": True}},
                                        "initializationOptions": options}, timeout=120)
    client.notify("initialized", {})
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "lean4", "version": 1,
                                                            "text": text}})
    rss = _Rss(client.pid)
    rng = random.Random(0)
    idle = [await _code_action(client, uri, rng.choice(decl_lines)) for _ in range(cfg.idle_requests)]
    startup_s = time.perf_counter() - t_start
    rss.sample()
    idle_rss = rss.summary()["server_last_mb"]
    searches = [client.request_future("workspace/executeCommand", {
        "command": "leanCopilot.prove", "arguments": [{"uri": uri, "line": ln, "character": 2}]})
        for ln in decl_lines]
    began = time.perf_counter()

    async def sample(until: float, done: Any = None) -> tuple[list[float], list[float]]:
        """Code actions at the configured rate until ``until`` (or ``await done()`` is true)."""
        ms: list[float] = []
        at: list[float] = []
        next_poll = 0.0
        while time.perf_counter() < until:
            tick = time.perf_counter()
            at.append(tick - began)
            ms.append(await _code_action(client, uri, rng.choice(decl_lines)))
            rss.sample()
            if done is not None and tick >= next_poll:
                next_poll = tick + 0.25
                if await done():
                    break
            await asyncio.sleep(max(0.0, cfg.interval_s - (time.perf_counter() - tick)))
        return ms, at

    async def model_streaming() -> bool:
        return model_srv is None or bool(await model_srv.requests())

    # Warm-up: from the prove commands until the model is streaming (engine start, tokenizer load, goal
    # reads, automation). Then the steady state: all searches in their model attempts.
    warm, warm_at = await sample(began + cfg.warmup_max_s, model_streaming)
    warmup_s = time.perf_counter() - began
    before = len(await model_srv.requests()) if model_srv is not None else 0
    cpu0, t_window = rss.cpu_seconds(), time.perf_counter()
    busy, when = await sample(time.perf_counter() + cfg.window_s)
    server_cpu_pct = 100 * (rss.cpu_seconds() - cpu0) / max(1e-9, time.perf_counter() - t_window)
    running = sum(1 for f in searches if not f.done())
    model_requests = (len(await model_srv.requests()) - before) if model_srv is not None else 0
    await client.request("workspace/executeCommand", {"command": "leanCopilot.cancel", "arguments": [{}]})
    outcomes = await asyncio.gather(*(asyncio.wait_for(f, 60) for f in searches), return_exceptions=True)
    slowest = sorted(range(len(warm + busy)), key=lambda i: -(warm + busy)[i])[:5]
    return {
        "config": asdict(cfg),
        "server_startup_and_idle_s": round(startup_s, 2),
        "code_action_idle": _latency_stats(idle),
        "warmup_s": round(warmup_s, 2),
        "model_streaming_after_warmup": model_srv is None or before > 0,
        "code_action_warmup": _latency_stats(warm),
        "code_action_during_searches": _latency_stats(busy),
        # Where the stalls are: the slowest samples with their time since the prove commands were sent.
        "slowest": [{"at_s": round((warm_at + when)[i], 3), "ms": round((warm + busy)[i], 1)} for i in slowest],
        "searches_started": len(searches),
        "searches_running_at_window_end": running,
        "search_results": [o.get("status", "?") if isinstance(o, dict) else type(o).__name__ for o in outcomes],
        "model_requests_during_window": model_requests,
        "server_cpu_pct_during_window": round(server_cpu_pct, 1),
        "progress_timeline": _progress_timeline(client, began),
        "rss_idle_mb": idle_rss,
        "rss": rss.summary(),
        "server_requests_seen": sorted(set(client.server_requests)),
        "targets": {"p99_ms_max": 20.0, "rss_mb_max": 200.0},
    }
