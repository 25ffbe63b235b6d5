"""Fault injection through the language server (issue "Faults and hostile input").

`lean-copilot serve` runs as a real subprocess (pytest-lsp), with the scripted fake Lean server and the
scripted fake OpenAI server. While searches run, seeded random faults hit it (faults.py, scenario.py);
after every run we check: no hang past the deadline, the server still answers, no unverified proof
applied, the user's text intact (session.py: Run.verify); after every session: no child process left.

Short form (CI): one session of SHORT_RUNS runs. Longer: LEAN_COPILOT_CHAOS_RUNS=200 (sessions of
RUNS_PER_SESSION). Reproduce with LEAN_COPILOT_CHAOS_SEED=<the printed seed>.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

import psutil
import pytest

from lean_copilot_py.testing.fake_openai import FakeOpenAI
from lean_copilot_py.testing.lean_script import Script, fake_lean_command, write_script
from tests.server.conftest import Start

from .leanlog import LeanLog
from .session import Session, one_run, settings

SHORT_RUNS = 5
RUNS_PER_SESSION = 25
RUNS = int(os.environ.get("LEAN_COPILOT_CHAOS_RUNS", SHORT_RUNS))
SEED = int(os.environ.get("LEAN_COPILOT_CHAOS_SEED", random.SystemRandom().randrange(2**32)))
SERVE = [sys.executable, "-m", "lean_copilot_py", "serve"]
REPO = str(Path(__file__).resolve().parents[2])

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60 + RUNS * 25)]


async def _gone(pids: set[int], within: float = 15.0) -> set[int]:
    deadline = time.monotonic() + within
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {p for p in alive if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}
        await asyncio.sleep(0.1)
    return alive


async def _session(start: Start, lean_file, tmp_path: Path, tokenizer: Path, rng: random.Random, runs: int,
                   totals: dict[str, int]) -> None:
    script_path = write_script(tmp_path / "script.json", Script())
    log_path = tmp_path / "lean-log.jsonl"
    log_path.unlink(missing_ok=True)
    async with FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": []}, tokenizer_dir=tokenizer) as model:
        opts = settings(fake_lean_command(script_path, log_path), model.url, tokenizer, tmp_path / "cache")
        env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": REPO}
        editor = await start(init_options=opts, command=SERVE, env=env)
        session = Session(editor, model, model.port, script_path, LeanLog(log_path), lean_file, rng)
        for n in range(runs):
            await one_run(session, n)
        session.sample_children()
        children = set(session.seen_pids)
        await asyncio.wait_for(editor.client.shutdown_session(), 20)
        left = await _gone(children)
        assert not left, f"ORPHANS after shutdown: {[psutil.Process(p).cmdline() for p in left]}"
        for key, value in session.stats.items():
            totals[key] = max(totals.get(key, 0), value) if key.endswith("_max") else totals.get(key, 0) + value
        totals["sessions"] = totals.get("sessions", 0) + 1


async def test_chaos_through_the_language_server(start: Start, lean_file, tmp_path: Path, tiny_tokenizer_dir: Path):
    print(f"\nchaos seed {SEED} runs {RUNS} (LEAN_COPILOT_CHAOS_SEED={SEED} to reproduce)")
    rng = random.Random(SEED)
    totals: dict[str, int] = {}
    t0 = time.monotonic()
    left = RUNS
    while left > 0:
        n = min(left, RUNS_PER_SESSION)
        await _session(start, lean_file, tmp_path, tiny_tokenizer_dir, rng, n, totals)
        left -= n
    print(f"chaos totals after {time.monotonic() - t0:.0f}s: {dict(sorted(totals.items()))}")
    assert totals.get("runs") == RUNS
