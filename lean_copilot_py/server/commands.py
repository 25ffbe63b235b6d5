"""workspace/executeCommand: leanCopilot.prove / fillSorry / fillAllSorries / repair / insertSkeleton / cancel /
showTranscript.

Arguments are plain JSON objects (what the code actions put in their Command, or what an editor plugin
sends): positions are LSP positions (0-based, UTF-16) and are converted here, once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from ..core.outline import Outline
from ..core.targets import declaration_to_prove, sorry_at
from ..core.types import Pos, Target
from .indexing import DocumentIndex
from .notify import show_transcript
from .positions import to_core
from .repairs import find_repair
from .runner import INSERT_SKELETON, label_of, run_fill_all, run_target
from .searches import CommandResult, RunningSearch, result
from .skeletons import insert_skeleton

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

PROVE = "leanCopilot.prove"
FILL_SORRY = "leanCopilot.fillSorry"
FILL_ALL = "leanCopilot.fillAllSorries"
CANCEL = "leanCopilot.cancel"
SHOW_TRANSCRIPT = "leanCopilot.showTranscript"
REPAIR = "leanCopilot.repair"
__all__ = ["CANCEL", "FILL_ALL", "FILL_SORRY", "INSERT_SKELETON", "PROVE", "REPAIR", "SHOW_TRANSCRIPT", "register"]


def _arg(args: tuple[Any, ...], *, required: tuple[str, ...]) -> dict[str, Any]:
    first = args[0] if args else None
    if not isinstance(first, dict) or any(k not in first for k in required):
        raise JsonRpcInvalidParams(f"expected one argument object with {', '.join(required)}")
    return first


def _position(arg: dict[str, Any]) -> lsp.Position:
    try:
        return lsp.Position(line=int(arg["line"]), character=int(arg["character"]))
    except KeyError as exc:
        raise JsonRpcInvalidParams(f"expected a position with line and character, missing {exc}") from exc
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: json.loads reads Infinity
        raise JsonRpcInvalidParams(f"bad position: {exc}") from exc


class Finder(Protocol):
    def __call__(self, path: Path, text: str, pos: Pos, *, o: Outline | None = None) -> Target | None: ...


# (the version's index, the position) -> the target, or why there is none (one line for the user)
IndexFinder = Callable[[DocumentIndex, Pos], "Target | str"]


def _by_text(find: Finder, what: str) -> IndexFinder:
    def found(index: DocumentIndex, pos: Pos) -> Target | str:
        target = find(index.path, index.text, pos, o=index.outline)
        return target if target is not None else f"lean-copilot: no {what} at line {pos.line + 1}"

    return found


def register(server: CopilotServer) -> None:
    async def start_target(args: tuple[Any, ...], find: IndexFinder, key_prefix: str = "") -> CommandResult:
        arg = _arg(args, required=("uri", "line", "character"))
        uri = arg["uri"]
        # The version's index (off the loop for a large file, shared with the code actions that offered this).
        index = await server.docs.current_index(uri)
        if index is None:
            return result("error", None, f"lean-copilot: {uri} is not open as a Lean document")
        pos = to_core(index.lines, _position(arg))
        target = find(index, pos)
        if isinstance(target, str):
            return result("failed", None, target)
        target = dataclasses.replace(target, version=index.version)
        key = key_prefix + target.key()  # a repair and a "prove" of one declaration are different searches
        search = server.searches.find(key)
        if search is None:

            async def body(s: RunningSearch) -> CommandResult:
                return await run_target(server, s, uri, target)

            search = server.searches.start(key, label_of(target), body)
        else:
            log.info("joining running search %s", search.id)
        return await server.searches.wait(search, server.protocol.msg_id)

    @server.command(PROVE)
    async def prove(*args: Any) -> CommandResult:
        what = "declaration with a missing or incomplete proof"
        return await start_target(args, _by_text(declaration_to_prove, what))

    @server.command(FILL_SORRY)
    async def fill_sorry(*args: Any) -> CommandResult:
        return await start_target(args, _by_text(sorry_at, "`sorry`"))

    @server.command(REPAIR)
    async def repair(*args: Any) -> CommandResult:
        arg = _arg(args, required=("uri", "line", "character"))
        uri, raw = arg["uri"], arg.get("diagnostics")
        return await start_target(args, lambda index, pos: find_repair(server, uri, index, pos, raw), "repair:")

    @server.command(INSERT_SKELETON)
    async def insert(*args: Any) -> CommandResult:
        arg = _arg(args, required=("uri",))
        uri = arg["uri"]
        index = await server.docs.current_index(uri)
        if index is None:
            return result("error", None, f"lean-copilot: {uri} is not open as a Lean document")
        if "skeletonId" in arg:
            kept = server.skeletons.get(str(arg["skeletonId"]))
        elif "line" in arg:
            kept = server.skeletons.at(uri, index, to_core(index.lines, _position(arg)))
        else:
            kept = server.skeletons.newest(uri, index)
        if kept is None or kept.uri != uri:
            return result("failed", None, "lean-copilot: no verified skeleton to insert here (a search that ends "
                                          "without a proof keeps one when Lean accepted a sketch but for its sorries)")
        outcome = await insert_skeleton(server, kept)
        return result(outcome.status, None, outcome.message, skeletonId=kept.id)

    @server.command(FILL_ALL)
    async def fill_all(*args: Any) -> CommandResult:
        uri = _arg(args, required=("uri",))["uri"]
        doc = server.docs.get(uri)
        if doc is None:
            return result("error", None, f"lean-copilot: {uri} is not open as a Lean document")
        key = f"fill-all:{uri}"
        search = server.searches.find(key)
        if search is None:
            name = doc.path.name

            async def body(s: RunningSearch) -> CommandResult:
                return await run_fill_all(server, s, uri, name)

            search = server.searches.start(key, f"the sorries in {name}", body)
        return await server.searches.wait(search, server.protocol.msg_id)

    @server.command(CANCEL)
    def cancel(*args: Any) -> CommandResult:
        search_id = args[0].get("searchId") if args and isinstance(args[0], dict) else None
        cancelled = server.searches.cancel(search_id)
        what = ", ".join(cancelled) if cancelled else "nothing"
        return result("cancelled", search_id, f"lean-copilot: cancelled {what}", cancelled=cancelled)

    @server.command(SHOW_TRANSCRIPT)
    async def show(*args: Any) -> CommandResult:
        search_id = args[0].get("searchId") if args and isinstance(args[0], dict) else None
        search_id = search_id or server.searches.last_transcript
        path = server.searches.transcripts.get(search_id) if search_id else None
        if path is None:
            return result("error", search_id, "lean-copilot: no transcript for that search yet")
        shown = await show_transcript(server, path)
        return result("shown" if shown else "error", search_id, str(path), uri=path.as_uri())
