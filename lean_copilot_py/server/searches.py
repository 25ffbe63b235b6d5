"""Running searches: one asyncio task per target, joined by later requests, cancelled from anywhere.

Each running search is a task that does the whole job (search, then apply) and returns the command result,
so a second request for the same target simply awaits the same task. A search is cancelled by
leanCopilot.cancel, by its progress token's cancel, or when every request waiting on it was cancelled
($/cancelRequest).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .notify import one_line

log = logging.getLogger(__name__)

CommandResult = dict[str, Any]


def result(status: str, search_id: str | None, message: str, **extra: Any) -> CommandResult:
    return {"status": status, "searchId": search_id, "message": message, **extra}


@dataclass(eq=False)
class RunningSearch:
    id: str
    key: str | None  # target key used for joining; None for batches
    title: str
    task: asyncio.Task[CommandResult] | None = None
    token: str | None = None  # progress token
    waiters: set[Any] = field(default_factory=set)  # request ids (or private tokens) waiting on it
    transcript: Path | None = None

    def cancel(self) -> bool:
        return self.task is not None and self.task.cancel()


class SearchRegistry:
    def __init__(self, on_count_change: Callable[[int], None]) -> None:
        self._running: dict[str, RunningSearch] = {}
        self._ids = itertools.count(1)
        self._on_count_change = on_count_change
        # searchId -> transcript, kept after the search ends so "Show transcript" works later.
        self.transcripts: dict[str, Path] = {}
        self.last_transcript: str | None = None

    @property
    def count(self) -> int:
        return len(self._running)

    def get(self, search_id: str) -> RunningSearch | None:
        return self._running.get(search_id)

    def find(self, key: str) -> RunningSearch | None:
        for search in self._running.values():
            if search.key == key:
                return search
        return None

    def by_token(self, token: Any) -> RunningSearch | None:
        for search in self._running.values():
            if search.token is not None and search.token == token:
                return search
        return None

    def start(
        self, key: str | None, title: str, run: Callable[[RunningSearch], Awaitable[CommandResult]]
    ) -> RunningSearch:
        search_id = f"s{next(self._ids)}"
        search = RunningSearch(id=search_id, key=key, title=title, token=f"lean-copilot/{search_id}")

        async def body() -> CommandResult:
            try:
                return await run(search)
            except asyncio.CancelledError:
                return result("cancelled", search_id, f"lean-copilot: {title}: cancelled")
            except Exception as exc:
                log.exception("search %s failed", search_id)
                return result("error", search_id, f"lean-copilot: {title}: {one_line(exc)}")

        search.task = asyncio.get_running_loop().create_task(body(), name=f"lean-copilot {search_id}")
        self._running[search_id] = search
        search.task.add_done_callback(lambda _t: self._finished(search))
        self._on_count_change(self.count)
        return search

    def _finished(self, search: RunningSearch) -> None:
        self._running.pop(search.id, None)
        if search.transcript is not None:
            self.transcripts[search.id] = search.transcript
            self.last_transcript = search.id
        self._on_count_change(self.count)

    def note_transcript(self, search: RunningSearch, path: Path | None) -> None:
        if path is not None:
            search.transcript = path
            self.transcripts[search.id] = path
            self.last_transcript = search.id

    async def wait(self, search: RunningSearch, request_id: Any = None) -> CommandResult:
        """Wait for ``search`` on behalf of one request (or an internal caller when ``request_id`` is None).
        A waiter that is cancelled cancels the search only when no other waiter is left."""
        assert search.task is not None
        token: Any = request_id if request_id is not None else object()
        search.waiters.add(token)
        try:
            return await asyncio.shield(search.task)
        except asyncio.CancelledError:
            self._drop_waiter(search, token)
            raise
        finally:
            search.waiters.discard(token)

    def request_cancelled(self, request_id: Any) -> bool:
        """$/cancelRequest for a request waiting on a search (pygls does not cancel command handlers)."""
        for search in list(self._running.values()):
            if request_id in search.waiters:
                self._drop_waiter(search, request_id)
                return True
        return False

    def _drop_waiter(self, search: RunningSearch, token: Any) -> None:
        if token in search.waiters:
            search.waiters.discard(token)
            if not search.waiters:
                search.cancel()

    def cancel(self, search_id: str | None = None) -> list[str]:
        """Cancel one search (by id) or all of them; returns the ids cancelled."""
        targets = [self._running[search_id]] if search_id in self._running else []
        if search_id is None:
            targets = list(self._running.values())
        for search in targets:
            search.cancel()
        return [s.id for s in targets]

    async def aclose(self) -> None:
        tasks = [s.task for s in self._running.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
