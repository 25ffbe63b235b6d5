"""Loading a candidate's document into a slot (lean/slots.py): the same text is reused, and a slot whose imports
were rebuilt is closed and opened again."""

from __future__ import annotations

from types import SimpleNamespace

from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.lean.pool import Slot
from lean_copilot_py.settings import LeanSettings


async def test_a_slot_whose_imports_were_rebuilt_is_reopened_even_for_the_same_text(tmp_path) -> None:
    """leanclient sends no didChange for identical text, so Lean would answer from the old imports: after a
    $/lean/staleDependency the slot must be closed and opened again."""
    calls: list[tuple[str, str]] = []

    class Client:
        async def close_file(self, path: str) -> None:
            calls.append(("close", path))

        async def open(self, path: str, text: str, wait: bool, dependency_build_mode: str):
            calls.append(("open", path))
            return SimpleNamespace(version=len(calls), pinned=False, stale_imports=False)

    checker = LeanChecker(tmp_path, LeanSettings())
    slot = Slot("S_0.lean")
    await checker.slots._load(Client(), slot, "text")
    await checker.slots._load(Client(), slot, "text")
    assert calls == [("open", "S_0.lean"), ("open", "S_0.lean")]  # same text, imports fine: just reused
    slot.doc.stale_imports = True  # what leanclient records on $/lean/staleDependency
    calls.clear()
    await checker.slots._load(Client(), slot, "text")
    assert calls == [("close", "S_0.lean"), ("open", "S_0.lean")]
    assert not slot.imports_changed
