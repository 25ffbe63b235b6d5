"""Noticing that the project's own Lean files changed, without blocking anyone.

A shadow document imports the user's modules; once one of them is edited (and rebuilt by `lake build` or by
the `dependencyBuildMode` of a freshly opened slot) the same candidate may get a different verdict, so a memo of
verdicts must not outlive the edit. Lean itself only tells open workers ($/lean/staleDependency), so the checker
also fingerprints the project's `.lean` files: a scan in a worker thread, at most every ``interval_s`` while
checks run, never on the event loop. A change is seen within about ``interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from pathlib import Path

_SKIP_DIRS = {".lake", "lake-packages", "build", ".git", "node_modules"}


def fingerprint(root: Path) -> str:
    """A digest of (path, size, mtime) of every `.lean` file under ``root`` outside build and hidden folders."""
    h = hashlib.sha1()
    entries: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            if name.endswith(".lean"):
                full = os.path.join(dirpath, name)
                with contextlib.suppress(OSError):
                    st = os.stat(full)
                    entries.append(f"{full}\x00{st.st_size}\x00{st.st_mtime_ns}")
    for entry in sorted(entries):
        h.update(entry.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


class SourceStamp:
    def __init__(self, root: Path, *, interval_s: float = 2.0) -> None:
        self.root = root
        self.interval_s = interval_s
        self._digest: str | None = None
        self._generation = 0
        self._last = float("-inf")
        self._scan: asyncio.Future[str] | None = None

    def generation(self) -> int:
        """How many changes were seen so far; starts a background scan when one is due."""
        now = time.monotonic()
        if self._scan is None and now - self._last >= self.interval_s:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return self._generation
            self._last = now
            self._scan = loop.run_in_executor(None, fingerprint, self.root)
            self._scan.add_done_callback(self._scanned)
        return self._generation

    def _scanned(self, fut: asyncio.Future[str]) -> None:
        self._scan = None
        if fut.cancelled() or fut.exception() is not None:
            return
        digest = fut.result()
        if self._digest is not None and digest != self._digest:
            self._generation += 1
        self._digest = digest

    def close(self) -> None:
        if self._scan is not None:
            self._scan.cancel()
            self._scan = None
