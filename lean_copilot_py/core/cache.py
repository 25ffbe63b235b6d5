"""Proofs found before, keyed by (goal text, hash of the file before the declaration, toolchain).

Kept in memory and in one JSON file under the cache folder. A hit is never trusted: it is re-verified by
the checker (strict screen + check) before it is returned, and dropped when Lean no longer accepts it.
File I/O runs in a thread; a corrupt or unreadable file is treated as empty.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from .types import Candidate, Target, Verdict

CACHE_FILE = "proofs.json"
VERSION = 1


def _norm(text: str) -> str:
    return " ".join(text.split())


def cache_key(target: Target, toolchain: str | None) -> str:
    """The goal (or, before Lean answered, the statement), the file prefix and the toolchain. The target
    kind is part of the key because a DECLARATION proof (`by ...`) and a SORRY proof (tactics) differ."""
    goal = _norm(target.goal) if target.goal else "statement:" + _norm(target.statement)
    prefix = hashlib.sha256(target.prefix.encode("utf-8", "surrogatepass")).hexdigest()
    raw = json.dumps([VERSION, target.kind.value, goal, prefix, toolchain or ""], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ProofCache:
    def __init__(self, directory: Path | None, *, max_entries: int = 5000) -> None:
        self.path = directory / CACHE_FILE if directory is not None else None
        self.max_entries = max_entries
        self._entries: dict[str, dict[str, str]] = {}
        self._loaded = False
        self._lock = asyncio.Lock()

    async def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.path is None:
            return
        data = await asyncio.to_thread(_read, self.path)
        entries = data.get("entries") if isinstance(data, dict) and data.get("version") == VERSION else None
        if isinstance(entries, dict):
            for key, e in entries.items():
                if isinstance(e, dict) and isinstance(e.get("proof"), str):
                    self._entries[key] = {k: str(v) for k, v in e.items()}

    async def get(self, key: str) -> Candidate | None:
        async with self._lock:
            await self._load()
            e = self._entries.get(key)
        if e is None:
            return None
        return Candidate(proof=e["proof"], helpers=e.get("helpers", ""), origin=f"cache:{e.get('origin', '')}")

    async def put(self, key: str, candidate: Candidate) -> None:
        async with self._lock:
            await self._load()
            origin = candidate.origin.removeprefix("cache:")
            self._entries[key] = {"proof": candidate.proof, "helpers": candidate.helpers, "origin": origin}
            while len(self._entries) > self.max_entries:  # oldest first (dicts keep insertion order)
                self._entries.pop(next(iter(self._entries)))
            await self._save()

    async def drop(self, key: str) -> None:
        async with self._lock:
            await self._load()
            if self._entries.pop(key, None) is not None:
                await self._save()

    async def _save(self) -> None:
        if self.path is None:
            return
        payload = {"version": VERSION, "entries": dict(self._entries)}
        await asyncio.to_thread(_write_atomic, self.path, payload)

    async def lookup(
        self, key: str, verify: Callable[[Candidate], Awaitable[Verdict]]
    ) -> tuple[Candidate, Verdict] | None:
        """A cached proof that Lean accepts *now*; a stale entry is dropped."""
        candidate = await self.get(key)
        if candidate is None:
            return None
        verdict = await verify(candidate)
        if not verdict.proved:
            await self.drop(key)
            return None
        return candidate, verdict


def _read(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_atomic(path: Path, payload: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".proofs-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that can't be written is only a slower cache
