"""Which files a `prove PATH…` run covers: the named files, and every .lean file under named folders
(build and dependency folders skipped)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

# Lake's build output and fetched dependencies are not the user's sources.
SKIP_DIRS = {".lake", "lake-packages", "build", ".git", ".elan", "node_modules", ".venv"}


class PathProblem(Exception):
    pass


def lean_files(paths: Sequence[Path]) -> list[Path]:
    """Resolved .lean files in a stable order (as named, folders walked sorted), without duplicates."""
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        p = p.resolve()
        if p not in seen:
            seen.add(p)
            out.append(p)

    for raw in paths:
        p = raw.expanduser()
        if p.is_file():
            if p.suffix != ".lean":
                raise PathProblem(f"{raw} is not a .lean file")
            add(p)
        elif p.is_dir():
            for folder, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(".lean"):
                        add(Path(folder) / name)
        else:
            raise PathProblem(f"{raw}: no such file or folder")
    return out


def display_name(path: Path, base: Path | None) -> str:
    """The name a report and a diff use: relative to the Lake root (or cwd) when possible."""
    for root in (base, Path.cwd()):
        if root is None:
            continue
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()
