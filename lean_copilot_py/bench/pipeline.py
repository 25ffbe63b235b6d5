"""Part 1: our search pipeline vs StepFun-Prover's reference loop, workload by workload, side by side in one run.

Per workload, one after the other: the reference loop, ours with 1 attempt, ours with N attempts (the
workload's count; 8 = the default). Each run gets a fresh fake model server (per-token latency = the simulated
GPU) and the same fake Lean script (check times, the import header, what never finishes). Reported per run:
time to the first verified proof, Lean and model time, the time the simulated GPU sat idle while Lean worked,
our own overhead on the critical path, checks Lean saw twice (same environment, same document in normal form:
must be 0 for ours), and prefill tokens per turn from the server's request log.

Ours is measured exactly as the Engine runs it — core/sharing.py in front of the LeanChecker — with a timer on
each side of the sharing layer: below it, what Lean was asked ("lean"); above it, what each caller waited
("wait", the winner's waits are its critical path).
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
from ..lean.pool import LONG_RUNNING_S
from ..settings import LeanSettings, ModelSettings, PathsSettings, SearchSettings, Settings
from ..testing.char_tokenizer import CharTokenizer
from ..testing.lean_script import fake_lean_command
from .fakes import FakeModelServer, make_project
from .prefill import prefill_rows, summarize
from .reference import run_reference
from .timing import Interval, Recorder, TimedChecker, TimedGenerator, union
from .workload import Workload, model_script, write_lean_script

TARGETS = {"uniform": {"n_over_reference_max": 0.25},
           "heavy": {"n_over_reference_max": 0.25, "n_over_one_max": 1.0},
           "seed": {"n_over_one_max": 1.1},
           "overhead_pct_max": 2.0}


def _lean_settings(script: Path, w: Workload, slots: int, max_workers: int | None) -> LeanSettings:
    return LeanSettings(server_command=fake_lean_command(script), slots=slots, check_timeout_s=w.check_timeout_s,
                        startup_timeout_s=60.0, max_workers=max_workers, share_checks=False)


def duplicates(intervals: list[Interval]) -> int:
    """Checks whose document (environment epoch + normal-form key) Lean had already been sent."""
    docs = [i.doc for i in intervals if i.doc]
    return len(docs) - len(set(docs))


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
        "lean_check_s": round(sum(i.seconds for i in rec.of("lean")), 3),
        "lean_checks": len(rec.of("lean")),
        "lean_checks_cancelled": sum(1 for i in rec.of("lean") if i.outcome == "cancelled"),
        "duplicate_checks": duplicates(rec.of("lean")),
        "lean_timeouts": sum(1 for i in rec.of("lean") if i.outcome == "timeout"),
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
        res = await run_reference(target=target, formal_problem=w.formal_problem, generator=gen,
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
    from ..core.sharing import SharedChecks
    from ..engine.engine import Engine
    from ..lean.checker import LeanChecker
    from ..models.openai_backend import OpenAIGenerator

    rec = Recorder()
    made: list[tuple[LeanChecker, SharedChecks]] = []

    def checker_factory(root: Path) -> TimedChecker:
        # The stack Engine.checker_for builds with lean.share_checks on, with a timer on both sides.
        lean_checker = LeanChecker(root, lean)
        lean_checker.slots.long_running_s = LONG_RUNNING_S * w.time_scale  # "slow" scales with the workload's time
        shared = SharedChecks(TimedChecker(lean_checker, rec), default_timeout=lean.check_timeout_s)
        made.append((lean_checker, shared))
        return TimedChecker(shared, rec, kind="wait")

    async with FakeModelServer(model_script(w), work) as srv:
        settings = Settings(
            model=ModelSettings(endpoint=srv.url, name="fake-stepfun", family="stepfun"),
            search=SearchSettings(attempts=attempts, automation=[], cache=False, deadline_s=600.0),
            lean=lean,
            paths=PathsSettings(cache_dir=work / "cache", transcript_dir=work / "transcripts"),
        )
        gen = TimedGenerator(OpenAIGenerator(srv.url, "fake-stepfun", tok), rec)
        engine = Engine(settings, checker_factory=checker_factory, generator=gen)
        try:
            t0 = time.monotonic()
            result = await engine.search(target)
            t1 = time.monotonic()
            pools = [p for lc, _ in made for p in lc.slots.pools.values()]
            extra = sum(p.extra_opened for p in pools)
        finally:
            await engine.aclose()
        records = await srv.requests()
    proved = result.proof is not None and result.status.value == "proved"
    origin = result.proof.origin if result.proof is not None else ""
    m = re.match(r"model:attempt-(\d+):", origin)
    winner = int(m.group(1)) if m else 0
    # The winner's critical path: the goal read, its own generations and the checks it waited for (slot waits
    # and shared checks included), the final verification.
    critical = [i for i in rec.intervals if i.kind == "goal"
                or (i.kind == "model" and i.key.endswith(f"-{winner}"))
                or (i.kind == "wait" and i.key.startswith(f"model:attempt-{winner}:"))]
    turns = sum(1 for i in critical if i.kind == "model")
    first_model = min((i.start for i in rec.of("model")), default=t1)
    stats = [s.stats for _, s in made]
    out = {"proved": proved, "status": result.status.value, "reason": result.reason, "proof_origin": origin,
           "winning_attempt": winner, "attempts": attempts, "slots": lean.slots,
           "sketches_checked": result.stats.sketches_checked,
           "checks_asked": len(rec.of("wait")),
           "shared": {"sent_to_lean": sum(s.sent for s in stats), "joined_running": sum(s.joined for s in stats),
                      "memo_hits": sum(s.memo_hits for s in stats), "abandoned": sum(s.abandoned for s in stats)},
           "extra_slots_opened": extra,
           "workers_replaced_after_timeout": sum(lc.slots.workers_replaced for lc, _ in made),
           # Engine.search reads the goal from Lean before any attempt starts: that wait is before the model.
           "goal_read_s": round(sum(i.seconds for i in rec.of("goal")), 3),
           "first_model_request_after_s": round(first_model - t0, 3)}
    out |= _timeline(rec, t0, t1, critical, turns)
    out["prefill"] = summarize(prefill_rows(records, tok))
    return out


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if a["proved"] and b["proved"] and b["wall_s"]:
        return round(a["wall_s"] / b["wall_s"], 3)
    return None


async def run_workload(w: Workload, *, slots: int = 4, max_workers: int | None = None,
                       attempts: int | None = None, extra_workers: int | None = None) -> dict[str, Any]:
    """``max_workers`` None is the product's default (leanclient's, by memory: on a 24 GB machine it is below
    the 4 slots, so no extra slot opens); ``extra_workers`` adds a run of ours-N with that many allowed."""
    tok = CharTokenizer()
    with tempfile.TemporaryDirectory(prefix="lean-copilot-bench-") as tmp:
        work = Path(tmp)
        path = make_project(work / "proj", w.lean_file)
        target = find_targets(path, w.lean_file)[0]
        script = write_lean_script(w, work / "lean-script.json")
        lean = _lean_settings(script, w, slots, max_workers)
        ref = await _run_reference(w, work, target, path.parent, lean, tok)
        one = await _run_ours(w, work, target, lean, tok, 1)
        many = await _run_ours(w, work, target, lean, tok, attempts or w.attempts)
        extra = None
        if extra_workers:
            extra = await _run_ours(w, work, target, _lean_settings(script, w, slots, extra_workers), tok,
                                    attempts or w.attempts)
            extra["max_workers"] = extra_workers
    out = {"workload": w.to_json(), "reference": ref, "ours_1": one, "ours_n": many,
           "ratios": {"n_over_reference": _ratio(many, ref), "one_over_reference": _ratio(one, ref),
                      "n_over_one": _ratio(many, one)}}
    if extra is not None:
        out["ours_n_extra"] = extra
        out["ratios"]["n_extra_over_one"] = _ratio(extra, one)
        out["ratios"]["n_extra_over_reference"] = _ratio(extra, ref)
    return out


async def run_pipeline(workloads: list[Workload], *, extra_workers: int | None = None, **kw: Any) -> dict[str, Any]:
    # Import the heavy layers (leanclient, openai) before any clock starts: no loop should pay it.
    from ..engine.engine import Engine  # noqa: F401
    from ..lean.checker import LeanChecker  # noqa: F401
    from ..models.openai_backend import OpenAIGenerator  # noqa: F401

    runs = []
    for w in workloads:
        # The extra-slot variant where slow checks are the point: the heavy-tailed workloads.
        extra = extra_workers if w.name.startswith("heavy") else None
        runs.append(await run_workload(w, extra_workers=extra, **kw))
    return {"workloads": runs, "groups": groups(runs), "targets": TARGETS}


def groups(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the draws of one workload family (``heavy-tailed-1``, ``-2``, ...): the figure the targets
    are held to when a workload is a distribution."""
    out: dict[str, Any] = {}
    for family in sorted({r["workload"]["name"].rsplit("-", 1)[0] for r in runs
                          if r["workload"]["name"].rsplit("-", 1)[-1].isdigit()}):
        members = [r for r in runs if r["workload"]["name"].rsplit("-", 1)[0] == family]
        keys = ["reference", "ours_1", "ours_n"] + (["ours_n_extra"] if all("ours_n_extra" in r for r in members)
                                                     else [])
        if not all(r[k]["proved"] for r in members for k in keys):
            continue
        total = {k: round(sum(r[k]["wall_s"] for r in members), 3) for k in keys}
        ratios = {"n_over_reference": round(total["ours_n"] / total["reference"], 3),
                  "n_over_one": round(total["ours_n"] / total["ours_1"], 3)}
        if "ours_n_extra" in total:
            ratios["n_extra_over_reference"] = round(total["ours_n_extra"] / total["reference"], 3)
            ratios["n_extra_over_one"] = round(total["ours_n_extra"] / total["ours_1"], 3)
        out[family] = {"draws": len(members), "total_s": total, "ratios": ratios,
                       "duplicate_checks_ours": sum(r[k]["duplicate_checks"] for r in members for k in keys[1:])}
    return out
