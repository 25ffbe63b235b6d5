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


async def _fake_engine(settings: Settings) -> FakeEngine:
    return FakeEngine(status="failed", settings=settings)


async def test_malformed_repair_and_insert_skeleton_arguments_get_a_clear_refusal() -> None:
    # Command arguments are untrusted JSON (json.loads reads Infinity and NaN): each malformed one is refused as
    # invalid params naming what was expected, never an internal error from deep inside (and nothing is edited).
    from pygls.exceptions import JsonRpcInvalidParams

    from lean_copilot_py.server.commands import INSERT_SKELETON, REPAIR

    server = build_server(engine_factory=_fake_engine)
    server.protocol.set_writer(io.BytesIO())
    server.protocol.client_capabilities = lsp.ClientCapabilities()
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=3, text=TEXT))
    command: Any = server.protocol.fm.commands
    bad: list[tuple[str, Any]] = [
        (REPAIR, {"uri": URI, "line": float("inf"), "character": 0}),
        (REPAIR, {"uri": URI, "line": 0, "character": float("nan")}),
        (INSERT_SKELETON, {"uri": URI, "line": 0}),  # a position without its character
        (INSERT_SKELETON, {"uri": URI, "line": float("-inf"), "character": 0}),
    ]
    for name, arg in bad:
        try:
            await command[name](arg)
        except JsonRpcInvalidParams:
            continue
        raise AssertionError(f"{name} {arg} was not refused as invalid params")
    assert server.docs.get(URI) is not None and server.docs.get(URI).text == TEXT  # type: ignore[union-attr]


async def test_a_repair_whose_diagnostics_hold_absurd_numbers_still_answers() -> None:
    from lean_copilot_py.server.commands import REPAIR

    server = build_server(engine_factory=_fake_engine)
    server.protocol.set_writer(io.BytesIO())
    server.protocol.client_capabilities = lsp.ClientCapabilities()
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=3, text=TEXT))
    command: Any = server.protocol.fm.commands
    inf = {"line": float("inf"), "character": 0}
    diagnostics = [{"range": {"start": inf, "end": inf}, "severity": 1, "message": "x"}]
    answer = await command[REPAIR]({"uri": URI, "line": 0, "character": 0, "diagnostics": diagnostics})
    assert answer["status"] == "failed" and answer["message"].startswith("lean-copilot: "), answer
