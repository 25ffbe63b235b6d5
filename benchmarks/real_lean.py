"""The checker on the real prelude Lean 4.35 (tests/real_lean.py): warm check latency with and without
`-Dserver.reportDelayMs=0`, and how long a check takes after the slot's worker was killed while idle.

Run: python3 benchmarks/real_lean.py [--checks 40] [--json out.json]
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

import psutil
from leanclient.aio import AsyncLeanLSPClient

from lean_copilot_py.bench.machine import machine_info
from lean_copilot_py.core.types import Candidate, Outcome, Pos, Span, Target, TargetKind, offset_to_pos
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.settings import LeanSettings
from tests.real_lean import build_real_lean, make_prelude_project, prelude_file

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


async def warm_latency(root: Path, command: list[str], checks: int) -> dict[str, Any]:
    def factory(project: Path, settings: LeanSettings) -> AsyncLeanLSPClient:
        return AsyncLeanLSPClient(str(project), request_timeout=60, server_command=command)

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


def worker_of(checker: LeanChecker) -> psutil.Process:
    """The one file worker (`lean --worker …`) under the checker's server."""
    client = checker._client
    assert client is not None
    server = psutil.Process(client._transport._proc.pid)  # the watchdog
    (worker,) = [p for p in server.children(recursive=True) if "--worker" in p.cmdline()]
    return worker


async def idle_worker_recovery(root: Path, command: list[str], rounds: int) -> dict[str, Any]:
    checker = LeanChecker(root, LeanSettings(server_command=command, slots=1, check_timeout_s=30))
    text_path = root / "Prelude" / "Target.lean"
    line = TEXT.split("\n").index("theorem target (a : N) : Eq (N.add a N.z) a := sorry")
    pos = Pos(line, TEXT.split("\n")[line].index("sorry"))
    times = []
    try:
        assert await checker.goals_at(text_path, TEXT, pos)
        for _ in range(rounds):
            worker_of(checker).kill()
            started = time.perf_counter()
            goals = await checker.goals_at(text_path, TEXT, pos)
            times.append(time.perf_counter() - started)
            assert goals == ["a : N\n⊢ Eq (a.add N.z) a"], goals
    finally:
        await checker.aclose()
    return {"rounds": rounds, "median_ms": round(statistics.median(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1)}


async def amain(checks: int) -> dict[str, Any]:
    lean = build_real_lean()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_prelude_project(Path(tmp) / "proj")
        plain = [str(lean.lean), "--server"]
        from lean_copilot_py.lean.command import with_report_delay

        return {
            "machine": machine_info(),
            "lean": lean.version,
            "warm_check_without_flag": await warm_latency(root, plain, checks),
            "warm_check_with_flag": await warm_latency(root, with_report_delay(plain), checks),
            "goals_after_idle_worker_killed": await idle_worker_recovery(root, plain, 10),
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
