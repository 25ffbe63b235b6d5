"""Server-initiated work-done progress for one search (or one fill-all batch).

The token is created with window/workDoneProgress/create only when the client says it supports it; a
client that refuses or fails the request simply gets no progress. Reports are throttled: a search emits
events much faster than anyone can read them.
"""

from __future__ import annotations

import logging
import time

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from ..core.events import AttemptStarted, SearchEvent, SketchChecked

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 0.2


class SearchProgress:
    """Counts what a search has done and turns it into progress messages."""

    def __init__(self, server: LanguageServer, token: str, title: str) -> None:
        self._server = server
        self.token = token
        self.title = title
        self.active = False
        self._last_report = 0.0
        self.attempts = 0
        self.sketches = 0
        self.best = ""
        self.prefix = ""  # e.g. "sorry 2/5 · " for a fill-all batch

    def _supported(self) -> bool:
        caps = self._server.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    async def begin(self, message: str) -> None:
        if not self._supported():
            return
        try:
            await self._server.work_done_progress.create_async(self.token)
        except Exception as exc:  # the client refused the token: run without progress
            log.info("progress token refused: %s", exc)
            return
        self.active = True
        self._server.work_done_progress.begin(
            self.token, lsp.WorkDoneProgressBegin(title=self.title, cancellable=True, message=message)
        )

    def event(self, event: SearchEvent) -> None:
        """The Engine's on_event sink: called on the event loop, must not block."""
        if isinstance(event, AttemptStarted):
            self.attempts = max(self.attempts, event.attempt)
        elif isinstance(event, SketchChecked):
            self.sketches = max(self.sketches, event.sketches_checked)
            if not self.best or event.outcome.value == "incomplete":
                self.best = f"attempt {event.attempt}: {event.outcome.value}"
        self.report(self.summary(event.summary()))

    def summary(self, latest: str = "") -> str:
        parts = [f"{self.prefix}attempts {self.attempts}", f"sketches checked {self.sketches}"]
        if self.best:
            parts.append(f"best so far {self.best}")
        if latest:
            parts.append(latest)
        return " · ".join(parts)

    def report(self, message: str, *, force: bool = False) -> None:
        if not self.active:
            return
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_INTERVAL_S:
            return
        self._last_report = now
        self._server.work_done_progress.report(self.token, lsp.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if not self.active:
            return
        self.active = False
        self._server.work_done_progress.end(self.token, lsp.WorkDoneProgressEnd(message=message))
        # pygls never forgets tokens; drop ours so a long session does not accumulate them.
        self._server.work_done_progress.tokens.pop(self.token, None)
