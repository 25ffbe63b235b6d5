"""One search from start to applied edit (or message), and the fill-all batch built from it.

These coroutines run as the body of a RunningSearch task (searches.py), so every request for the same
target shares one run, and cancelling the task cancels the Engine's search under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from ..core.events import SearchResult, SearchStatus
from ..core.types import Target
from ..engine.port import SearchOptions
from .documents import Document
from .edits import apply_proof
from .notify import MessageAction, one_line, short, tell
from .progress import SearchProgress
from .searches import CommandResult, RunningSearch, result
from .skeletons import KeptSkeleton, insert_skeleton

INSERT_SKELETON = "leanCopilot.insertSkeleton"
NOTHING_TO_REPAIR = SearchStatus.NOTHING_TO_REPAIR.value  # also the command result's status

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

# How long fill-all waits for the editor's didChange of a proof it applied before picking the next sorry.
EDIT_ECHO_S = 5.0


def label_of(target: Target) -> str:
    what = "a sorry in " if target.kind.value == "sorry" else ""
    return f"{what}`{target.decl_name}`"


async def run_target(
    server: CopilotServer,
    search: RunningSearch,
    uri: str,
    target: Target,
    *,
    progress: SearchProgress | None = None,
    quiet: bool = False,
) -> CommandResult:
    """Search ``target``; apply a verified proof. ``progress``/``quiet``: a batch reports for us."""
    label = label_of(target)
    own = progress is None
    if progress is None:
        doing = "repairing" if target.repair is not None else "proving"
        progress = SearchProgress(server, search.token or search.id, f"lean-copilot: {doing} {label}")
        await progress.begin("starting")
    final = "cancelled"
    try:
        async with server.engines.lease() as engine:
            options = SearchOptions(on_event=progress.event, deadline_s=server.settings.search.deadline_s)
            res = await engine.search(target, options)
            server.searches.note_transcript(search, res.transcript_path)
            if accepted_as_is(target, res):
                final = NOTHING_TO_REPAIR
                message = f"lean-copilot: Lean accepts the proof of {label} as it is: nothing to repair."
                if not quiet:
                    tell(server, message, lsp.MessageType.Info, search.id)
                return result(NOTHING_TO_REPAIR, search.id, message)
            if res.status is SearchStatus.PROVED and res.proof is not None:
                progress.report(f"verified proof found; applying ({res.proof.origin or 'search'})", force=True)
                applied = await apply_proof(server, server.docs, uri, target, res.proof, engine, label)
                final = applied.status
                if applied.status != "proved" and not quiet:
                    kind = lsp.MessageType.Error if applied.status == "error" else lsp.MessageType.Warning
                    tell(server, applied.message, kind, search.id)
                return result(applied.status, search.id, applied.message, origin=res.proof.origin)
        outcome = _unproved(server, search, uri, target, res, quiet)
        final = outcome["status"]
        return outcome
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        final = "error"
        log.exception("search for %s failed", label)
        message = f"lean-copilot: the search for {label} failed: {one_line(exc)}"
        server.notify_status("error", message)
        if not quiet:
            tell(server, message, lsp.MessageType.Error, search.id)
        return result("error", search.id, message)
    finally:
        if own:
            progress.end(final)


def accepted_as_is(target: Target, res: SearchResult) -> bool:
    """A repair search found the user's own proof accepted by Lean (its errors were stale): nothing to replace.
    The search says so (NOTHING_TO_REPAIR); a "proof" that is the user's own, unchanged, is the same news."""
    if target.repair is None:
        return False
    if res.status is SearchStatus.NOTHING_TO_REPAIR:
        return True
    proof = res.proof if res.status is SearchStatus.PROVED else None
    return proof is not None and not proof.helpers.strip() and proof.proof.strip() == target.repair.original.strip()


