"""textDocument/codeAction: offer the three commands from the text alone (no Lean, no model), so the
editor's Quick Fix menu opens instantly: from the document version's index (server/indexing.py), built once
per version, off the event loop for a large file."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from ..core.targets import declaration_to_prove, sorry_at
from .commands import FILL_ALL, FILL_SORRY, PROVE
from .positions import to_core

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

PROVE_TITLE = "Prove with lean-copilot"
FILL_SORRY_TITLE = "Fill this sorry with lean-copilot"
FILL_ALL_TITLE = "Fill all sorries in this file with lean-copilot"


def _action(title: str, command: str, argument: dict[str, Any]) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix,
        command=lsp.Command(title=title, command=command, arguments=[argument]),
    )


def _wanted(context: lsp.CodeActionContext) -> bool:
    """Honour `context.only`: ours is `quickfix`, which matches `quickfix` and the empty (all) kind."""
    if not context.only:
        return True
    ours = lsp.CodeActionKind.QuickFix.value
    kinds = [str(getattr(k, "value", k)) for k in context.only]
    return any(k == "" or ours == k or ours.startswith(k + ".") for k in kinds)


def register(server: CopilotServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix], resolve_provider=False),
    )
    async def code_actions(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        doc = server.docs.get(uri)
        if doc is None or not _wanted(params.context):
            return []
        cursor = params.range.start
        at = {"uri": uri, "line": cursor.line, "character": cursor.character}
        actions: list[lsp.CodeAction] = []
        index = await server.docs.indexed(doc)
        if index is None:
            return []  # the text changed meanwhile: the editor asks again for the new version
        try:
            pos = to_core(index.lines, cursor)
            if declaration_to_prove(index.path, index.text, pos, o=index.outline) is not None:
                actions.append(_action(PROVE_TITLE, PROVE, at))
            if sorry_at(index.path, index.text, pos, o=index.outline) is not None:
                actions.append(_action(FILL_SORRY_TITLE, FILL_SORRY, at))
            if index.has_targets:
                actions.append(_action(FILL_ALL_TITLE, FILL_ALL, {"uri": uri}))
        except Exception:  # a target-finder bug must not break the editor's Quick Fix menu
            log.exception("finding targets failed")
        return actions
