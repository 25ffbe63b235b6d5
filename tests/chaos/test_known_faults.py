"""Deterministic companions of the random chaos runs: one scripted fault each, through the same
session machinery, so a failure here names the fault directly."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.lean_script import Script, fake_lean_command, write_script
from tests.server.conftest import Start

from .leanlog import LeanLog
from .session import Session, one_run, settings

SERVE = [sys.executable, "-m", "lean_copilot_py", "serve"]
REPO = str(Path(__file__).resolve().parents[2])

pytestmark = [pytest.mark.chaos]


async def test_fixed_seed_runs(start: Start, lean_file, tmp_path: Path, tiny_tokenizer: Path) -> None:
    seed = int(__import__("os").environ.get("CHAOS_DEBUG_SEED", "7"))
    runs = int(__import__("os").environ.get("CHAOS_DEBUG_RUNS", "2"))
    script_path = write_script(tmp_path / "script.json", Script())
    log_path = tmp_path / "lean-log.jsonl"
    async with FakeOpenAI({"turn_marker": "<REPL>\n", "scripts": []}, tokenizer_dir=tiny_tokenizer) as model:
        opts = settings(fake_lean_command(script_path, log_path), model.url, tiny_tokenizer, tmp_path / "cache")
        env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": REPO}
        editor = await start(init_options=opts, command=SERVE, env=env)
        session = Session(editor, model, model.port, script_path, LeanLog(log_path), lean_file, random.Random(seed))
        for n in range(runs):
            await one_run(session, n)