def _unproved(
    server: CopilotServer, search: RunningSearch, uri: str, target: Target, res: SearchResult, quiet: bool
) -> CommandResult:
    label = label_of(target)
    if res.status is SearchStatus.CANCELLED:
        return result("cancelled", search.id, f"lean-copilot: {label}: cancelled")
    reason = short(res.reason or res.status.value)
    if res.status is SearchStatus.ERROR:
        message = f"lean-copilot: could not search for {label}: {reason}"
        server.notify_status("error", message)
        if not quiet:
            tell(server, message, lsp.MessageType.Error, search.id)
        return result("error", search.id, message)
    message = f"lean-copilot: no verified proof of {label}: {reason}"
    if not res.model_used:
        message += "; only the automation ran (the model was not available)"
    extra: dict[str, object] = {}
    actions: list[MessageAction] = []
    if res.skeleton is not None:
        kept = server.skeletons.keep(uri, target, res.skeleton, label)
        message += f". A verified skeleton is kept (not a proof): {res.skeleton.summary()}"
        extra = {"skeletonId": kept.id, "skeleton": res.skeleton.summary(), "skeletonTitle": kept.title}
        actions.append(MessageAction(kept.title, lambda: _insert_from_message(server, kept),
                                     f"run {INSERT_SKELETON} to insert it"))
    if not quiet:
        tell(server, message, lsp.MessageType.Warning, search.id, actions)
    return result("failed", search.id, message, modelUsed=res.model_used, **extra)


async def _insert_from_message(server: CopilotServer, kept: KeptSkeleton) -> None:
    outcome = await insert_skeleton(server, kept)
    kind = lsp.MessageType.Info if outcome.status == "skeleton" else lsp.MessageType.Warning
    server.show(outcome.message, kind)


async def run_fill_all(server: CopilotServer, batch: RunningSearch, uri: str, name: str) -> CommandResult:
    """Fill every sorry of ``uri``, last first, one search at a time.

    Going bottom-up keeps positions above the current sorry valid after an edit; ``skipped`` counts the
    sorries at the end that were tried and are still there (failed), so they are not tried again.
    """
    progress = SearchProgress(server, batch.token or batch.id, f"lean-copilot: filling the sorries in {name}")
    await progress.begin("starting")
    # Targets come from each version's index: a large file is lexed off the event loop, once per version.
    index = await server.docs.current_index(uri)
    total = len(index.targets) if index else 0
    tried = proved = skipped = 0
    final = "cancelled"
    try:
        while (index := await server.docs.current_index(uri)) is not None:
            remaining = list(index.targets)
            remaining = remaining[: max(0, len(remaining) - skipped)]
            if not remaining or tried >= total:
                break
            before = index.text
            target = max(remaining, key=lambda t: t.proof_span.start)
            tried += 1
            progress.prefix = f"sorry {tried}/{total} · "
            progress.report(progress.summary(f"proving {label_of(target)}"), force=True)
            inner = server.searches.find(target.key())
            if inner is None:

                async def body(s: RunningSearch, t: Target = target) -> CommandResult:
                    return await run_target(server, s, uri, t, progress=progress, quiet=True)

                inner = server.searches.start(target.key(), label_of(target), body)
            outcome = await server.searches.wait(inner)
            if outcome["status"] == "proved":
                proved += 1
                await _edit_seen(server, uri, before)
            else:
                skipped += 1
        if total == 0:
            final = "failed"
            return result("failed", batch.id, f"lean-copilot: no sorry in {name}", proved=0, total=0)
        status = "proved" if proved == total else "failed"
        message = f"lean-copilot: filled {proved} of {total} sorries in {name}"
        final = message
        tell(server, message, lsp.MessageType.Info if proved == total else lsp.MessageType.Warning, None)
        return result(status, batch.id, message, proved=proved, total=total)
    finally:
        progress.end(final)


async def _edit_seen(server: CopilotServer, uri: str, before: str) -> None:
    """Wait (boundedly) until our copy of ``uri`` is no longer ``before``. An editor may answer applyEdit
    before it sends the didChange of that edit (seen in Neovim, which debounces didChange, and at times
    in VS Code); the next sorry must be picked from the text with this one filled."""
    changed = asyncio.Event()

    def on_change(doc: Document) -> None:
        if doc.uri == uri:
            changed.set()

    server.docs.on_change(on_change)
    try:
        doc = server.docs.get(uri)
        if doc is not None and doc.text == before:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), EDIT_ECHO_S)
    finally:
        server.docs.off_change(on_change)
