"""The fake engine's scenario: a misspelt key is an error (it would silently test the default), and the two
ways of scripting a search (one answer for all, or a proof per declaration) answer verify consistently."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate
from lean_copilot_py.testing.fake_engine import FakeEngine

TEXT = "theorem a : True := by\n  sorry\n\ntheorem b : True := by\n  sorry\n"


def test_unknown_scenario_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="verfy"):
        FakeEngine.from_scenario({"verfy": "failed"})


async def test_per_declaration_proofs_search_and_verify_alike() -> None:
    a, b = find_targets(Path("/p/A.lean"), TEXT)
    engine = FakeEngine(proofs={"a": "trivial"})
    found = await engine.search(a)
    assert found.status is SearchStatus.PROVED and found.proof is not None and found.proof.proof == "trivial"
    assert (await engine.search(b)).status is SearchStatus.FAILED
    assert (await engine.verify(a, found.proof)).proved
    assert not (await engine.verify(a, Candidate("other"))).proved
    assert not (await engine.verify(b, found.proof)).proved
    assert [t.decl_name for t in engine.searched] == ["a", "b"] and engine.max_in_flight == 1
