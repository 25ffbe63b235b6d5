"""The transcript folder stays bounded (core/pruning.py): oldest and expired pairs go, recent ones and other files
stay, at most one scan per interval and off the event loop, and the engine prunes after a search."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from lean_copilot_py.core import pruning
from lean_copilot_py.core.pruning import Retention, TranscriptPruner, prune
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.settings import Settings
from tests.fakes.lake_project import make_lake_project
from tests.helpers import make_target

from .conftest import FakeChecker, failed

DAY = 86400.0
NOW = 1_800_000_000.0


def pair(directory: Path, i: int, *, age_s: float, size: int = 1000) -> str:
    """A transcript pair named as core/transcript.py names them, ``age_s`` old."""
    stem = f"20260101-{i:06d}-T.thm{i}-s{i}"
    for suffix in (".md", ".json"):
        path = directory / (stem + suffix)
        path.write_bytes(b"x" * size)
        os.utime(path, (NOW - age_s, NOW - age_s))
    return stem


def stems(directory: Path) -> set[str]:
    return {p.name.rsplit(".", 1)[0] for p in directory.iterdir() if pruning.TRANSCRIPT_NAME.match(p.name)}


def test_oldest_pairs_go_first_past_the_size_limit(tmp_path: Path) -> None:
    made = [pair(tmp_path, i, age_s=100.0 * (10 - i)) for i in range(10)]  # made[9] is the newest
    removed = prune(tmp_path, Retention(max_bytes=5000, max_age_s=None, protect_s=0), now=NOW)
    assert stems(tmp_path) == set(made[8:])  # two pairs of 2000 bytes fit under 5000, a third would not
    assert len(removed) == 16 and all(p.suffix in (".md", ".json") for p in removed)


def test_pairs_past_the_age_limit_go(tmp_path: Path) -> None:
    old = [pair(tmp_path, i, age_s=40 * DAY) for i in range(3)]
    young = [pair(tmp_path, 10 + i, age_s=2 * DAY) for i in range(3)]
    prune(tmp_path, Retention(max_bytes=None, max_age_s=30 * DAY), now=NOW)
    assert stems(tmp_path) == set(young) and not set(old) & stems(tmp_path)


def test_the_pair_just_written_and_recent_ones_stay(tmp_path: Path) -> None:
    just_written = pair(tmp_path, 1, age_s=50 * DAY)  # e.g. a clock that jumped
    recent = pair(tmp_path, 2, age_s=5.0)  # another search may have just offered it
    older = pair(tmp_path, 3, age_s=500.0)
    prune(tmp_path, Retention(max_bytes=1, max_age_s=DAY, protect_s=60.0), keep=frozenset({just_written}), now=NOW)
    assert stems(tmp_path) == {just_written, recent}
    assert older not in stems(tmp_path)


def test_only_our_own_files_are_ever_removed(tmp_path: Path) -> None:
    # transcript_dir pointed at a folder of the user's: nothing but transcripts may go.
    notes = tmp_path / "notes.md"
    notes.write_text("mine")
    folder = tmp_path / "20260101-000000-looks-like-one.md"
    folder.mkdir()
    target = tmp_path.parent / f"{tmp_path.name}-elsewhere.md"
    target.write_text("not in the folder")
    link = tmp_path / "20260101-000001-T.x-s1.md"
    link.symlink_to(target)
    for path in (notes, target):
        os.utime(path, (NOW - 99 * DAY, NOW - 99 * DAY))
    os.utime(link, (NOW - 99 * DAY, NOW - 99 * DAY), follow_symlinks=False)
    prune(tmp_path, Retention(max_bytes=1, max_age_s=1.0, protect_s=0), now=NOW)
    assert notes.read_text() == "mine" and folder.is_dir() and link.is_symlink() and target.exists()


def test_a_missing_folder_is_nothing_to_prune(tmp_path: Path) -> None:
    assert prune(tmp_path / "never-made", Retention()) == []


def test_limits_from_settings() -> None:
    assert Retention.from_limits(100, 30) == Retention(max_bytes=100 * 1024 * 1024, max_age_s=30 * DAY)
    off = Retention.from_limits(0, 0)
    assert off.max_bytes is None and off.max_age_s is None


async def test_the_pruner_scans_at_most_once_per_interval_and_off_the_loop(tmp_path: Path, monkeypatch) -> None:
    clock = [1000.0]
    threads: list[int] = []
    real_prune = pruning.prune

    def spy(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_prune(*args, **kwargs)

    monkeypatch.setattr(pruning, "prune", spy)
    pruner = TranscriptPruner(tmp_path, Retention(max_bytes=None, max_age_s=DAY, interval_s=60.0),
                              clock=lambda: clock[0])
    for i in range(50):  # a burst of searches: one scan
        await pruner.after_write(tmp_path / f"20260101-000000-T.a-s{i}.md")
    assert len(threads) == 1 and threading.get_ident() not in threads
    clock[0] += 61.0
    await pruner.after_write(None)
    assert len(threads) == 2
    assert not TranscriptPruner(tmp_path, Retention(max_bytes=None, max_age_s=None)).due()  # both limits off


async def test_the_engine_prunes_after_a_search(tmp_path: Path) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    ancient = [pair(transcripts, i, age_s=NOW - time.time() + 90 * DAY) for i in range(20)]  # 90 days old now
    settings = Settings.model_validate({
        "search": {"automation": ["rfl"], "attempts": 1, "cache": False},
        "paths": {"cache_dir": str(tmp_path / "cache"), "transcript_dir": str(transcripts),
                  "transcript_max_age_days": 30},
        "model": {"backend": "none"},
    })
    engine = Engine(settings, checker_factory=lambda root: FakeChecker(rule=lambda c: failed()))
    try:
        root = make_lake_project(tmp_path / "proj", name="p")
        res = await engine.search(make_target(path=root / "Foo.lean"))
        assert res.transcript_path is not None
        for _ in range(250):
            if not set(ancient) & stems(transcripts):
                break
            await asyncio.sleep(0.02)
        assert stems(transcripts) == {res.transcript_path.name.rsplit(".", 1)[0]}
    finally:
        await engine.aclose()
