"""textDocument/codeAction: offer the commands from what the server already knows (no Lean, no model), so the
editor's Quick Fix menu opens instantly: the document version's index (server/indexing.py), built once per
version, off the event loop for a large file; for "Repair this proof", Lean's errors from the request's context
and from our own check of this very text (server/checking.py); for a skeleton, the ones failed searches kept.

Errors in a statement or in the imports offer no repair (statements are pinned; an import error says nothing
about the proofs): the menu shows nothing for them, in every editor; the explicit command says why."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from ..core.repair import repair_target_at
from ..core.targets import declaration_to_prove, sorry_at
from .commands import FILL_ALL, FILL_SORRY, INSERT_SKELETON, PROVE, REPAIR
from .diagnostics import editor_errors, on_lines
from .positions import to_core

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

PROVE_TITLE = "Prove with lean-copilot"
FILL_SORRY_TITLE = "Fill this sorry with lean-copilot"
FILL_ALL_TITLE = "Fill all sorries in this file with lean-copilot"
REPAIR_TITLE = "Repair this proof with lean-copilot"


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
            messages = editor_errors(params.context.diagnostics, index.lines)
            messages.extend(server.checks.errors_for(uri, index.text))
            if messages:
                repair = repair_target_at(index.path, index.text, pos, messages, o=index.outline)
                if repair is not None:
                    first, last = repair.decl_span.start.line, repair.decl_span.end.line
                    carried = {**at, "diagnostics": on_lines(params.context.diagnostics, first, last)}
                    actions.append(_action(REPAIR_TITLE, REPAIR, carried))
            kept = server.skeletons.at(uri, index, pos)
            if kept is not None:
                actions.append(_action(kept.title, INSERT_SKELETON, {"uri": uri, "skeletonId": kept.id}))
            if index.has_targets:
                actions.append(_action(FILL_ALL_TITLE, FILL_ALL, {"uri": uri}))
        except Exception:  # a target-finder bug must not break the editor's Quick Fix menu
            log.exception("finding targets failed")
        return actions
