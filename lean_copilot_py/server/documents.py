"""The server's own copy of every open Lean document.

pygls keeps a workspace too, but we keep our own plain-str text so that the core (which works in code
points) never sees pygls objects, and so that "has the target's text changed since the search began?" is
a plain string comparison.

Each version of a document is indexed once (line starts, outline, targets; server/indexing.py), lazily,
and the index lives with the document: code actions on a large file then cost binary searches instead of
re-reading the file, and the outline cannot be evicted by the core's small text-keyed cache while searches
use it for candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from .indexing import DocumentIndex, IndexWorker
from .positions import offset_of

log = logging.getLogger(__name__)

LEAN_LANGUAGE_IDS = frozenset({"lean4", "lean"})


@dataclass
class Document:
    uri: str
    path: Path
    version: int | None
    text: str
    _index: DocumentIndex | None = field(default=None, repr=False, compare=False)

    @property
    def index(self) -> DocumentIndex:
        """The index of the current text (a new one, built lazily, once the text changed)."""
        if self._index is None or self._index.text is not self.text:
            if self._index is not None:
                self._index.superseded = True
            self._index = DocumentIndex(self.path, self.text, self.version)
        return self._index


def uri_to_path(uri: str) -> Path:
    fs = to_fs_path(uri)
    return Path(fs) if fs else Path(uri)


def apply_change(text: str, change: lsp.TextDocumentContentChangeEvent) -> str:
    """One content change (incremental or whole-document) applied to ``text``."""
    if isinstance(change, lsp.TextDocumentContentChangePartial):
        start = offset_of(text, change.range.start)
        end = offset_of(text, change.range.end)
        if end < start:
            start, end = end, start
        return text[:start] + change.text + text[end:]
    return change.text


ChangeListener = Callable[[Document], None]


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}
        self._listeners: list[ChangeListener] = []
        self.indexer = IndexWorker()

    async def indexed(self, doc: Document) -> DocumentIndex | None:
        """The built index of ``doc``'s current text; None when the text changed (or the document was
        closed) before it was built: an answer then would be about a text the editor no longer shows."""
        index = doc.index
        if await self.indexer.ready(index) and not index.superseded:
            return index
        return None

    async def current_index(self, uri: str) -> DocumentIndex | None:
        """The built index of the newest text of ``uri`` (waiting for it, and again when the text changes
        meanwhile): what a command finds its targets in. None when the document is not open (any more)."""
        while (doc := self.get(uri)) is not None:
            index = await self.indexed(doc)
            if index is not None:
                return index
        return None

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener`` after every change or close (used to cancel requests made stale by typing)."""
        self._listeners.append(listener)

    def off_change(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def all(self) -> list[Document]:
        return list(self._docs.values())

    def __contains__(self, uri: str) -> bool:
        return uri in self._docs

    def open(self, item: lsp.TextDocumentItem) -> Document | None:
        if item.language_id not in LEAN_LANGUAGE_IDS:
            log.debug("ignoring %s (languageId %s)", item.uri, item.language_id)
            return None
        doc = Document(item.uri, uri_to_path(item.uri), item.version, item.text)
        old = self._docs.get(item.uri)
        if old is not None and old._index is not None:
            old._index.superseded = True
        self._docs[item.uri] = doc
        return doc

    def change(self, params: lsp.DidChangeTextDocumentParams) -> Document | None:
        doc = self._docs.get(params.text_document.uri)
        if doc is None:
            return None
        text = doc.text
        for change in params.content_changes:
            text = apply_change(text, change)
        doc.text = text
        doc.version = params.text_document.version
        if doc._index is not None:
            doc._index.superseded = True
        self._notify(doc)
        return doc

    def close(self, uri: str) -> None:
        doc = self._docs.pop(uri, None)
        if doc is not None:
            if doc._index is not None:
                doc._index.superseded = True
            self._notify(doc)

    def _notify(self, doc: Document) -> None:
        for listener in self._listeners:
            try:
                listener(doc)
            except Exception:  # a listener's bug must not break document sync
                log.exception("document listener failed")
