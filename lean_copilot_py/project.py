"""Where a Lean file lives: its Lake root, the pinned toolchain, whether `lake` can be run."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT_MARKERS = ("lakefile.toml", "lakefile.lean", "lean-toolchain")
MIN_TOOLCHAIN = (4, 24)  # leanclient's async API needs Lean >= 4.24


@dataclass(frozen=True)
class LeanProject:
    root: Path
    toolchain: str | None  # the lean-toolchain file's content, e.g. "leanprover/lean4:v4.24.0"

    @property
    def version(self) -> tuple[int, int] | None:
        return parse_toolchain_version(self.toolchain)

    @property
    def toolchain_supported(self) -> bool | None:
        v = self.version
        return None if v is None else v >= MIN_TOOLCHAIN


def parse_toolchain_version(toolchain: str | None) -> tuple[int, int] | None:
    if not toolchain:
        return None
    m = re.search(r"v(\d+)\.(\d+)", toolchain)
    return (int(m.group(1)), int(m.group(2))) if m else None


def find_lake_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding a lakefile (preferred) or a lean-toolchain."""
    path = path.expanduser().resolve()
    start = path if path.is_dir() else path.parent
    fallback: Path | None = None
    for folder in (start, *start.parents):
        if (folder / "lakefile.toml").is_file() or (folder / "lakefile.lean").is_file():
            return folder
        if fallback is None and (folder / "lean-toolchain").is_file():
            fallback = folder
    return fallback


def discover(path: Path) -> LeanProject | None:
    root = find_lake_root(path)
    if root is None:
        return None
    try:
        toolchain = (root / "lean-toolchain").read_text(encoding="utf-8").strip() or None
    except OSError:
        toolchain = None
    return LeanProject(root=root, toolchain=toolchain)


def lake_on_path() -> str | None:
    return shutil.which("lake")


def elan_on_path() -> str | None:
    return shutil.which("elan")
