"""Which workloads `lean-copilot bench` runs: the full set (minutes) and the smoke set CI runs (seconds)."""

from __future__ import annotations

from .heavy import heavy_tailed, seed_story
from .workload import FULL, SMOKE, Workload


def full_set() -> list[Workload]:
    # Five draws of the heavy-tailed workload, seeds fixed in advance: one draw of a heavy tail says little on
    # its own (in some, attempt 1 happens to have the fastest path, so 8 attempts cannot beat 1), so the
    # figure held to the targets is the total over the draws, like a mean time to proof over a problem set.
    return [FULL, seed_story(), *(heavy_tailed(f"heavy-tailed-{s}", seed=s) for s in (1, 2, 3, 4, 5))]


def smoke_set() -> list[Workload]:
    # The same shapes, smaller and faster: structure and sanity, not the targets (fixed costs — starting Lean,
    # opening streams — weigh far more in a run this short, and a faster model rate would make the fake model
    # server and our stream parsing compete for a small machine's cores).
    return [SMOKE, seed_story("seed-story-smoke", attempts=3, time_scale=0.01, tok_per_s=800.0),
            heavy_tailed("heavy-tailed-smoke", attempts=3, time_scale=0.02, tok_per_s=800.0, seed=3)]
