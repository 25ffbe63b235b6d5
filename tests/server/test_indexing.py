"""A large index's tokens are frozen out of the cyclic collector's sight (server/indexing.py _freeze_tokens), and
gc.freeze/gc.unfreeze are process-wide: a supersede racing the worker's freeze must not leave anything frozen, and
one index superseded must not leave another live index thawed for good, nor keep the garbage frozen with it."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from lean_copilot_py.server import indexing
from lean_copilot_py.server.indexing import DocumentIndex, _freeze_tokens


@pytest.fixture
def no_frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The freeze is process-wide: start from nothing frozen and leave nothing frozen for later tests.
    gc.unfreeze()
    monkeypatch.setattr(indexing, "_frozen_live", 0, raising=False)
    monkeypatch.setattr(indexing, "_refreeze_pending", False, raising=False)
    yield
    gc.unfreeze()


def _index(name: str) -> DocumentIndex:
    return DocumentIndex(Path(f"/proj/{name}.lean"), f"theorem {name} : True := by\n  sorry\n", 1)


def test_a_supersede_during_the_freeze_leaves_nothing_frozen(no_frozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    index = _index("a")
    real_freeze = gc.freeze
    editor = threading.Thread(target=lambda: setattr(index, "superseded", True))

    def freeze_while_the_user_types() -> None:
        editor.start()  # the loop supersedes the index while the worker is freezing it
        editor.join(0.2)
        real_freeze()

    monkeypatch.setattr(gc, "freeze", freeze_while_the_user_types)
    _freeze_tokens(index)
    monkeypatch.setattr(gc, "freeze", real_freeze)
    editor.join(5)
    assert index.superseded and not editor.is_alive()
    assert gc.get_freeze_count() == 0  # was: frozen for good, under an index already superseded


def test_superseding_one_index_refreezes_the_other_after_the_garbage_is_collected(no_frozen: None) -> None:
    class Cyclic:
        me: object

    garbage = Cyclic()
    garbage.me = garbage  # cyclic: only the collector reclaims it
    gone = weakref.ref(garbage)
    del garbage
    gc.disable()  # no collection before the freeze (a build runs with the collector off)
    try:
        a, b = _index("a"), _index("b")
        _freeze_tokens(a)
        _freeze_tokens(b)
        assert gc.get_freeze_count() > 0 and gone() is not None  # frozen with them
        a.superseded = True
        gc.collect()  # the next full collection: reclaims what was frozen alongside, then b is frozen again
        assert gone() is None
        assert gc.get_freeze_count() > 0  # was: b's tokens left in the collector's sight until another build
        b.superseded = True
        assert gc.get_freeze_count() == 0  # the last one superseded: nothing stays frozen
        gc.collect()
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
