"""Noticing Lean file workers that died, from what leanclient records of Lean's reports.

Measured on Lean 4.35: a worker killed while it elaborates answers the pending requests -32902 and reports a
fatal `$/lean/fileProgress` (kind 2); one killed while idle shows only that report, and Lean queues later
requests to its document unanswered until a didChange starts a new worker. The report may also arrive after
our didChange of a newer version, which the watchdog already gave to a new worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from leanclient.aio import AsyncLeanLSPClient, LeanWorkerCrashed

log = logging.getLogger(__name__)

FATAL_POLL_S = 0.05  # how often a pending request looks whether Lean has reported its worker dead
MAX_RESTARTS = 2  # didChanges sent to restart a dead worker during one request, before it counts as crashed
T = TypeVar("T")


def worker_died(doc: Any) -> bool:
    """Lean reported the document's worker dead: `$/lean/fileProgress` kind 2 (fatal), which leanclient
    records as ``fatal_error``. A worker killed while idle shows nothing else, and Lean queues requests to it
    unanswered until a didChange, so its slot must be reopened, not reused."""
    return bool(getattr(doc, "fatal_error", False))


async def watching_worker(
    client: AsyncLeanLSPClient, path: str, doc: Any, request: Awaitable[T], *, restart: bool
) -> T:
    """``request``'s answer, unless Lean reports the document's worker dead meanwhile. Requests pending when a
    worker dies are answered -32902 (leanclient raises LeanWorkerCrashed), but one that reached the watchdog
    after the death is queued unanswered until a didChange: without watching, it would wait out the budget.

    ``restart=False`` (loading a check): LeanWorkerCrashed at once, and the caller decides whether the
    candidate's elaboration was what died. ``restart=True`` (a goal query on elaborated text): a same-text
    didChange starts a new worker, which answers the queued request for the same text; if the report was
    late and the worker alive, the same-text change costs nothing."""
    task = asyncio.ensure_future(request)
    restarts = 0
    try:
        while not task.done():
            if getattr(doc, "fatal_error", False):
                if not restart or restarts == MAX_RESTARTS:
                    raise LeanWorkerCrashed(f"Lean reported the file worker for {path} dead ({restarts} restarts)")
                restarts += 1
                log.info("Lean reported the worker for %s dead; restarting it", path)
                await client.update(path, doc.text)  # clears fatal_error
            await asyncio.wait({task}, timeout=FATAL_POLL_S)
        return task.result()
    finally:
        if not task.done():
            task.cancel()  # leanclient abandons the request ($/cancelRequest)
            task.add_done_callback(_retrieve)


def ignore_stale_fatal_reports(doc: Any) -> None:
    """leanclient keeps Lean's fatal fileProgress as a flag, whatever version it was about. A worker that died
    while idle is often reported only after our didChange of a newer version reached the watchdog, which
    then starts a new worker for it: that report (for the older version) must not mark the live worker
    dead. So the document's progress intake drops the flag again for a report older than what we sent."""
    intake = getattr(doc, "on_file_progress", None)
    if not callable(intake) or getattr(intake, "_lean_copilot", False):
        return

    def on_file_progress(params: dict) -> None:
        intake(params)
        version = (params.get("textDocument") or {}).get("version")
        if isinstance(version, int) and version < getattr(doc, "version", version):
            doc.fatal_error = False

    on_file_progress._lean_copilot = True  # type: ignore[attr-defined]
    doc.on_file_progress = on_file_progress


def reported_on(doc: Any, version: int) -> bool:
    """Lean published diagnostics for ``version`` (its first report comes as soon as a worker starts on a
    version), so a worker that then died was elaborating that text."""
    return getattr(doc, "diagnostics_version", None) == version


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # an abandoned request's error is nobody's business; don't log it as unretrieved
