"""Which files a `prove PATH…` run covers: the named files, and every .lean file under named folders
(build and dependency folders skipped).

A .lean file that is a symbolic link is followed only when its target belongs to the same Lake project as
the link itself: then the target is processed (Lean runs in that project) and written in place of the
link, which stays a link. A link to anywhere else is refused: following it would run Lean in another
folder and write a file outside the project the user pointed at.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..project import find_lake_root

# Lake's build output and fetched dependencies are not the user's sources.
SKIP_DIRS = {".lake", "lake-packages", "build", ".git", ".elan", "node_modules", ".venv"}


class PathProblem(Exception):
    pass


@dataclass
class Collected:
    files: list[Path] = field(default_factory=list)  # resolved, in a stable order, without duplicates
    links: dict[Path, Path] = field(default_factory=dict)  # a followed file -> the symbolic link naming it
    refused: list[tuple[Path, str]] = field(default_factory=list)  # (the link as found, why it was not followed)


def lean_files(paths: Sequence[Path]) -> list[Path]:
    """Resolved .lean files in a stable order (as named, folders walked sorted), without duplicates."""
    return collect(paths).files


def collect(paths: Sequence[Path]) -> Collected:
    """The files of :func:`lean_files`, which of them were named by a symbolic link, and the links refused."""
    got = Collected()
    seen: set[Path] = set()

    def add(found: Path) -> None:
        p = found.resolve()
        if found.is_symlink():
            home, there = find_lake_root(found.absolute().parent), find_lake_root(p)
            if not p.is_file():
                got.refused.append((found, f"a symbolic link to {p}, which is not a file; not followed"))
                return
            if home is None or there != home:
                inside = f"this Lake project ({home})" if home else "a Lake project"
                got.refused.append((found, f"a symbolic link to {p}, which is not in {inside}; not followed"))
                return
            if p not in seen:
                got.links[p] = found.absolute()
        if p not in seen:
            seen.add(p)
            got.files.append(p)

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
    return got


def link_name(link: Path) -> str:
    """A symbolic link's own name, relative to the working folder when it is below it (not resolved)."""
    try:
        return link.absolute().relative_to(Path.cwd().absolute()).as_posix()
    except ValueError:
        return link.as_posix()


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
