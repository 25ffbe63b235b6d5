"""Cancellation that a seam swallowed is still cancellation."""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise CancelledError when the current task was asked to stop but the await that should have raised
    returned a result. Python 3.11's asyncio.wait_for (leanclient waits on Lean with it) does that when the
    awaited reply lands in the same loop step as the cancel (CPython bpo-42130, fixed in 3.12): measured here, a
    cancelled attempt went on writing sketches for seconds after its search had its proof. The request stays
    counted on the task (``Task.cancelling()``) until someone uncancels it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
