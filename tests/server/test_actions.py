"""Code actions read each document version's index, built once: the outline of a version is computed on
the first request and reused by every later one, even while searches fill the core's small outline cache
with other texts; a new version is indexed once again. A large version is indexed off the event loop, once
however many requests wait for it, and a version superseded before its turn is not indexed at all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types as lsp

from lean_copilot_py.core import outline as outline_mod
from lean_copilot_py.server.actions import FILL_ALL_TITLE, FILL_SORRY_TITLE, PROVE_TITLE
from lean_copilot_py.server.app import build_server

URI = "file:///proj/Big.lean"


def _theorems(n: int) -> str:
    return "".join(f"theorem t_{i} (a : N) : Eq a a := by\n  sorry\n\n" for i in range(n))


Titles = Callable[[int, int], Awaitable[list[str]]]


def _handler() -> tuple[Any, Titles]:
    server = build_server()
    handler = server.protocol.fm.features[lsp.TEXT_DOCUMENT_CODE_ACTION]

    async def titles(line: int, character: int) -> list[str]:
        at = lsp.Position(line, character)
        params = lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=URI),
            range=lsp.Range(at, at),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
        return [a.title for a in await handler(params)]

    return server, titles


def _change(server: Any, version: int, text: str) -> None:
    server.docs.change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=URI, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def test_a_version_is_indexed_once_and_reused(builds: list[int]) -> None:
    server, titles = _handler()
    text = _theorems(300)
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=1, text=text))
    for i in range(0, 300, 7):
        assert await titles(3 * i, 2) == [PROVE_TITLE, FILL_ALL_TITLE]  # on the theorem's line
        assert await titles(3 * i + 1, 3) == [PROVE_TITLE, FILL_SORRY_TITLE, FILL_ALL_TITLE]  # on its sorry
        assert await titles(3 * i + 2, 0) == [FILL_ALL_TITLE]  # the blank line after it: no declaration
    assert builds == [len(text)]

    # Searches outline many small texts (candidates, headers): the core's cache forgets the document,
    # the document's index does not.
    for k in range(40):
        outline_mod.outline(f"theorem c{k} : True := by\n  trivial\n")
    assert await titles(30, 2) == [PROVE_TITLE, FILL_ALL_TITLE]
    assert builds.count(len(text)) == 1

    # A new version is indexed once more, and the answers follow the new text.
    server.docs.change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(lsp.Position(1, 2), lsp.Position(1, 7)), text="exact Eq.refl a"
                )
            ],
        )
    )
    new_len = len(server.docs.get(URI).text)
    for _ in range(5):
        assert await titles(1, 3) == [FILL_ALL_TITLE]  # t_0 has a proof now
        assert await titles(4, 3) == [PROVE_TITLE, FILL_SORRY_TITLE, FILL_ALL_TITLE]
    assert builds.count(new_len) == 1 and len(builds) == 1 + 40 + 1


async def test_fill_all_is_offered_only_with_a_sorry(builds: list[int]) -> None:
    server, titles = _handler()
    server.docs.open(
        lsp.TextDocumentItem(uri=URI, language_id="lean4", version=1, text="theorem a : True := True.intro\n")
    )
    assert await titles(0, 2) == []
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=2, text="theorem a : True :=\n"))
    assert await titles(0, 2) == [PROVE_TITLE]  # a missing proof is a target of "prove", not a sorry


async def test_a_large_version_is_indexed_off_the_loop_once(builds: list[int]) -> None:
    server, titles = _handler()
    text = _theorems(8000)  # ~360 kB: well above what is indexed on the loop
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=1, text=text))
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    tick = asyncio.create_task(ticker())
    answers = await asyncio.gather(*(titles(3 * i + 1, 3) for i in range(0, 8000, 400)))
    done.set()
    await tick
    assert all(a == [PROVE_TITLE, FILL_SORRY_TITLE, FILL_ALL_TITLE] for a in answers)
    assert builds == [len(text)] and server.docs.indexer.builds == 1  # 20 requests, one build, in the worker
    assert ticks > 1  # the loop ran other work while the index was being built


async def test_a_superseded_version_is_not_indexed(builds: list[int]) -> None:
    server, titles = _handler()
    old, new = _theorems(8000), _theorems(8001)
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=1, text=old))
    first = asyncio.create_task(titles(1, 3))  # version 1 is being indexed ...
    await asyncio.sleep(0)
    _change(server, 2, old + "\n")  # ... when the user types: v2 is superseded before its turn
    second = asyncio.create_task(titles(1, 3))
    await asyncio.sleep(0)
    _change(server, 3, new)
    assert await titles(1, 3) == [PROVE_TITLE, FILL_SORRY_TITLE, FILL_ALL_TITLE]  # the latest version
    assert await first == [] and await second == []  # answers about texts the editor no longer shows
    assert len(new) in builds and len(old) + 1 not in builds
    assert server.docs.indexer.skipped >= 1


def test_the_core_keeps_at_most_two_large_outlines(builds: list[int]) -> None:
    # Each is ~100 times its text in memory; typing in a large file makes a new text per keystroke.
    texts = [_theorems(6000 + i) for i in range(5)]
    assert all(len(t) > outline_mod.LARGE_TEXT for t in texts)
    for t in texts:
        outline_mod.outline(t)
    assert outline_mod._outline_large.cache_info().currsize == 2
    outline_mod.outline(texts[-1])
    assert len(builds) == 5  # the latest is still cached
