"""LeanChecker under faults and load: timeouts, crashed workers, a dying server, cancellation, parallel
slots; plus goals_at and whole-document checks."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import psutil
import pytest
from leanclient.aio import AsyncLeanLSPClient

from lean_copilot_py.core.types import Candidate, Outcome, Pos
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.settings import LeanSettings
from lean_copilot_py.testing.lean_script import Rule, Script, proved, read_log, write_script
from tests.helpers import make_target

TEXT = "import Std\n\ntheorem t (n : Nat) : n + 0 = n := by\n  sorry\n"


def opens_and_closes(log_path: Path) -> tuple[int, int]:
    log = read_log(log_path)
    return (
        sum(e.get("method") == "textDocument/didOpen" for e in log),
        sum(e.get("method") == "textDocument/didClose" for e in log),
    )


async def test_hang_times_out_and_the_slot_recovers(make_checker, log_path):
    checker = await make_checker(Script(rules=[Rule(pattern=r"loop_forever", hang=True), proved(r"simp")]), slots=1)
    target = make_target(TEXT, "t")
    started = time.monotonic()
    v = await checker.check(target, Candidate("by\n  loop_forever"), timeout=1.0)
    assert v.outcome is Outcome.TIMEOUT
    assert time.monotonic() - started < 5.0
    v = await checker.check(target, Candidate("by\n  simp"))
    assert v.outcome is Outcome.PROVED, v.reason
    # the stuck worker was closed and the slot reopened, not reused while busy
    assert opens_and_closes(log_path) == (2, 1)


async def test_settings_timeout_applies_without_argument(make_checker):
    checker = await make_checker(Script(rules=[Rule(pattern=r"slow", delay_s=5.0)]), check_timeout_s=0.5)
    v = await checker.check(make_target(TEXT, "t"), Candidate("by\n  slow"))
    assert v.outcome is Outcome.TIMEOUT


async def test_worker_crash_is_crashed_and_the_next_check_works(make_checker):
    checker = await make_checker(Script(rules=[Rule(pattern=r"boom", crash=True), proved(r"simp")]), slots=1)
    target = make_target(TEXT, "t")
    v = await checker.check(target, Candidate("by\n  boom"))
    assert v.outcome is Outcome.CRASHED
    assert "crash" in v.reason
    v = await checker.check(target, Candidate("by\n  simp"))
    assert v.outcome is Outcome.PROVED, v.reason
    assert checker.restarts == 0  # only the worker died, the server lived on


async def test_server_death_is_crashed_and_the_server_restarts(make_checker):
    checker = await make_checker(Script(rules=[Rule(pattern=r"die", exit_server=True), proved(r"simp")]))
    target = make_target(TEXT, "t")
    v = await checker.check(target, Candidate("by\n  die"))
    assert v.outcome is Outcome.CRASHED
    assert "died" in v.reason
    v = await checker.check(target, Candidate("by\n  simp"))
    assert v.outcome is Outcome.PROVED, v.reason
    assert checker.restarts == 1


async def test_cancelled_check_leaves_the_pool_usable(make_checker):
    checker = await make_checker(Script(rules=[Rule(pattern=r"slow", delay_s=30.0), proved(r"simp")]), slots=1)
    target = make_target(TEXT, "t")
    task = asyncio.create_task(checker.check(target, Candidate("by\n  slow")))
    await asyncio.sleep(0.8)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the check should have been cancelled")
    v = await asyncio.wait_for(checker.check(target, Candidate("by\n  simp")), 10)
    assert v.outcome is Outcome.PROVED


async def test_checks_run_in_parallel_across_slots(make_checker):
    checker = await make_checker(Script(rules=[proved(r"simp", delay_s=0.5)]), slots=4)
    target = make_target(TEXT, "t")
    await checker.check(target, Candidate("by\n  simp"))  # start the server, open the slots
    verdicts = await asyncio.gather(*(checker.check(target, Candidate(f"by\n  simp {i}")) for i in range(4)))
    assert all(v.outcome is Outcome.PROVED for v in verdicts)
    (pool,) = checker.slots.pools.values()
    assert pool.peak_held == 4  # the four checks held four slots at the same time


async def test_one_slot_serialises_checks(make_checker, log_path, monkeypatch):
    # What the checker asked of Lean, in order: a text sent to a slot ("sent") and Lean's diagnostics for it
    # complete ("elaborated"). On one slot each check's text must be elaborated before the next text is sent.
    record: list[str] = []
    open_file, diagnostics = AsyncLeanLSPClient.open, AsyncLeanLSPClient.diagnostics

    async def recorded_open(self, path, text=None, *args, **kwargs):
        if text is not None and "simp --" in text:
            record.append("sent")
        return await open_file(self, path, text, *args, **kwargs)

    async def recorded_diagnostics(self, *args, **kwargs):
        report = await diagnostics(self, *args, **kwargs)
        if record and record[-1] == "sent":
            record.append("elaborated")
        return report

    monkeypatch.setattr(AsyncLeanLSPClient, "open", recorded_open)
    monkeypatch.setattr(AsyncLeanLSPClient, "diagnostics", recorded_diagnostics)
    checker = await make_checker(Script(rules=[proved(r"simp", delay_s=0.2)]), slots=1)
    target = make_target(TEXT, "t")
    await checker.check(target, Candidate("by\n  simp"))
    verdicts = await asyncio.gather(*(checker.check(target, Candidate(f"by\n  simp -- {i}")) for i in range(3)))
    assert all(v.proved for v in verdicts)
    assert record == ["sent", "elaborated"] * 3  # never a second text while Lean elaborated the first
    (pool,) = checker.slots.pools.values()
    assert pool.peak_held == 1 and pool.extra_opened == 0  # the pool's own books: one slot, held by one check
    # The fake Lean saw one document, and each new text only after the previous one's wait.
    sent = [e for e in read_log(log_path) if e.get("method") in ("textDocument/didOpen", "textDocument/didChange",
                                                                  "textDocument/waitForDiagnostics")]
    assert len({uri_of(e) for e in sent}) == 1
    kinds = [e["method"].rsplit("/", 1)[1] for e in sent]
    assert kinds == ["didOpen", "waitForDiagnostics"] + ["didChange", "waitForDiagnostics"] * 3


def uri_of(entry: dict) -> str:
    params = entry.get("params") or {}
    return params.get("uri") or params.get("textDocument", {}).get("uri", "")


def texts_sent(log_path: Path) -> list[str]:
    """The full texts the checker gave the slot documents, in order (didOpen and didChange)."""
    out = []
    for e in read_log(log_path):
        if e.get("method") == "textDocument/didOpen":
            out.append(e["params"]["textDocument"]["text"])
        elif e.get("method") == "textDocument/didChange":
            out.append(e["params"]["contentChanges"][-1]["text"])
    return out


async def wait_until(cond, what: str, limit: float = 10.0) -> None:
    """Poll a condition on the fake's log (it is written by another process: there is no event to wait on)."""
    deadline = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_cancelled_check_is_superseded_at_once_and_frees_its_slot(make_checker, log_path):
    checker = await make_checker(Script(rules=[Rule(pattern=r"loop_forever", hang=True), proved(r"simp")]), slots=1)
    target = make_target(TEXT, "t")
    task = asyncio.create_task(checker.check(target, Candidate("by\n  loop_forever")))
    await wait_until(lambda: any("loop_forever" in t for t in texts_sent(log_path)), "the hanging check sent")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The slot's document went back to the user's file before the declaration right away (Lean drops the
    # superseded elaboration and keeps the imports), and the next check got the slot without waiting.
    await wait_until(lambda: texts_sent(log_path)[-1] == target.prefix, "the supersede sent")
    assert (await checker.check(target, Candidate("by\n  simp"), timeout=5.0)).proved
    hang, warm, nxt = texts_sent(log_path)[-3:]
    assert "loop_forever" in hang and warm == target.prefix and "simp" in nxt
    assert opens_and_closes(log_path) == (1, 0)  # the worker was kept


async def test_a_timed_out_worker_is_replaced_and_rewarmed_at_once(make_checker, log_path):
    checker = await make_checker(Script(rules=[Rule(pattern=r"loop_forever", hang=True), proved(r"simp")]), slots=1)
    target = make_target(TEXT, "t")
    v = await checker.check(target, Candidate("by\n  loop_forever"), timeout=0.5)
    assert v.outcome is Outcome.TIMEOUT
    # Closed and reopened on the file's prefix before any next check asks: its imports load meanwhile.
    await wait_until(lambda: opens_and_closes(log_path) == (2, 1), "the worker replaced")
    assert texts_sent(log_path)[-1] == target.prefix and checker.slots.workers_replaced == 1
    assert (await checker.check(target, Candidate("by\n  simp"))).proved
    assert opens_and_closes(log_path) == (2, 1)


async def test_the_search_deadline_cuts_a_running_check(make_checker, log_path, tmp_path):
    from lean_copilot_py.core.events import SearchStatus
    from lean_copilot_py.core.search import Search, SearchConfig

    checker = await make_checker(Script(rules=[Rule(pattern=r"decide", hang=True), proved(r"simp")]), slots=1)
    target = make_target(TEXT, "t")
    cfg = SearchConfig(automation=("decide",), deadline_s=0.5, check_timeout_s=60.0, transcript_dir=None)
    result = await Search(target, checker, cfg).run()
    assert result.status is SearchStatus.TIMEOUT
    await wait_until(lambda: texts_sent(log_path)[-1] == target.prefix, "the supersede sent")
    # The 60 s check did not hold the slot: the next one is answered while it would still be running.
    assert (await checker.check(target, Candidate("by\n  simp"), timeout=5.0)).proved


async def test_an_abandoned_shared_check_frees_its_slot(make_checker, log_path):
    from lean_copilot_py.core.sharing import SharedChecks

    inner = await make_checker(Script(rules=[Rule(pattern=r"loop_forever", hang=True), proved(r"simp")]), slots=1)
    shared = SharedChecks(inner)
    target = make_target(TEXT, "t")
    waiters = [asyncio.create_task(shared.check(target, Candidate(f"by\n  loop_forever{c}"))) for c in ("", " -- x")]
    await wait_until(lambda: any("loop_forever" in t for t in texts_sent(log_path)), "the shared check sent")
    waiters[0].cancel()
    await asyncio.sleep(0.1)
    assert texts_sent(log_path)[-1] != target.prefix  # one waiter left: the check goes on
    waiters[1].cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await wait_until(lambda: texts_sent(log_path)[-1] == target.prefix, "the supersede sent")
    assert sum("loop_forever" in t for t in texts_sent(log_path)) == 1  # both waiters shared one Lean check
    assert shared.stats.abandoned == 1
    assert (await shared.check(target, Candidate("by\n  simp"), timeout=5.0)).proved


async def test_an_urgent_check_gets_an_extra_worker_behind_a_slow_one(make_checker, log_path):
    from lean_copilot_py.core.protocols import CheckPriority

    checker = await make_checker(Script(rules=[Rule(pattern=r"loop_forever", hang=True), proved(r"simp")]),
                                 slots=1, max_workers=2)
    checker.slots.long_running_s = 0.2
    target = make_target(TEXT, "t")
    slow = asyncio.create_task(checker.check(target, Candidate("by\n  loop_forever"), timeout=30.0))
    await wait_until(lambda: any("loop_forever" in t for t in texts_sent(log_path)), "the slow check sent")
    final = await checker.check(target, Candidate("by\n  simp"), timeout=10.0, priority=CheckPriority(final=True))
    assert final.proved and not slow.done()  # it did not queue behind the 30 s check
    assert len({uri_of(e) for e in read_log(log_path) if e.get("method") == "textDocument/didOpen"}) == 2
    await wait_until(lambda: opens_and_closes(log_path)[1] == 1, "the extra worker closed once idle")
    slow.cancel()
    await asyncio.gather(slow, return_exceptions=True)


async def test_header_is_elaborated_once_per_slot(make_checker, log_path):
    checker = await make_checker(Script(rules=[proved(r"simp")], header_delay_s=1.0), slots=1)
    target = make_target(TEXT, "t")
    await checker.check(target, Candidate("by\n  simp"))
    for i in range(3):
        assert (await checker.check(target, Candidate(f"by\n  simp {i}"))).proved
    opens, _ = opens_and_closes(log_path)
    assert opens == 1  # warm: one worker loaded the imports once (the fake pays them only on open)
    did_open = next(e for e in read_log(log_path) if e.get("method") == "textDocument/didOpen")
    assert did_open["params"]["dependencyBuildMode"] == "once"


async def test_script_edited_mid_run_is_picked_up(make_checker, script_path):
    checker = await make_checker(Script(rules=[proved(r"simp")]))
    target = make_target(TEXT, "t")
    assert (await checker.check(target, Candidate("by\n  simp"))).proved
    write_script(script_path, Script(rules=[Rule(pattern=r"simp", crash=True)]))
    assert (await checker.check(target, Candidate("by\n  simp -- again"))).outcome is Outcome.CRASHED


async def test_goals_at(make_checker):
    text = "import Std\n\ntheorem g (a b : Nat) (h : a = b) : b = a := by\n  skip\n  sorry\n"
    checker = await make_checker(Script(rules=[unsolved_rule()]))
    goals = await checker.goals_at(Path("Proj/G.lean"), text, Pos(4, 3))
    assert goals == ["a b : Nat\nh : a = b\n⊢ b = a"]
    assert await checker.goals_at(Path("Proj/G.lean"), text, Pos(0, 2)) is None  # not in a proof


@pytest.mark.parametrize("notified", [True, False], ids=["after-lean-said-so", "before-lean-said-so"])
async def test_goals_after_the_idle_worker_was_killed(make_checker, script_path, notified):
    """SIGUSR1 kills the fake's workers as the OS kills Lean's: an idle one shows only a fatal fileProgress and
    requests to it wait for a didChange (tests/lean/test_real_faults.py does this to the real Lean). Without
    noticing, goals_at waited the whole check_timeout_s and answered None."""
    text = "import Std\n\ntheorem g (a b : Nat) (h : a = b) : b = a := by\n  skip\n  sorry\n"
    checker = await make_checker(Script(rules=[unsolved_rule()]), slots=1, check_timeout_s=20)
    goal = ["a b : Nat\nh : a = b\n⊢ b = a"]
    assert await checker.goals_at(Path("Proj/G.lean"), text, Pos(4, 3)) == goal
    (fake,) = [p for p in psutil.Process().children(recursive=True) if str(script_path) in p.cmdline()]
    for _ in range(2):
        fake.send_signal(signal.SIGUSR1)
        if notified:
            await asyncio.sleep(0.3)
        assert await checker.goals_at(Path("Proj/G.lean"), text, Pos(4, 3)) == goal


def unsolved_rule() -> Rule:
    return Rule(pattern=r"skip", unsolved=True)


async def test_check_document(make_checker):
    checker = await make_checker(Script(rules=[proved(r"simp"), Rule(pattern=r"omega", diagnostics=[])]))
    good = "import Std\n\ntheorem a : True := by\n  simp\n"
    assert (await checker.check_document(Path("A.lean"), good)).outcome is Outcome.PROVED
    bad = good + "\ntheorem b : 1 = 2 := by\n  nope\n"
    v = await checker.check_document(Path("A.lean"), bad)
    assert v.outcome is Outcome.FAILED
    assert v.messages[0].span.start.line == 5  # the document's own coordinates
    sorry = good + "\ntheorem c : True := by\n  sorry\n"
    assert (await checker.check_document(Path("A.lean"), sorry)).outcome is Outcome.INCOMPLETE


async def test_unstartable_server_is_crashed_not_raised(project):
    settings = LeanSettings(server_command=["/nonexistent/lake-binary", "serve"], startup_timeout_s=5)
    checker = LeanChecker(project, settings)
    try:
        v = await checker.check(make_target(TEXT, "t"), Candidate("by\n  simp"))
        assert v.outcome is Outcome.CRASHED
        assert "could not start Lean" in v.reason
        assert await checker.goals_at(Path("x.lean"), TEXT, Pos(3, 2)) is None
    finally:
        await checker.aclose()


async def test_aclose_kills_the_server(make_checker):
    checker = await make_checker(Script(rules=[proved(r"simp")]))
    assert (await checker.check(make_target(TEXT, "t"), Candidate("by\n  simp"))).proved
    client = checker._client
    assert client is not None and client.alive
    await checker.aclose()
    assert not client.alive


async def test_waiting_for_a_slot_does_not_count_against_the_timeout(make_checker):
    checker = await make_checker(Script(rules=[proved(r"slow", delay_s=1.0), proved(r"quick")]), slots=1)
    target = make_target(TEXT, "t")
    await checker.check(target, Candidate("by\n  quick"))
    slow = asyncio.create_task(checker.check(target, Candidate("by\n  slow"), timeout=5.0))
    await asyncio.sleep(0.1)
    quick = await checker.check(target, Candidate("by\n  quick -- queued"), timeout=0.8)
    assert quick.outcome is Outcome.PROVED, quick.reason
    assert (await slow).outcome is Outcome.PROVED
