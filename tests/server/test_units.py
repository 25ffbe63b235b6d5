"""In-process unit tests of the server's pure parts: positions, document sync, settings options, the engine
holder, the search registry, relocating a target after an edit."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from lean_copilot_py.core.geometry import relocate
from lean_copilot_py.core.targets import declaration_to_prove, find_targets
from lean_copilot_py.core.types import Pos
from lean_copilot_py.engine.holder import EngineHolder
from lean_copilot_py.server.documents import DocumentStore, apply_change
from lean_copilot_py.server.options import editor_options
from lean_copilot_py.server.positions import cp_to_utf16, to_core, to_lsp, utf16_to_cp
from lean_copilot_py.server.searches import SearchRegistry, result
from lean_copilot_py.settings import Settings


@pytest.mark.parametrize(
    ("line", "utf16", "cp"),
    [("abc", 2, 2), ("𝔽x", 2, 1), ("𝔽x", 3, 2), ("a😀b", 3, 2), ("a😀b", 2, 2), ("ℕ → ℕ", 4, 4), ("x", 9, 1)],
)
def test_utf16_code_point_columns(line: str, utf16: int, cp: int) -> None:
    assert utf16_to_cp(line, utf16) == cp


def test_round_trip_every_column() -> None:
    text = "theorem 𝔽 (h : α ≤ β) : 😀 = 😀 := by\n  sorry\n"
    line = text.split("\n")[0]
    for col in range(len(line) + 1):
        assert utf16_to_cp(line, cp_to_utf16(line, col)) == col
        assert to_core(text, to_lsp(text, Pos(0, col))) == Pos(0, col)


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


def test_editor_options_shapes() -> None:
    inner = {"search": {"attempts": 3}, "model": {"endpoint": None}}
    assert editor_options({"leanCopilot": inner}) == {"search": {"attempts": 3}, "model": {}}
    assert editor_options(inner) == {"search": {"attempts": 3}, "model": {}}
    assert editor_options(None) is None and editor_options([1]) is None


class Closing:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_engine_holder_is_lazy_and_closes_a_replaced_engine_when_idle() -> None:
    made: list[Closing] = []

    async def factory(settings: Settings) -> Any:
        made.append(Closing(settings.search.attempts))
        return made[-1]

    holder = EngineHolder(factory, Settings())
    assert made == []  # nothing starts until first use
    async with holder.lease() as first:
        assert holder.replace_settings(Settings.model_validate({"search": {"attempts": 2}}))
        assert not first.closed  # still in use by a running search
        async with holder.lease() as second:
            assert second is not first and second.n == 2
    assert first.closed and not second.closed
    assert not holder.replace_settings(Settings.model_validate({"search": {"attempts": 2}}))  # same: kept
    await holder.aclose()
    assert second.closed
    with pytest.raises(RuntimeError):
        async with holder.lease():
            pass


async def test_registry_join_cancel_and_waiters() -> None:
    counts: list[int] = []
    reg = SearchRegistry(counts.append)
    gate = asyncio.Event()

    async def body(s: Any) -> dict[str, Any]:
        await gate.wait()
        return result("proved", s.id, "ok")

    search = reg.start("k", "foo", body)
    assert reg.find("k") is search and reg.count == 1
    w1 = asyncio.ensure_future(reg.wait(search, "req-1"))
    w2 = asyncio.ensure_future(reg.wait(search, "req-2"))
    await asyncio.sleep(0)
    assert reg.request_cancelled("req-1")  # one of two waiters gone: the search goes on
    await asyncio.sleep(0)
    assert not search.task.done()
    gate.set()
    assert (await w2)["status"] == "proved"
    await w1  # the cancelled request's handler still ends (pygls answers it with RequestCancelled)
    await asyncio.sleep(0)
    assert counts == [1, 0] and reg.count == 0

    gate2 = asyncio.Event()
    search = reg.start("k2", "bar", lambda s: _wait_then(gate2, s))
    waiter = asyncio.ensure_future(reg.wait(search, "only"))
    await asyncio.sleep(0)
    reg.request_cancelled("only")  # the last waiter gone: the search is cancelled
    assert (await waiter)["status"] == "cancelled"


async def _wait_then(gate: asyncio.Event, s: Any) -> dict[str, Any]:
    await gate.wait()
    return result("proved", s.id, "")


TEXT = "theorem foo (n : Nat) : n + 0 = n := by\n  intro\n  exact rfl\n\ntheorem bar : True := by\n  sorry\n"


def test_relocate_after_an_edit_above() -> None:
    path = Path("/p/Demo.lean")
    target = declaration_to_prove(path, TEXT, Pos(4, 3))
    assert target is not None and target.decl_name == "bar"
    new_text = "-- 😀 added\n" + TEXT
    moved = relocate(target, new_text, version=7)
    assert moved is not None and moved.text == new_text and moved.version == 7
    assert moved.proof_span == dataclasses.replace(target.proof_span).shifted(1)
    assert relocate(target, TEXT.replace("sorry", "trivial")) is None  # the declaration itself changed


def test_relocate_a_target_core_targets_does_not_list() -> None:
    # `foo` has an empty proof and no sorry: find_targets does not list it, relocation still works.
    text = "theorem foo (n : Nat) : n + 0 = n := by\n"
    path = Path("/p/Demo.lean")
    target = declaration_to_prove(path, text, Pos(0, 3))
    assert target is not None and not find_targets(path, text)
    moved = relocate(target, "\n\n" + text)
    assert moved is not None and moved.proof_span == target.proof_span.shifted(2)
