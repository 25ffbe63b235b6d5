"""Part 1: our search pipeline vs StepFun-Prover's reference loop, on the same scripted workload.

Both runs get a fresh fake model server (per-token latency = the simulated GPU) and the same fake Lean
script (per-check and import-header latency). Reported per run: time to the first verified proof, Lean
and model time, the time the simulated GPU sat idle while Lean worked, our own overhead on the critical
path, and prefill tokens per turn from the server's request log.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from ..core.protocols import Tokenizer
from ..core.targets import find_targets
from ..core.types import Target
from ..settings import LeanSettings, ModelSettings, PathsSettings, SearchSettings, Settings
from .chartok import CharTokenizer
from .fakes import FakeModelServer, make_project
from .prefill import prefill_rows, summarize
from .reference import run_reference
from .timing import Interval, Recorder, TimedChecker, TimedGenerator, union
from .workload import FORMAL_PROBLEM, LEAN_FILE, Workload, model_script, write_lean_script


def _lean_settings(script: Path, slots: int) -> LeanSettings:
    from tests.fakes.lean_script import fake_lean_command

    return LeanSettings(server_command=fake_lean_command(script), slots=slots, check_timeout_s=60.0,
                        startup_timeout_s=60.0)


def _timeline(rec: Recorder, t0: float, t1: float, critical: list[Interval], turns: int) -> dict[str, Any]:
    wall = t1 - t0
    model = rec.of("model")
    lean = rec.of("lean", "lean-start", "lean-stop", "goal")
    model_busy = union(model, t0, t1)
    busy = union(model + lean, t0, t1)
    cp = union(critical, t0, t1)
    overhead = wall - cp
    return {
        "wall_s": round(wall, 3),
        "model_s": round(model_busy, 3),  # GPU busy: at least one stream open
        "model_stream_s": round(sum(i.seconds for i in model), 3),  # summed over parallel streams
        "lean_s": round(union(lean, t0, t1), 3),
        "lean_check_s": round(sum(i.seconds for i in lean), 3),
        "lean_checks": len(rec.of("lean")),
        "lean_restarts": len(rec.of("lean-start")),
        "lean_server_start_stop_s": round(sum(i.seconds for i in rec.of("lean-start", "lean-stop")), 3),
        "gpu_idle_waiting_on_lean_s": round(busy - model_busy, 3),
        "critical_path": {
            "model_s": round(union([i for i in critical if i.kind == "model"], t0, t1), 3),
            "lean_s": round(union([i for i in critical if i.kind != "model"], t0, t1), 3),
            "turns": turns,
        },
        "overhead_s": round(overhead, 3),
        "overhead_pct_of_wall": round(100 * overhead / wall, 2) if wall else None,
        "overhead_per_turn_ms": round(1000 * overhead / max(1, turns), 1),
        "tokens_generated": sum(i.tokens for i in model),
        "decode_tok_per_s_per_stream": round(
            sum(i.tokens for i in model) / max(1e-9, sum(i.seconds for i in model)), 1),
    }


async def _run_reference(w: Workload, work: Path, target: Target, project: Path, lean: LeanSettings,
                         tok: Tokenizer) -> dict[str, Any]:
    from ..models.openai_backend import OpenAIGenerator

    rec = Recorder()
    async with FakeModelServer(model_script(w), work) as srv:
        gen = OpenAIGenerator(srv.url, "fake-stepfun", tok)
        t0 = time.monotonic()
        res = await run_reference(target=target, formal_problem=FORMAL_PROBLEM, generator=gen,
                                  project=project, lean=lean, rec=rec, max_attempts=w.attempts)
        t1 = time.monotonic()
        records = await srv.requests()
    # One attempt at a time: everything is on the critical path.
    out = {"proved": res.proved, "winning_attempt": res.winning_attempt, "attempts_run": res.attempts,
           "sketches_checked": res.sketches, "notes": res.notes, "proof_origin": res.proof_origin}
    out |= _timeline(rec, t0, t1, rec.intervals, res.turns)
    out["prefill"] = summarize(prefill_rows(records, tok))
    return out


async def _run_ours(w: Workload, work: Path, target: Target, lean: LeanSettings, tok: Tokenizer,
                    attempts: int) -> dict[str, Any]:
    from ..engine import Engine
    from ..lean.checker import LeanChecker
    from ..models.openai_backend import OpenAIGenerator

    rec = Recorder()
    async with FakeModelServer(model_script(w), work) as srv:
        settings = Settings(
            model=ModelSettings(endpoint=srv.url, name="fake-stepfun", family="stepfun"),
            search=SearchSettings(attempts=attempts, automation=[], cache=False, deadline_s=300.0),
            lean=lean,
            paths=PathsSettings(cache_dir=work / "cache", transcript_dir=work / "transcripts"),
        )
        gen = TimedGenerator(OpenAIGenerator(srv.url, "fake-stepfun", tok), rec)
        engine = Engine(settings, checker_factory=lambda root: TimedChecker(LeanChecker(root, settings.lean), rec),
                        generator=gen)
        try:
            t0 = time.monotonic()
            result = await engine.search(target)
            t1 = time.monotonic()
        finally:
            await engine.aclose()
        records = await srv.requests()
    proved = result.proof is not None and result.status.value == "proved"
    origin = result.proof.origin if result.proof is not None else ""
    m = re.match(r"model:attempt-(\d+):", origin)
    winner = int(m.group(1)) if m else 0
    # The winner's critical path: the goal read, its own generations and checks (slot waits included).
    critical = [i for i in rec.intervals if i.kind == "goal"
                or (i.kind == "model" and i.key.endswith(f"-{winner}"))
                or (i.kind == "lean" and i.key.startswith(f"model:attempt-{winner}:"))]
    turns = sum(1 for i in critical if i.kind == "model")
    first_model = min((i.start for i in rec.of("model")), default=t1)
    out = {"proved": proved, "status": result.status.value, "reason": result.reason, "proof_origin": origin,
           "winning_attempt": winner, "attempts": attempts, "slots": lean.slots,
           "sketches_checked": result.stats.sketches_checked,
           # Engine.search reads the goal from Lean before any attempt starts: that wait is before the model.
           "goal_read_s": round(sum(i.seconds for i in rec.of("goal")), 3),
           "first_model_request_after_s": round(first_model - t0, 3)}
    out |= _timeline(rec, t0, t1, critical, turns)
    out["prefill"] = summarize(prefill_rows(records, tok))
    return out


async def run_pipeline(w: Workload, *, attempts: int | None = None, slots: int = 4) -> dict[str, Any]:
    # Import the heavy layers (leanclient, openai) before any clock starts: neither loop should pay it.
    from ..engine import Engine  # noqa: F401
    from ..lean.checker import LeanChecker  # noqa: F401
    from ..models.openai_backend import OpenAIGenerator  # noqa: F401

    tok = CharTokenizer()
    with tempfile.TemporaryDirectory(prefix="lean-copilot-bench-") as tmp:
        work = Path(tmp)
        path = make_project(work / "proj", LEAN_FILE)
        target = find_targets(path, LEAN_FILE)[0]
        lean = _lean_settings(write_lean_script(w, work / "lean-script.json"), slots)
        ref = await _run_reference(w, work, target, path.parent, lean, tok)
        ours = await _run_ours(w, work, target, lean, tok, attempts or w.attempts)
    ratio = ours["wall_s"] / ref["wall_s"] if ref["proved"] and ours["proved"] and ref["wall_s"] else None
    return {"workload": w.to_json(), "reference": ref, "ours": ours,
            "ratio_ours_over_reference": round(ratio, 3) if ratio is not None else None,
            "targets": {"ratio_max": 0.25, "overhead_pct_max": 2.0,
                        "prefill_per_continuation": "≈ feedback tokens"}}
