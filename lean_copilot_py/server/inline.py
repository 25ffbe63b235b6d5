"""Verified next-tactic suggestions: textDocument/inlineCompletion and the custom request
`leanCopilot/suggestions` (same list, for clients without inline completion, e.g. Neovim < 0.12).

A request made stale by typing is cancelled: a newer request for the same document, or any change to it,
cancels the one in flight (the client then sees RequestCancelled).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from .documents import Document
from .positions import to_core

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

SUGGESTIONS_REQUEST = "leanCopilot/suggestions"


class StaleRequests:
    """The in-flight suggestion task per document."""

    def __init__(self) -> None:
        self._current: dict[str, asyncio.Task[Any]] = {}

    def claim(self, uri: str) -> None:
        task = asyncio.current_task()
        old = self._current.get(uri)
        if old is not None and old is not task and not old.done():
            old.cancel()
        if task is not None:
            self._current[uri] = task

    def release(self, uri: str) -> None:
        if self._current.get(uri) is asyncio.current_task():
            del self._current[uri]

    def document_changed(self, doc: Document) -> None:
        task = self._current.pop(doc.uri, None)
        if task is not None and not task.done():
            task.cancel()


async def suggestions(server: CopilotServer, stale: StaleRequests, uri: str, position: lsp.Position) -> list[str]:
    inline = server.settings.inline
    doc = server.docs.get(uri)
    if not inline.enabled or doc is None:
        return []
    stale.claim(uri)
    try:
        pos = to_core(doc.text, position)
        async with server.engines.lease() as engine:
            tactics = await engine.suggest_tactics(doc.path, doc.text, pos, budget_s=inline.budget_s)
        seen: list[str] = []
        for tactic in tactics:
            if tactic and tactic not in seen:
                seen.append(tactic)
        return seen[: inline.max_suggestions]
    finally:
        stale.release(uri)


def register(server: CopilotServer) -> None:
    stale = StaleRequests()
    server.docs.on_change(stale.document_changed)

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList:
        at = lsp.Range(start=params.position, end=params.position)
        tactics = await suggestions(server, stale, params.text_document.uri, params.position)
        return lsp.InlineCompletionList(items=[lsp.InlineCompletionItem(insert_text=t, range=at) for t in tactics])

    @server.feature(SUGGESTIONS_REQUEST)
    async def custom_suggestions(params: Any) -> dict[str, Any]:
        uri, position = _parse(params)
        tactics = await suggestions(server, stale, uri, position)
        at = {"start": _json(position), "end": _json(position)}
        return {"items": [{"insertText": t, "range": at, "label": t} for t in tactics]}


def _parse(params: Any) -> tuple[str, lsp.Position]:
    from pygls.exceptions import JsonRpcInvalidParams

    try:
        uri = _get(_get(params, "textDocument"), "uri")
        pos = _get(params, "position")
        return str(uri), lsp.Position(line=int(_get(pos, "line")), character=int(_get(pos, "character")))
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise JsonRpcInvalidParams("expected {textDocument: {uri}, position: {line, character}}") from exc


def _get(obj: Any, key: str) -> Any:
    # pygls hands custom-request params over as dicts, or as attribute objects in some versions.
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


def _json(position: lsp.Position) -> dict[str, int]:
    return {"line": position.line, "character": position.character}
