"""Document sync (server/documents.py): incremental changes in UTF-16 columns, the Lean documents kept (and the
others not), listeners told of every change."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from lean_copilot_py.server.documents import DocumentStore, apply_change


def test_incremental_change_with_astral_characters() -> None:
    text = "a 😀 b\nsecond\n"
    change = lsp.TextDocumentContentChangePartial(
        range=lsp.Range(lsp.Position(0, 5), lsp.Position(1, 3)), text="X"
    )  # UTF-16 col 5 is after "😀 " -> code point 4
    assert apply_change(text, change) == "a 😀 Xond\n"
    whole = lsp.TextDocumentContentChangeWholeDocument(text="new")
    assert apply_change(text, whole) == "new"


def test_document_store_languages_and_listeners() -> None:
    store = DocumentStore()
    seen: list[str] = []
    store.on_change(lambda d: seen.append(d.text))
    assert store.open(lsp.TextDocumentItem(uri="file:///a.py", language_id="python", version=1, text="x")) is None
    for lang in ("lean4", "lean"):
        doc = store.open(lsp.TextDocumentItem(uri=f"file:///{lang}.lean", language_id=lang, version=1, text="ab"))
        assert doc is not None and doc.path == Path(f"/{lang}.lean")
    store.change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri="file:///lean.lean", version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(0, 1), lsp.Position(0, 1)), text="1"),
                lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(0, 3), lsp.Position(0, 3)), text="2"),
            ],
        )
    )
    doc = store.get("file:///lean.lean")
    assert doc is not None and doc.text == "a1b2" and doc.version == 2
    assert seen == ["a1b2"]
