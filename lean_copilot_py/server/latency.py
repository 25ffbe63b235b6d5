"""The code-action handler timed in process, for `lean-copilot bench` (bench/ stays free of LSP types: only
server/ imports lsprotocol): the server's own check is seeded with known errors, so each request sorts through
all of them without a Lean behind it."""

from __future__ import annotations

import time
from collections.abc import Sequence

from lsprotocol import types as lsp

from ..core.types import LeanMessage
from .app import build_server
from .checking import CheckedText


async def code_action_times(uri: str, text: str, known_errors: Sequence[LeanMessage], lines: Sequence[int], *,
                            expect_title: str) -> list[float]:
    """Milliseconds of each code action request at ``lines`` (column 4), in order; each must offer an action
    titled ``expect_title`` (a menu without it would measure the wrong thing)."""
    server = build_server()
    try:
        server.docs.open(lsp.TextDocumentItem(uri=uri, language_id="lean4", version=1, text=text))
        server.checks.record(uri, CheckedText(text, 1, tuple(known_errors)))
        handler = server.protocol.fm.features[lsp.TEXT_DOCUMENT_CODE_ACTION]
        times: list[float] = []
        for line in lines:
            at = lsp.Position(line, 4)
            params = lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri),
                                          range=lsp.Range(at, at), context=lsp.CodeActionContext(diagnostics=[]))
            t = time.perf_counter()
            actions = await handler(params)
            times.append(1000 * (time.perf_counter() - t))
            if not any(a.title == expect_title for a in actions or []):
                raise RuntimeError(f"no {expect_title!r} action at line {line + 1}")
        return times
    finally:
        await server.aclose()
