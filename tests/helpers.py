"""Helpers every test package shares: one way to build a Target from text, one way to load settings layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lean_copilot_py.settings import LoadedSettings, load_settings


def load_layers(tmp_path: Path, *, user: str = "", project: str = "", env: dict[str, str] | None = None,
                editor: Any = None) -> LoadedSettings:
    """``load_settings`` on ``tmp_path/proj`` with only the layers given: ``user`` as the user's config file
    (tmp_path/user.toml), ``project`` as the project's .lean-copilot.toml, ``env`` as the whole environment."""
    user_file = tmp_path / "user.toml"
    if user:
        user_file.write_text(user)
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    if project:
        (root / ".lean-copilot.toml").write_text(project)
    return load_settings(root, environ=env or {}, editor_options=editor, user_file=user_file)
