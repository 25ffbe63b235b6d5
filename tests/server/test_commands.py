"""Commands find their targets in the document version's index (server/indexing.py), like the code actions that
offered them: a large file is lexed once per version, off the event loop, however many code actions, prove and
fill-all requests read it."""

from __future__ import annotations

import io
from typing import Any

from lsprotocol import types as lsp

from lean_copilot_py.server.app import build_server
from lean_copilot_py.server.commands import FILL_ALL, PROVE
from lean_copilot_py.server.indexing import INLINE_CHARS
from lean_copilot_py.settings import Settings
from lean_copilot_py.testing.fake_engine import FakeEngine

URI = "file:///proj/Big.lean"
PADDING = "".join(f"-- line {i} of a long comment that makes the file large\n" for i in range(1000))
TEXT = PADDING + "theorem a : True := by\n  sorry\n\ntheorem b : True := by\n  sorry\n"


async def test_prove_and_fill_all_read_the_versions_index(builds: list[int]) -> None:
    assert len(TEXT) > INLINE_CHARS  # indexed by the worker thread, not on the loop
    engines: list[FakeEngine] = []

    async def factory(settings: Settings) -> FakeEngine:
        engines.append(FakeEngine(status="failed", settings=settings))
        return engines[-1]

    server = build_server(engine_factory=factory)
    server.protocol.set_writer(io.BytesIO())  # what the server tells the editor goes nowhere
    server.protocol.client_capabilities = lsp.ClientCapabilities()  # what initialize sets: no progress, no edits
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=3, text=TEXT))
    command: Any = server.protocol.fm.commands

    line = TEXT.count("\n", 0, TEXT.index("theorem b"))
    proved = await command[PROVE]({"uri": URI, "line": line, "character": 3})
    assert proved["status"] == "failed" and "no verified proof of `b`" in proved["message"]
    filled = await command[FILL_ALL]({"uri": URI})
    assert filled["status"] == "failed" and filled["total"] == 2

    (engine,) = engines
    assert [t.decl_name for t in engine.searched] == ["b", "b", "a"]  # prove b; fill all, last first
    assert engine.searched[0].version == 3
    assert builds == [len(TEXT)] and server.docs.indexer.builds == 1  # one build, in the worker, for all three
    await server.aclose()
