"""The proof cache (core/cache.py): what its key depends on (the toolchain, the file before the target, the goal up
to spacing), and a corrupt cache file read as an empty cache. Hits re-verified: tests/engine/test_engine.py."""

from __future__ import annotations

from lean_copilot_py.core.cache import ProofCache, cache_key
from lean_copilot_py.core.types import Candidate
from tests.helpers import make_target


def test_cache_key_parts():
    t = make_target(goal="n : Nat\n⊢ n + 0 = n")
    assert cache_key(t, "a") != cache_key(t, "b")
    other = make_target(text="import Mathlib\nopen Nat\n\ntheorem foo (n : Nat) : n + 0 = n := by\n  sorry\n",
                        goal=t.goal)
    assert cache_key(t, "a") != cache_key(other, "a")  # a different file prefix
    spaced = make_target(goal="n : Nat\n⊢  n + 0 = n ")
    assert cache_key(t, "a") == cache_key(spaced, "a")


async def test_corrupt_cache_file_is_empty(tmp_path):
    (tmp_path / "proofs.json").write_text("{not json")
    c = ProofCache(tmp_path)
    assert await c.get("x") is None
    await c.put("x", Candidate("by\n  rfl", origin="automation:rfl"))
    assert (await ProofCache(tmp_path).get("x")).proof == "by\n  rfl"
