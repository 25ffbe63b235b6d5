"""Putting a Lean-verified proof into the user's buffer, and never anything else.

The edit replaces exactly ``target.proof_span`` with ``core.splice.replacement_text`` (helpers go right
before the declaration, in the same WorkspaceEdit: one undo step). It is sent only when the document's
text is still the text the search started from. If the user typed meanwhile and the declaration's text is
unchanged, the proof is re-checked against the new text before it is applied; otherwise nothing is edited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from ..core.geometry import relocate
from ..core.splice import helpers_text, replacement_text
from ..core.types import Candidate, Target
from ..engine.port import EnginePort
from .documents import Document, DocumentStore
from .notify import short
from .positions import span_to_range, to_lsp

log = logging.getLogger(__name__)

MAX_REVERIFY = 3  # the user may keep typing while we re-verify; give up after this many rounds


@dataclass(frozen=True)
class ApplyOutcome:
    status: str  # "proved" (applied), "changed" (not applied: the target changed), "error"
    message: str


def build_edit(server: LanguageServer, doc: Document, target: Target, candidate: Candidate) -> lsp.WorkspaceEdit:
    """The WorkspaceEdit for ``candidate`` against ``doc`` (whose text must equal ``target.text``)."""
    text = doc.text
    edits: list[lsp.TextEdit] = []
    helpers = helpers_text(target, candidate)  # in the document's line endings, like the proof
    if helpers:
        at = to_lsp(text, target.decl_span.start)
        edits.append(lsp.TextEdit(range=lsp.Range(start=at, end=at), new_text=helpers))
    edits.append(
        lsp.TextEdit(range=span_to_range(text, target.proof_span), new_text=replacement_text(target, candidate))
    )
    caps = server.client_capabilities
    workspace_edit = caps.workspace.workspace_edit if caps and caps.workspace else None
    if workspace_edit and workspace_edit.document_changes and doc.version is not None:
        # Versioned: the client refuses the edit if the buffer moved on after our last didChange.
        return lsp.WorkspaceEdit(
            document_changes=[
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
                    edits=edits,
                )
            ]
        )
    return lsp.WorkspaceEdit(changes={doc.uri: edits})


async def apply_proof(
    server: LanguageServer,
    docs: DocumentStore,
    uri: str,
    target: Target,
    candidate: Candidate,
    engine: EnginePort,
    label: str,
) -> ApplyOutcome:
    for _ in range(MAX_REVERIFY):
        doc = docs.get(uri)
        if doc is None:
            return ApplyOutcome("changed", f"lean-copilot: {label}: the file was closed; the proof was not applied.")
        if doc.text == target.text:
            return await send_edit(server, doc, target, candidate, label, f"the proof of {label}")
        moved = relocate(target, doc.text, doc.version)
        if moved is None:
            return ApplyOutcome(
                "changed", f"lean-copilot: {label} changed while it was being proved; the proof was not applied."
            )
        log.info("%s: document changed, re-verifying against the new text", label)
        verdict = await engine.verify(moved, candidate)
        if not verdict.proved:
            reason = f" ({short(verdict.reason)})" if verdict.reason else ""
            return ApplyOutcome(
                "changed",
                f"lean-copilot: the file changed and the proof of {label} no longer checks{reason}; not applied.",
            )
        target = moved
    return ApplyOutcome("changed", f"lean-copilot: {label}: the file kept changing; the proof was not applied.")


async def send_edit(
    server: LanguageServer, doc: Document, target: Target, candidate: Candidate, label: str, what: str
) -> ApplyOutcome:
    """Send the edit for ``candidate`` (``doc.text`` must be ``target.text``); ``what`` names it in messages
    ("the proof of `foo`"). Status "proved" when the editor applied it."""
    edit = build_edit(server, doc, target, candidate)
    try:
        response = await server.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(edit=edit, label=f"lean-copilot: {label}")
        )
    except Exception as exc:
        log.exception("workspace/applyEdit failed")
        return ApplyOutcome("error", f"lean-copilot: the editor could not apply {what}: {exc}")
    if response is None or not response.applied:
        why = getattr(response, "failure_reason", None) or "the editor refused the edit"
        return ApplyOutcome("changed", f"lean-copilot: {what} was not applied: {why}.")
    return ApplyOutcome("proved", f"lean-copilot: proved {label}.")
