"""`server.check_documents`: the server's own whole-document Lean check of each open file, for editors that have no
Lean extension reporting errors (so that "Repair this proof" can still be offered).

One check per document at a time, started ``server.check_delay_s`` after the last edit (typing restarts the wait),
cancelled by the next edit, the close or shutdown; it runs as a background task, so the loop never waits for Lean.
What it found is kept for exactly the text it checked: a code action on any other version ignores it. Its errors
are never published as diagnostics (an editor with Lean's extension has them already; publishing ours would show
each error twice): they only feed the repair action.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.types import LeanMessage, Outcome, Severity
from .documents import Document

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedText:
    text: str  # the exact text Lean checked
    version: int | None
    errors: tuple[LeanMessage, ...]  # document-absolute, code points


class DocumentChecks:
    def __init__(self, server: CopilotServer) -> None:
        self._server = server
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._results: dict[str, CheckedText] = {}
        self.completed = 0  # checks that finished (tests and the log count them)

    @property
    def enabled(self) -> bool:
        return self._server.settings.server.check_documents

    def errors_for(self, uri: str, text: str) -> tuple[LeanMessage, ...]:
        """Lean's errors from our check of exactly ``text`` (none when we did not check that text)."""
        found = self._results.get(uri)
        return found.errors if found is not None and (found.text is text or found.text == text) else ()

    def checked(self, uri: str) -> CheckedText | None:
        return self._results.get(uri)

    def document_changed(self, doc: Document) -> None:
        """The DocumentStore's change listener (also called on close): restart (or drop) the check."""
        self._cancel(doc.uri)
        if doc.uri not in self._server.docs:
            self._results.pop(doc.uri, None)
            return
        self.schedule(doc)

    def schedule(self, doc: Document) -> None:
        if not self.enabled:
            return
        self._cancel(doc.uri)
        self._tasks[doc.uri] = self._server.spawn(self._check(doc.uri, doc.text, doc.version))

    def schedule_all(self) -> None:
        """After the setting was turned on: every open document, once."""
        for doc in self._server.docs.all():
            found = self._results.get(doc.uri)
            if (found is None or found.text != doc.text) and doc.uri not in self._tasks:
                self.schedule(doc)

    def _cancel(self, uri: str) -> None:
        task = self._tasks.pop(uri, None)
        if task is not None and not task.done():
            task.cancel()

    async def _check(self, uri: str, text: str, version: int | None) -> None:
        await asyncio.sleep(self._server.settings.server.check_delay_s)
        doc = self._server.docs.get(uri)
        if doc is None or doc.text is not text:
            return
        try:
            async with self._server.engines.lease() as engine:
                verdict = await engine.check_document(doc.path, text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Lean could not check it: the action then has only the editor's diagnostics
            log.info("checking %s failed: %s", uri, exc)
            return
        finally:
            if self._tasks.get(uri) is asyncio.current_task():
                del self._tasks[uri]
        if verdict.outcome in (Outcome.CRASHED, Outcome.TIMEOUT):
            log.info("checking %s: %s (%s)", uri, verdict.outcome.value, verdict.reason)
            return
        errors = tuple(m for m in verdict.messages if m.severity is Severity.ERROR)
        self.record(uri, CheckedText(text, version, errors))
        self.completed += 1
        log.info("checked %s (version %s): %d error(s)", uri, version, len(errors))

    def record(self, uri: str, checked: CheckedText) -> None:
        """What a finished check of ``checked.text`` leaves (the benchmark seeds one directly)."""
        self._results[uri] = checked

