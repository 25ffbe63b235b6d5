"""Telling the user how a search ended: a short message, with "Show transcript" where there is one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

SHOW_TRANSCRIPT = "Show transcript"
SHOW_TRANSCRIPT_COMMAND = "leanCopilot.showTranscript"


def _supports_actions(server: CopilotServer) -> bool:
    caps = server.client_capabilities
    return bool(caps and caps.window and caps.window.show_message and caps.window.show_message.message_action_item)


@dataclass(frozen=True)
class MessageAction:
    """A button on a message: ``run`` when the user picks it; ``hint`` for clients that show no buttons."""

    title: str
    run: Callable[[], Awaitable[Any]]
    hint: str


def tell(
    server: CopilotServer,
    message: str,
    kind: lsp.MessageType,
    search_id: str | None,
    actions: Sequence[MessageAction] = (),
) -> None:
    """Show ``message`` with ``actions``, and "Show transcript" when ``search_id`` has a transcript.

    The request is written before this returns (so it reaches the client before the command's result);
    the user's answer is awaited in the background.
    """
    transcript = server.searches.transcripts.get(search_id) if search_id else None
    offered = list(actions)
    if transcript is not None:
        offered.append(MessageAction(SHOW_TRANSCRIPT, lambda: show_transcript(server, transcript),
                                     f"run {SHOW_TRANSCRIPT_COMMAND} for the transcript"))
    if not offered:
        server.show(message, kind)
        return
    if not _supports_actions(server):
        server.show(f"{message} ({'; '.join(a.hint for a in offered)})", kind)
        return
    future = server.protocol.send_request(
        lsp.WINDOW_SHOW_MESSAGE_REQUEST,
        lsp.ShowMessageRequestParams(
            type=kind, message=message, actions=[lsp.MessageActionItem(title=a.title) for a in offered]
        ),
    )
    server.spawn(_on_answer(asyncio.wrap_future(future), offered))


async def _on_answer(answer: asyncio.Future[lsp.MessageActionItem | None], offered: list[MessageAction]) -> None:
    try:
        choice = await answer
    except Exception as exc:  # e.g. the client does not implement showMessageRequest
        log.info("showMessageRequest failed: %s", exc)
        return
    for action in offered:
        if choice is not None and choice.title == action.title:
            await action.run()
            return


async def show_transcript(server: CopilotServer, path: Path) -> bool:
    uri = from_fs_path(str(path)) or path.as_uri()
    try:
        shown = await server.window_show_document_async(lsp.ShowDocumentParams(uri=uri, take_focus=True))
    except Exception as exc:
        log.info("showDocument failed: %s", exc)
        server.show(f"lean-copilot transcript: {path}", lsp.MessageType.Info)
        return False
    return bool(shown and shown.success)


def short(text: str, limit: int = 200) -> str:
    """One line for a notification: the first line of ``text``, whitespace collapsed, at most ``limit``."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def one_line(exc: BaseException) -> str:
    return short(f"{type(exc).__name__}: {exc}")
