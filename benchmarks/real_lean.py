"""The checker on the real prelude Lean 4.35 (tests/real_lean.py): warm check latency with and without
`-Dserver.reportDelayMs=0`, and how long a check takes after the slot's worker was killed while idle.

Run: python3 benchmarks/real_lean.py [--checks 40] [--json out.json]

"without flag" is what a configured `lean.server_command` got before lean/command.py added the flag to Lean's
own server commands (the client is built directly here, so no flag is added).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leanclient.aio import AsyncLeanLSPClient

from lean_copilot_py.bench.machine import machine_info
from lean_copilot_py.core.types import Candidate, Outcome, Pos, Span, Target, TargetKind, offset_to_pos
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.lean.command import with_report_delay
from lean_copilot_py.settings import LeanSettings
from tests.real_lean import build_real_lean, make_prelude_project, prelude_file, worker_for

TEXT = prelude_file("theorem target (a : N) : Eq (N.add a N.z) a := sorry")


def target(path: Path) -> Target:
    start = TEXT.index("theorem target")
    assign = TEXT.index(":=", start) + 2
    end = len(TEXT.rstrip("\n"))
    return Target(
        path=path, text=TEXT, kind=TargetKind.DECLARATION, decl_name="target", full_name="target",
        decl_span=Span(offset_to_pos(TEXT, start), offset_to_pos(TEXT, end)), header=TEXT[start:assign],
        proof_span=Span(offset_to_pos(TEXT, assign), offset_to_pos(TEXT, end)), indent=0,
    )


def candidate(i: int) -> Candidate:
    # A different text each time, so every check elaborates (the same text would be answered from the slot).
    return Candidate(f"(fun (x{i} : N) => Eq.refl) N.z")


async def warm_latency(root: Path, command: list[str], checks: int, *, as_configured: bool = False) -> dict[str, Any]:
    """``as_configured``: ``command`` is `lean.server_command` and the checker builds the client (and the
    command line) itself; otherwise the client runs exactly ``command``."""

    def factory(project: Path, settings: LeanSettings) -> AsyncLeanLSPClient:
        return AsyncLeanLSPClient(str(project), request_timeout=60, server_command=command)

    if as_configured:
        checker = LeanChecker(root, LeanSettings(slots=1, server_command=command))
    else:
        checker = LeanChecker(root, LeanSettings(slots=1), client_factory=factory)
    tgt = target(root / "Prelude" / "Target.lean")
    try:
        for i in range(3):  # warm: the worker is up, the prelude elaborated once
            assert (await checker.check(tgt, candidate(1000 + i))).outcome is Outcome.PROVED
        times = []
        for i in range(checks):
            started = time.perf_counter()
            verdict = await checker.check(tgt, candidate(i))
            times.append(time.perf_counter() - started)
            assert verdict.outcome is Outcome.PROVED, verdict.reason
    finally:
        await checker.aclose()
    return {"command": command, "checks": checks, "median_ms": round(statistics.median(times) * 1000, 1),
            "p90_ms": round(sorted(times)[int(0.9 * len(times))] * 1000, 1)}


async def idle_worker_recovery(root: Path, command: list[str], rounds: int, *, notified: bool) -> dict[str, Any]:
    """goals_at on unchanged text right after the slot's idle worker was SIGKILLed (``notified``: after Lean's
    fatal fileProgress has arrived; otherwise at once, before it)."""
    checker = LeanChecker(root, LeanSettings(server_command=command, slots=1, check_timeout_s=30))
    text = TEXT.replace(":= sorry", ":= Eq.refl")
    line = text.split("\n").index("theorem target (a : N) : Eq (N.add a N.z) a := Eq.refl")
    pos = Pos(line, text.split("\n")[line].index("Eq.refl"))
    path = root / "Prelude" / "Target.lean"
    times = []
    try:
        assert await checker.goals_at(path, text, pos)
        for _ in range(rounds):
            worker = worker_for("LeanCopilotShadow_")
            worker.kill()
            if notified:
                worker.wait(5)
                await asyncio.sleep(0.3)
            started = time.perf_counter()
            goals = await checker.goals_at(path, text, pos)
            times.append(time.perf_counter() - started)
            assert goals == ["a : N\n⊢ Eq (a.add N.z) a"], goals
    finally:
        await checker.aclose()
    return {"rounds": rounds, "median_ms": round(statistics.median(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1)}


async def check_after_idle_worker_killed(root: Path, command: list[str], rounds: int) -> dict[str, Any]:
    """A new candidate checked right after the slot's idle worker was SIGKILLed (before the watchdog noticed:
    its didChange is answered -32902, and the checker asks a new worker)."""
    checker = LeanChecker(root, LeanSettings(server_command=command, slots=1, check_timeout_s=30))
    tgt = target(root / "Prelude" / "Target.lean")
    times, outcomes = [], []
    try:
        assert (await checker.check(tgt, candidate(2000))).outcome is Outcome.PROVED
        for i in range(rounds):
            worker_for("LeanCopilotShadow_").kill()
            started = time.perf_counter()
            verdict = await checker.check(tgt, candidate(3000 + i))
            times.append(time.perf_counter() - started)
            outcomes.append(verdict.outcome.value)
    finally:
        await checker.aclose()
    return {"rounds": rounds, "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
            "median_ms": round(statistics.median(times) * 1000, 1), "max_ms": round(max(times) * 1000, 1)}


async def amain(checks: int) -> dict[str, Any]:
    lean = build_real_lean()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_prelude_project(Path(tmp) / "proj")
        plain = [str(lean.lean), "--server"]  # the checker adds the flag itself (lean/command.py)
        return {
            "machine": machine_info(),
            "lean": lean.version,
            "warm_check_without_flag": await warm_latency(root, plain, checks),
            "warm_check_with_flag": await warm_latency(root, with_report_delay(plain), checks),
            "warm_check_configured_lean_server": await warm_latency(root, plain, checks, as_configured=True),
            "goals_after_idle_worker_killed_lean_said_so": await idle_worker_recovery(root, plain, 10, notified=True),
            "goals_right_after_idle_worker_killed": await idle_worker_recovery(root, plain, 10, notified=False),
            "check_right_after_idle_worker_killed": await check_after_idle_worker_killed(root, plain, 20),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--checks", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = asyncio.run(amain(args.checks))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
