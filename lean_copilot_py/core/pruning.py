"""Keeps the transcript folder bounded: every search writes a pair of files there, so without pruning it
grows for ever (measured: 1000 files / 34 MB after 500 searches).

Pruning removes whole pairs, oldest first, past an age or a total size. It scans the folder, so it runs
in a thread and at most once per ``interval_s`` per pruner (the first write of a session prunes at once),
never on the event loop. It only ever deletes files named like the ones core/transcript.py writes, so a
transcript_dir pointed at some other folder loses nothing else; the pair just written and anything
younger than ``protect_s`` (another search may have just offered it as "Show transcript") stay.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# <yyyymmdd>-<hhmmss>-<slug>-<search id>.md / .json, as core/transcript.py names them.
TRANSCRIPT_NAME = re.compile(r"^\d{8}-\d{6}-[A-Za-z0-9_.-]+\.(md|json)$")


@dataclass(frozen=True)
class Retention:
    max_bytes: int | None = 100 * 1024 * 1024  # None: no size limit
    max_age_s: float | None = 30 * 86400.0  # None: no age limit
    interval_s: float = 60.0  # prune at most this often
    protect_s: float = 60.0  # never remove a transcript younger than this

    @classmethod
    def from_limits(cls, max_mb: float, max_age_days: float) -> Retention:
        """The settings' form: 0 turns a limit off."""
        return cls(max_bytes=int(max_mb * 1024 * 1024) if max_mb > 0 else None,
                   max_age_s=max_age_days * 86400.0 if max_age_days > 0 else None)


@dataclass
class _Pair:
    newest: float = 0.0
    size: int = 0
    paths: list[Path] = field(default_factory=list)


def prune(directory: Path, retention: Retention, *, keep: frozenset[str] = frozenset(),
          now: float | None = None) -> list[Path]:
    """Remove transcript pairs past the limits (blocking: call it in a thread). ``keep``: stems never
    removed. Returns the removed paths."""
    now = time.time() if now is None else now
    pairs: dict[str, _Pair] = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not TRANSCRIPT_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
                pair = pairs.setdefault(entry.name.rsplit(".", 1)[0], _Pair())
                pair.newest = max(pair.newest, st.st_mtime)
                pair.size += st.st_size
                pair.paths.append(Path(entry.path))
    except OSError as exc:
        log.info("transcripts: cannot scan %s: %s", directory, exc)
        return []
    removed: list[Path] = []
    total = 0
    for stem, pair in sorted(pairs.items(), key=lambda kv: kv[1].newest, reverse=True):
        age = now - pair.newest
        protected = stem in keep or age < retention.protect_s
        too_old = retention.max_age_s is not None and age > retention.max_age_s
        too_much = retention.max_bytes is not None and total + pair.size > retention.max_bytes
        if protected or not (too_old or too_much):
            total += pair.size
            continue
        for path in pair.paths:
            try:
                path.unlink()
                removed.append(path)
            except FileNotFoundError:
                pass  # another process pruned it first
            except OSError as exc:
                log.info("transcripts: cannot remove %s: %s", path, exc)
    return removed


class TranscriptPruner:
    """One folder's pruning, rate-limited; ``after_write`` is cheap when pruning is not due."""

    def __init__(self, directory: Path, retention: Retention, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        self.retention = retention
        self._clock = clock
        self._last: float | None = None
        self._running = False

    def due(self) -> bool:
        if self._running or (self.retention.max_bytes is None and self.retention.max_age_s is None):
            return False
        return self._last is None or self._clock() - self._last >= self.retention.interval_s

    async def after_write(self, written: Path | None) -> list[Path]:
        """Prune if due, in a thread; never removes ``written``'s pair."""
        if not self.due():
            return []
        self._running = True
        self._last = self._clock()
        keep = frozenset() if written is None else frozenset({written.name.rsplit(".", 1)[0]})
        try:
            removed = await asyncio.to_thread(prune, self.directory, self.retention, keep=keep)
        finally:
            self._running = False
        if removed:
            log.info("transcripts: removed %d old files from %s", len(removed), self.directory)
        return removed
