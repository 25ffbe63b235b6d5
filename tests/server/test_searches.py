"""The search registry (server/searches.py): requests join a running search for the same target, a search goes on
while any request waits for it and is cancelled when the last one is, and the count of running searches."""

from __future__ import annotations

import asyncio
from typing import Any

from lean_copilot_py.server.searches import SearchRegistry, result


async def test_registry_join_cancel_and_waiters() -> None:
    counts: list[int] = []
    reg = SearchRegistry(counts.append)
    gate = asyncio.Event()

    async def body(s: Any) -> dict[str, Any]:
        await gate.wait()
        return result("proved", s.id, "ok")

    search = reg.start("k", "foo", body)
    assert reg.find("k") is search and reg.count == 1
    w1 = asyncio.ensure_future(reg.wait(search, "req-1"))
    w2 = asyncio.ensure_future(reg.wait(search, "req-2"))
    await asyncio.sleep(0)
    assert reg.request_cancelled("req-1")  # one of two waiters gone: the search goes on
    await asyncio.sleep(0)
    assert not search.task.done()
    gate.set()
    assert (await w2)["status"] == "proved"
    await w1  # the cancelled request's handler still ends (pygls answers it with RequestCancelled)
    await asyncio.sleep(0)
    assert counts == [1, 0] and reg.count == 0

    gate2 = asyncio.Event()
    search = reg.start("k2", "bar", lambda s: _wait_then(gate2, s))
    waiter = asyncio.ensure_future(reg.wait(search, "only"))
    await asyncio.sleep(0)
    reg.request_cancelled("only")  # the last waiter gone: the search is cancelled
    assert (await waiter)["status"] == "cancelled"


async def _wait_then(gate: asyncio.Event, s: Any) -> dict[str, Any]:
    await gate.wait()
    return result("proved", s.id, "")
