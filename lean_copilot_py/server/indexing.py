"""One index per document version (line starts, outline, targets), built once and off the event loop.

Indexing is lexing the whole text: ~1 s per MB. On the loop that would stall every other message (a
$/cancelRequest, SIGTERM, `exit`) for that long, and an editor asks for code actions after every keystroke.
So a version above ``INLINE_CHARS`` is indexed by one daemon worker thread, one version at a time, and a
version already superseded by an edit when its turn comes is skipped: typing fast in a large file costs
one build at a time, never a pile of them (each holds hundreds of MB of tokens while it runs).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

from ..core.lines import LineIndex
from ..core.outline import Outline, outline
from ..core.targets import find_targets, has_targets
from ..core.types import Target

log = logging.getLogger(__name__)

INLINE_CHARS = 32_000  # ~25 ms to index: cheaper on the loop than a hand-over to the worker


class DocumentIndex:
    """What the text-only features need from one version of a document, each part computed on first use."""

    def __init__(self, path: Path, text: str, version: int | None = None) -> None:
        self.path = path
        self.text = text
        self.version = version  # the editor's version of ``text``
        self._superseded = False
        self._frozen = False  # its tokens are out of the cyclic collector's sight (_freeze_tokens)
        self._outline: Outline | None = None
        self._lock = threading.Lock()  # the loop and the worker never build one index twice
        self._targets: tuple[Target, ...] | None = None
        self._has_targets: bool | None = None
        self.scheduled: concurrent.futures.Future[bool] | None = None

    @property
    def superseded(self) -> bool:
        """The document has a newer text (or was closed)."""
        return self._superseded

    @superseded.setter
    def superseded(self, value: bool) -> None:
        with _freezing:  # the worker may be freezing this very index now
            self._superseded = value
            if value and self._frozen:
                self._frozen = False
                _thaw_one()

    @property
    def built(self) -> bool:
        return self._outline is not None

    @property
    def outline(self) -> Outline:
        if self._outline is None:
            with self._lock:
                if self._outline is None:
                    o = outline(self.text)
                    o.lines, o.decl_starts  # noqa: B018 (built here, not on the first code action)
                    self._outline = o
        return self._outline

    @property
    def lines(self) -> LineIndex:
        return self.outline.lines

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every sorry target of this version (core.targets.find_targets)."""
        if self._targets is None:
            self._targets = tuple(find_targets(self.path, self.text, o=self.outline))
        return self._targets

    @property
    def has_targets(self) -> bool:
        if self._has_targets is None:
            self._has_targets = has_targets(self.outline)
        return self._has_targets


# gc.freeze and gc.unfreeze are process-wide: they move every tracked object at once. So one lock orders the worker's
# freeze against the loop's supersede, and a count says how many indexes still want to be frozen.
_freezing = threading.Lock()
_frozen_live = 0  # indexes frozen and not superseded
_refreeze_pending = False  # an unfreeze also thawed live indexes: freeze again once a full collection has run


def _thaw_one() -> None:
    """An index was superseded (``_freezing`` held): back into the collector's sight, with whatever cyclic garbage
    was frozen alongside. Other live indexes' tokens thaw too (gc.unfreeze cannot choose): they are frozen again
    after the next full collection, which is the one that reclaims that garbage (freezing at once would keep it)."""
    global _frozen_live, _refreeze_pending
    _frozen_live -= 1
    _refreeze_pending = _frozen_live > 0
    gc.unfreeze()


def _refreeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    # A gc callback runs inside whichever allocation triggered the collection, maybe while ``_freezing`` is held:
    # no lock here, only flags (a stale read at worst freezes once too often, undone by the check after it).
    global _refreeze_pending
    if phase != "stop" or info.get("generation") != 2 or not _refreeze_pending:
        return
    _refreeze_pending = False
    gc.freeze()
    if _frozen_live <= 0:  # the last live index was superseded meanwhile
        gc.unfreeze()


gc.callbacks.append(_refreeze_after_full_collection)


def _freeze_tokens(index: DocumentIndex) -> None:
    """A large index holds millions of tokens, and every full collection walks all of them again: ~350 ms on a
    2 MB document (measured, loaded 2-core VM), a stall of the loop whenever requests allocate enough (a code
    action carrying a thousand diagnostics triggered one every ~40 requests). Frozen (gc.freeze: out of the
    collector's sight, still freed by reference counting) until the index is superseded, when they are
    unfrozen again so that nothing cyclic frozen with them stays unreclaimed."""
    global _frozen_live, _refreeze_pending
    with _freezing:
        if index.superseded or index._frozen:
            return
        gc.freeze()  # also re-freezes any live index a supersede thawed
        index._frozen = True
        _frozen_live += 1
        _refreeze_pending = False


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Lexing a large text allocates millions of tokens, and every few thousand allocations the cyclic
    collector walks all of them again: with it off, a 2 MB index builds in 2.1 s instead of 5.1 s (measured,
    loaded 2-core VM). Tokens hold no cycles (reference counting frees them); the collector is back on
    right after, for every thread."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class IndexWorker:
    """The daemon thread that builds large indexes (started on first use)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[DocumentIndex] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.builds = 0  # indexes built here (tests count them)
        self.skipped = 0  # superseded before their turn

    def submit(self, index: DocumentIndex) -> concurrent.futures.Future[bool]:
        """A future that is True once ``index`` is built, False if it was superseded first."""
        with self._start:
            if index.scheduled is None:
                index.scheduled = concurrent.futures.Future()
                self._queue.put(index)
                if self._thread is None:
                    # A daemon: a build in progress must not hold the process at exit.
                    self._thread = threading.Thread(target=self._run, name="lean-copilot-index", daemon=True)
                    self._thread.start()
            return index.scheduled

    def _run(self) -> None:
        while True:
            index = self._queue.get()
            fut = index.scheduled
            assert fut is not None
            if not fut.set_running_or_notify_cancel():
                continue
            if index.superseded and not index.built:
                self.skipped += 1
                fut.set_result(False)
                continue
            try:
                with _no_cyclic_gc():
                    index.outline  # noqa: B018
                _freeze_tokens(index)
                self.builds += 1
                fut.set_result(True)
            except BaseException as exc:  # outline() never raises by contract; keep the worker alive anyway
                log.exception("indexing %s failed", index.path)
                fut.set_exception(exc)

    async def ready(self, index: DocumentIndex) -> bool:
        """Wait until ``index`` is built (building it here when it is small); False if it was superseded
        before it got built (the caller's answer would be about an old text)."""
        if index.built:
            return True
        if len(index.text) <= INLINE_CHARS:
            index.outline  # noqa: B018
            return True
        # shield: a cancelled request must not cancel the build other requests for this version wait on
        return await asyncio.shield(asyncio.wrap_future(self.submit(index)))
