"""A minimal Lake project on disk for tests: what project discovery and the checker need to find a root."""

from __future__ import annotations

import json
from pathlib import Path

TOOLCHAIN = "leanprover/lean4:v4.24.0"


def make_lake_project(root: Path, files: dict[str, str] | None = None, *, name: str = "proj") -> Path:
    """``root`` with a lakefile.toml, a lean-toolchain and ``files`` (relative path -> text); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "lakefile.toml").write_text(f'name = "{name}"\n', encoding="utf-8")
    (root / "lean-toolchain").write_text(TOOLCHAIN + "\n", encoding="utf-8")
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def trust_projects(config_home: Path, *roots: Path, extra: str = "") -> Path:
    """The user's own config file (``<config_home>/lean-copilot/config.toml``, as XDG_CONFIG_HOME) listing
    ``roots`` in trust.projects, so their .lean-copilot.toml may set privileged keys; ``extra``: more TOML."""
    path = config_home / "lean-copilot" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(json.dumps(str(r.resolve())) for r in roots)
    path.write_text(f"{extra}\n[trust]\nprojects = [{listed}]\n", encoding="utf-8")
    return path
