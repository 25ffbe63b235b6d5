"""Noticing dead Lean workers (lean/liveness.py) on stand-ins for leanclient's document state; the real
Lean's deaths are in test_real_faults.py, the fake's (SIGUSR1) in test_checker_faults.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from leanclient.aio import LeanWorkerCrashed

from lean_copilot_py.lean.liveness import (
    MAX_RESTARTS,
    ignore_stale_fatal_reports,
    reported_on,
    watching_worker,
    worker_died,
)


async def test_a_request_to_a_worker_reported_dead_restarts_it_and_gets_its_answer() -> None:
    """Lean queues a request to a dead worker until a didChange: the checker sends one (same text) as soon as
    Lean's fatal fileProgress is recorded, and the queued request is then answered."""
    doc = SimpleNamespace(fatal_error=False, text="T", uri="file:///S_0.lean")
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    updates: list[str] = []

    class Client:
        async def update(self, path: str, text: str) -> None:
            updates.append(text)
            doc.fatal_error = False  # what leanclient's update does
            answer.set_result("goals")  # the restarted worker answers the queued request

    async def queued() -> str:
        return await answer

    task = asyncio.create_task(watching_worker(Client(), "S_0.lean", doc, queued(), restart=True))
    await asyncio.sleep(0.12)
    assert not task.done() and updates == []  # a live worker is left alone
    doc.fatal_error = True  # $/lean/fileProgress kind 2
    assert await asyncio.wait_for(task, 2) == "goals"
    assert updates == ["T"]

    class DeadClient:
        async def update(self, path: str, text: str) -> None:
            updates.append(text)  # the restarted worker dies at once, again and again

    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    updates.clear()
    doc.fatal_error = True

    async def dies() -> str:
        return await never

    with pytest.raises(LeanWorkerCrashed):
        await asyncio.wait_for(watching_worker(DeadClient(), "S_0.lean", doc, dies(), restart=True), 5)
    assert len(updates) == MAX_RESTARTS
    await asyncio.sleep(0)
    assert never.cancelled()  # the abandoned request was cancelled, not left waiting

    # a check does not restart the worker: its candidate may be what crashed Lean
    updates.clear()
    pending: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def check() -> str:
        return await pending

    with pytest.raises(LeanWorkerCrashed):
        await asyncio.wait_for(watching_worker(Client(), "S_0.lean", doc, check(), restart=False), 5)
    assert updates == []


def test_a_fatal_report_about_an_older_version_does_not_mark_the_worker_dead() -> None:
    """Lean may report an idle worker's death after our didChange of a newer version reached the watchdog,
    which gave that version to a new worker: the report is about the old one."""

    class Doc:  # leanclient's DocState, as far as the intake goes
        version = 3
        fatal_error = False
        diagnostics_version: int | None = None

        def on_file_progress(self, params: dict) -> None:
            if any(p.get("kind") == 2 for p in params.get("processing", [])):
                self.fatal_error = True

    doc = Doc()
    ignore_stale_fatal_reports(doc)
    ignore_stale_fatal_reports(doc)  # once is enough: the intake is not wrapped twice
    fatal = {"kind": 2, "range": {}}
    doc.on_file_progress({"textDocument": {"version": 2}, "processing": [fatal]})
    assert not worker_died(doc)
    doc.on_file_progress({"textDocument": {"version": 3}, "processing": [fatal]})
    assert worker_died(doc)
    assert not reported_on(doc, 3)
    doc.diagnostics_version = 3
    assert reported_on(doc, 3) and not reported_on(doc, 4)
