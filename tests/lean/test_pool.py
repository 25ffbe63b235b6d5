"""lean/pool.py: which slot a check gets (the longest shared prefix), who gets a slot that frees up, cancelled
waiters, and when an urgent check gets an extra one. A fake clock, no Lean, no wall-clock assertions."""

from __future__ import annotations

import asyncio

from lean_copilot_py.core.protocols import CheckPriority
from lean_copilot_py.lean.pool import ShadowPool, Slot, common_prefix


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def queue(pool: ShadowPool, *prios: CheckPriority) -> list[asyncio.Task[Slot]]:
    return [asyncio.create_task(pool.acquire(f"text {i}", p)) for i, p in enumerate(prios)]


async def order_of_grants(pool: ShadowPool, held: Slot, tasks: list[asyncio.Task[Slot]]) -> list[int]:
    """Release one slot at a time and note which queued task got it."""
    got: list[int] = []
    slot = held
    for _ in tasks:
        pool.release(slot)
        await settle()
        winner = next(i for i, t in enumerate(tasks) if t.done() and i not in got)
        got.append(winner)
        slot = tasks[winner].result()
    return got


async def test_common_prefix() -> None:
    assert common_prefix("abcdef", "abcxyz") == 3
    assert common_prefix("", "abc") == 0
    assert common_prefix("same", "same") == 4


async def test_final_answers_then_later_turns_then_arrival_order() -> None:
    pool = ShadowPool("s", 1)
    held = await pool.acquire("x")
    tasks = queue(pool, CheckPriority(turn=0, owner="a"), CheckPriority(turn=2, owner="b"),
                  CheckPriority(turn=0, owner="c"), CheckPriority(final=True, owner="d"),
                  CheckPriority(turn=1, owner="e"))
    await settle()
    assert pool.waiting == 5
    assert await order_of_grants(pool, held, tasks) == [3, 1, 4, 0, 2]


async def test_an_owner_with_checks_running_yields_to_one_with_none() -> None:
    pool = ShadowPool("s", 2)
    busy = await pool.acquire("x", CheckPriority(owner="greedy"))
    other = await pool.acquire("y", CheckPriority(owner="greedy"))
    tasks = queue(pool, CheckPriority(owner="greedy"), CheckPriority(owner="greedy"), CheckPriority(owner="modest"))
    await settle()
    pool.release(other)
    await settle()
    assert tasks[2].done() and not tasks[0].done()  # arrived last, but its owner held nothing
    pool.release(busy)
    await settle()
    assert tasks[0].done() and not tasks[1].done()  # then the greedy owner's queue, in its own order


async def test_a_priority_raised_while_queued_counts() -> None:
    pool = ShadowPool("s", 1)
    held = await pool.acquire("x")
    raised = CheckPriority(owner="a")
    tasks = queue(pool, CheckPriority(turn=1, owner="b"), raised)
    await settle()
    raised.final = True  # what core/sharing.py does when an urgent waiter joins a queued shared check
    pool.release(held)
    await settle()
    assert tasks[1].done() and not tasks[0].done()


async def test_a_cancelled_waiter_is_skipped() -> None:
    pool = ShadowPool("s", 1)
    held = await pool.acquire("x")
    tasks = queue(pool, CheckPriority(final=True), CheckPriority())
    await settle()
    tasks[0].cancel()
    await settle()
    pool.release(held)
    await settle()
    assert tasks[1].done() and pool.waiting == 0


async def test_an_urgent_check_gets_an_extra_slot_behind_long_running_ones() -> None:
    clock, allowed = Clock(), [True]
    retired: list[Slot] = []
    pool = ShadowPool("s", 2, extra_allowed=lambda: allowed[0], on_retire=retired.append, long_running_s=5.0,
                      clock=clock)
    first = [await pool.acquire(f"t{i}", CheckPriority(turn=0, owner=f"a{i}")) for i in range(2)]
    sketch = queue(pool, CheckPriority(turn=0, owner="a3"))[0]
    later = queue(pool, CheckPriority(turn=1, owner="a4"))[0]
    await settle()
    assert not later.done()  # the running checks are young: one will probably free its slot soon
    clock.now += 6.0
    pool.release(first[0])  # any queue event re-decides; the timer would too
    await settle()
    assert later.done() and not later.result().extra  # the freed slot went to the later turn
    final = queue(pool, CheckPriority(final=True, owner="a5"))[0]
    await settle()
    assert not final.done()  # the later-turn check that just got a slot is young
    clock.now += 6.0
    pool._dispatch()
    await settle()
    assert final.done() and final.result().extra and pool.extra_opened == 1
    assert not sketch.done()  # a first-turn sketch outranks no running check: it waits
    pool.release(final.result())
    await settle()
    assert not retired  # someone was still waiting: the extra slot served them first
    assert sketch.done() and sketch.result().extra
    pool.release(sketch.result())
    assert retired and retired[0].extra and len(pool.slots) == 2  # released idle: closed


async def test_no_extra_slot_beyond_what_the_checker_allows() -> None:
    clock = Clock()
    pool = ShadowPool("s", 1, extra_allowed=lambda: False, long_running_s=5.0, clock=clock)
    await pool.acquire("t", CheckPriority(turn=0))
    final = queue(pool, CheckPriority(final=True))[0]
    clock.now += 10.0
    pool._dispatch()
    await settle()
    assert not final.done() and pool.extra_opened == 0


async def test_the_timer_wakes_the_queue_when_running_checks_turn_long() -> None:
    pool = ShadowPool("s", 1, extra_allowed=lambda: True, long_running_s=0.05)
    await pool.acquire("t", CheckPriority(turn=0))
    final = asyncio.create_task(pool.acquire("u", CheckPriority(final=True)))
    got = await asyncio.wait_for(final, 5.0)  # no release happens: only the pool's own timer can grant it
    assert got.extra


async def test_pool_prefers_slot_with_longest_shared_prefix():
    pool = ShadowPool("S", 2)
    a = await pool.acquire("x")
    b = await pool.acquire("y")
    a.text, b.text = "import A\ntheorem one", "import A\ntheorem two"
    pool.release(a)
    pool.release(b)
    again = await pool.acquire("import A\ntheorem two, edited")
    assert again is b


async def test_pool_waits_and_survives_cancelled_waiters():
    pool = ShadowPool("S", 1)
    slot = await pool.acquire("t")
    waiter = asyncio.create_task(pool.acquire("t"))
    cancelled = asyncio.create_task(pool.acquire("t"))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert not waiter.done()
    pool.release(slot)
    assert await asyncio.wait_for(waiter, 1) is slot
    assert pool.busy == 1
    pool.release(slot)
    assert pool.idle
