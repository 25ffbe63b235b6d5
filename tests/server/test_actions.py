"""Code actions read each document version's index, built once: the outline of a version is computed on
the first request and reused by every later one, even while searches fill the core's small outline cache
with other texts; a new version is indexed once again. The answers are the same as without the index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lsprotocol import types as lsp

from lean_copilot_py.core import outline as outline_mod
from lean_copilot_py.server.actions import FILL_ALL_TITLE, FILL_SORRY_TITLE, PROVE_TITLE
from lean_copilot_py.server.app import build_server

URI = "file:///proj/Big.lean"


def _theorems(n: int) -> str:
    return "".join(f"theorem t_{i} (a : N) : Eq a a := by\n  sorry\n\n" for i in range(n))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts outline builds (the lexing and parsing of a whole text)."""
    seen: list[int] = []
    real = outline_mod._build

    def counting(text: str) -> Any:
        seen.append(len(text))
        return real(text)

    monkeypatch.setattr(outline_mod, "_build", counting)
    outline_mod._outline_cached.cache_clear()
    return seen


def _handler() -> tuple[Any, Callable[[int, int], list[str]]]:
    server = build_server()
    handler = server.protocol.fm.features[lsp.TEXT_DOCUMENT_CODE_ACTION]

    def titles(line: int, character: int) -> list[str]:
        at = lsp.Position(line, character)
        params = lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=URI),
            range=lsp.Range(at, at),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
        return [a.title for a in handler(params)]

    return server, titles


def test_a_version_is_indexed_once_and_reused(builds: list[int]) -> None:
    server, titles = _handler()
    text = _theorems(300)
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=1, text=text))
    for i in range(0, 300, 7):
        assert titles(3 * i, 2) == [PROVE_TITLE, FILL_ALL_TITLE]  # on the theorem's line
        assert titles(3 * i + 1, 3) == [PROVE_TITLE, FILL_SORRY_TITLE, FILL_ALL_TITLE]  # on its sorry
        assert titles(3 * i + 2, 0) == [FILL_ALL_TITLE]  # the blank line after it: no declaration
    assert builds == [len(text)]

    # Searches outline many small texts (candidates, headers): the core's cache forgets the document,
    # the document's index does not.
    for k in range(40):
        outline_mod.outline(f"theorem c{k} : True := by\n  trivial\n")
    assert titles(30, 2) == [PROVE_TITLE, FILL_ALL_TITLE]
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
        assert titles(1, 3) == [FILL_ALL_TITLE]  # t_0 has a proof now
        assert titles(4, 3) == [PROVE_TITLE, FILL_SORRY_TITLE, FILL_ALL_TITLE]
    assert builds.count(new_len) == 1 and len(builds) == 1 + 40 + 1


def test_fill_all_is_offered_only_with_a_sorry(builds: list[int]) -> None:
    server, titles = _handler()
    server.docs.open(
        lsp.TextDocumentItem(uri=URI, language_id="lean4", version=1, text="theorem a : True := True.intro\n")
    )
    assert titles(0, 2) == []
    server.docs.open(lsp.TextDocumentItem(uri=URI, language_id="lean4", version=2, text="theorem a : True :=\n"))
    assert titles(0, 2) == [PROVE_TITLE]  # a missing proof is a target of "prove", not a sorry
