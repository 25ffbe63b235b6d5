"""The checker when the real prelude Lean 4.35 misbehaves: a slow check times out and the next one works, a
file worker SIGKILLed mid-check is CRASHED and the slot recovers, a worker that dies while idle is noticed
(Lean only says so with a fatal fileProgress and queues later requests unanswered), and a SIGKILLed server is
restarted with no process left behind."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from lean_copilot_py.core.types import Candidate, Outcome, Pos
from tests.helpers import make_target
from tests.real_lean import lean_processes, prelude_file, slow_statement, worker_for

from .conftest import MakeRealChecker

pytestmark = pytest.mark.real_lean

SHADOW = "LeanCopilotShadow_"
ADD_ZERO = "theorem add_zero' (a : N) : Eq (N.add a N.z) a := sorry"
SLOW = f"theorem slow : {slow_statement(20)} := sorry"  # ~30 s of reduction: never finishes in these tests
TEXT = prelude_file(ADD_ZERO, SLOW)


async def busy_worker() -> psutil.Process:
    """The shadow slot's worker, once it is computing (some CPU time spent)."""
    for _ in range(400):
        workers = [p for p in lean_processes("--worker") if SHADOW in p.cmdline()[-1]]
        if len(workers) == 1 and workers[0].cpu_times().user > 0.3:
            return workers[0]
        await asyncio.sleep(0.025)
    raise AssertionError(f"no busy shadow worker: {[p.cmdline() for p in lean_processes('--worker')]}")


async def gone(procs: list[psutil.Process], within: float = 10.0) -> bool:
    for _ in range(int(within / 0.05)):
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in procs):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_timeout_then_the_next_check_works(make_real_checker: MakeRealChecker) -> None:
    checker = make_real_checker(slots=1, check_timeout_s=1.0)
    slow = await checker.check(make_target(TEXT, "slow"), Candidate("Eq.refl"))
    assert slow.outcome is Outcome.TIMEOUT
    assert "within 1 s" in slow.reason
    (stuck,) = [p for p in lean_processes("--worker") if SHADOW in p.cmdline()[-1]]
    proved = await checker.check(make_target(TEXT, "add_zero'"), Candidate("Eq.refl"))
    assert proved.outcome is Outcome.PROVED, proved.reason
    assert await gone([stuck])  # the stuck worker was closed, not left computing beside the new one


async def test_worker_killed_mid_check_is_crashed_then_recovers(make_real_checker: MakeRealChecker) -> None:
    checker = make_real_checker(slots=1, check_timeout_s=60.0)
    task = asyncio.create_task(checker.check(make_target(TEXT, "slow"), Candidate("Eq.refl")))
    (await busy_worker()).kill()
    crashed = await asyncio.wait_for(task, 30)
    assert crashed.outcome is Outcome.CRASHED
    assert "crashed" in crashed.reason
    proved = await checker.check(make_target(TEXT, "add_zero'"), Candidate("Eq.refl"))
    assert proved.outcome is Outcome.PROVED, proved.reason
    assert checker.restarts == 0  # only the worker died; the server lived on


async def test_server_killed_is_restarted_and_leaves_no_process(make_real_checker: MakeRealChecker) -> None:
    checker = make_real_checker(slots=1, check_timeout_s=60.0)
    task = asyncio.create_task(checker.check(make_target(TEXT, "slow"), Candidate("Eq.refl")))
    worker = await busy_worker()
    (server,) = lean_processes("--server")
    server.kill()
    died = await asyncio.wait_for(task, 30)
    assert died.outcome is Outcome.CRASHED
    assert "server died" in died.reason
    proved = await checker.check(make_target(TEXT, "add_zero'"), Candidate("Eq.refl"))
    assert proved.outcome is Outcome.PROVED, proved.reason
    assert checker.restarts == 1
    assert await gone([server, worker])  # no orphaned worker of the old server still computing
    (new_server,) = lean_processes("--server")
    assert new_server.pid != server.pid


def eq_refl_pos(text: str, name: str) -> Pos:
    line = next(i for i, ln in enumerate(text.split("\n")) if ln.startswith(f"theorem {name} "))
    return Pos(line, text.split("\n")[line].index("Eq.refl"))


@pytest.mark.parametrize("notified", [True, False], ids=["after-lean-said-so", "before-lean-said-so"])
async def test_goals_after_the_idle_worker_died(make_real_checker: MakeRealChecker, notified: bool) -> None:
    """Killed while idle, Lean's worker shows only a fatal fileProgress; a goal request to the unchanged text
    would queue unanswered until a didChange, so without noticing it this waited the whole check_timeout_s
    and answered nothing, every time."""
    checker = make_real_checker(slots=1, check_timeout_s=60.0)
    text = prelude_file(ADD_ZERO.replace("sorry", "Eq.refl"))
    path, pos = make_target(text, "add_zero'").path, eq_refl_pos(text, "add_zero'")
    goal = ["a : N\n⊢ Eq (a.add N.z) a"]
    assert await checker.goals_at(path, text, pos) == goal
    for _ in range(3):
        worker = worker_for(SHADOW)
        worker.kill()
        if notified:
            worker.wait(5)
            await asyncio.sleep(0.3)  # Lean's `$/lean/fileProgress` kind 2 has arrived
        assert await checker.goals_at(path, text, pos) == goal
        assert worker_for(SHADOW).pid != worker.pid


@pytest.mark.parametrize("notified", [True, False], ids=["after-lean-said-so", "before-lean-said-so"])
async def test_check_after_the_idle_worker_died(make_real_checker: MakeRealChecker, notified: bool) -> None:
    """Checked right after the death, before the watchdog noticed, a candidate's didChange gets -32902 (the
    dead worker never saw it): that was CRASHED, every time, however good the proof. The worker had not
    reported on the candidate's version, so it is not the candidate's crash: a new worker checks it."""
    checker = make_real_checker(slots=1, check_timeout_s=60.0)
    target = make_target(TEXT, "add_zero'")
    assert (await checker.check(target, Candidate("Eq.refl"))).outcome is Outcome.PROVED
    for i in range(3):
        worker = worker_for(SHADOW)
        worker.kill()
        if notified:
            worker.wait(5)
            await asyncio.sleep(0.3)
        again = await checker.check(target, Candidate(f"(fun (x{i} : N) => Eq.refl) N.z"))
        assert again.outcome is Outcome.PROVED, again.reason
        assert worker_for(SHADOW).pid != worker.pid  # the slot has a live worker again
    worker = worker_for(SHADOW)
    worker.kill()
    worker.wait(5)
    await asyncio.sleep(0.3)
    same = await checker.check(target, Candidate("(fun (x2 : N) => Eq.refl) N.z"))  # the same text: no didChange
    assert same.outcome is Outcome.PROVED, same.reason
    assert worker_for(SHADOW).pid != worker.pid
    assert checker.restarts == 0
