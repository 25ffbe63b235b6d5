"""Handlers for the session's plumbing: initialize, document sync, configuration, progress cancel,
shutdown."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from ..settings import SECTIONS
from .options import SETTINGS_SECTION

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)


def register(server: CopilotServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def on_initialize(params: lsp.InitializeParams) -> None:
        server.initialize(params)

    @server.feature(lsp.INITIALIZED)
    def on_initialized(params: lsp.InitializedParams) -> None:
        server.initialized()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        doc = server.docs.open(params.text_document)
        if doc is not None:
            server.set_lake_root_from(doc.path)
            server.checks.schedule(doc)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        server.docs.change(params)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        server.docs.close(params.text_document.uri)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: lsp.DidChangeConfigurationParams) -> None:
        raw = _ours(params.settings)
        if raw is None and _can_pull(server):
            # Pull-model clients send `null` (or settings meant for someone else): ask for our section.
            pulled = await _pull_configuration(server)  # the section's value: ours by construction
            raw = _untrusting(pulled) if isinstance(pulled, dict) and pulled else None
        if raw:
            server.load_options(raw)
        # Nothing for us: keep what initializationOptions said rather than silently resetting to defaults.

    @server.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(params: lsp.WorkDoneProgressCancelParams) -> None:
        search = server.searches.by_token(params.token)
        if search is not None:
            log.info("progress cancel for %s", search.id)
            search.cancel()

    @server.feature(lsp.SHUTDOWN)
    async def on_shutdown(params: Any = None) -> None:
        await server.aclose()


def _ours(raw: Any) -> dict[str, Any] | None:
    """Our part of a settings object: under "leanCopilot", or the whole object if it only has our sections."""
    if not isinstance(raw, dict) or not raw:
        return None
    if isinstance(raw.get(SETTINGS_SECTION), dict):
        return raw
    return raw if set(raw) <= set(SECTIONS) else None


def _untrusting(pulled: dict[str, Any]) -> dict[str, Any]:
    """A pulled configuration is the client's merge of every scope, a workspace's own settings file
    included, so it must not be able to claim the workspace is trusted: only a pushed one says so."""
    return {k: v for k, v in pulled.items() if k != "trust"}


def _can_pull(server: CopilotServer) -> bool:
    caps = server.client_capabilities
    return bool(caps and caps.workspace and caps.workspace.configuration)


async def _pull_configuration(server: CopilotServer) -> Any:
    try:
        values = await server.workspace_configuration_async(
            lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=SETTINGS_SECTION)])
        )
    except Exception as exc:
        log.info("workspace/configuration failed: %s", exc)
        return None
    return values[0] if values else None
