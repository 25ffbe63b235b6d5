"""Editor options -> Settings, and what the user is told about their problems.

Settings are built once per change (initialize, didChangeConfiguration) with ``load_settings``; the engine
holder (engine/holder.py) then replaces the engine for new work.

The editor's options are the user's own layer, with one exception the editor itself handles: VS Code
leaves out a workspace's values of our privileged settings unless the workspace is trusted, and says
whether it is (``trust.workspace``). That trust covers the project's own .lean-copilot.toml only when
the project lies inside one of the workspace's folders (an empty window is "trusted" by default, and a
file opened there may come from anywhere).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..settings import LoadedSettings, SettingsProblem, load_settings, problem_lines

log = logging.getLogger(__name__)

SETTINGS_SECTION = "leanCopilot"
EDITOR_TRUST = "the editor trusts this workspace"
MAX_PROBLEM_POPUPS = 3  # then one more popup with the count of the rest
MAX_PROBLEM_LOG_LINES = 50


def _drop_nulls(value: Any) -> Any:
    """Editors send ``null`` for settings the user left unset: treat it as "use the default"."""
    if isinstance(value, Mapping):
        return {str(k): _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def editor_options(raw: Any) -> dict[str, Any] | None:
    """initializationOptions / didChangeConfiguration settings, wrapped in {"leanCopilot": ...} or not."""
    if not isinstance(raw, Mapping):
        return None
    inner = raw.get(SETTINGS_SECTION)
    if isinstance(inner, Mapping):
        raw = inner
    return _drop_nulls(raw)


def editor_trusts_workspace(options: Mapping[str, Any] | None) -> bool:
    section = (options or {}).get("trust")
    return isinstance(section, Mapping) and section.get("workspace") is True


def _inside(path: Path, folders: Sequence[Path]) -> bool:
    here = path.expanduser().resolve()
    return any(here == f or f in here.parents for f in (folder.expanduser().resolve() for folder in folders))


def build_settings(
    lake_root: Path | None, options: Mapping[str, Any] | None, workspace_folders: Sequence[Path] = ()
) -> LoadedSettings:
    trusted_by = None
    if lake_root is not None and editor_trusts_workspace(options) and _inside(lake_root, workspace_folders):
        trusted_by = EDITOR_TRUST
    return load_settings(lake_root, editor_options=options, trusted_by=trusted_by)


class ProblemReport:
    """What the user is told about settings problems: each problem once per session (a rebuild after
    didChangeConfiguration repeats the file's problems), and a bounded number of popups and log lines
    however many there are."""

    def __init__(self) -> None:
        self._previous: frozenset[str] = frozenset()

    def new_messages(self, problems: Sequence[SettingsProblem]) -> list[str]:
        """Popups for the problems not reported by the previous build; logs them (bounded) as well."""
        texts = [str(p) for p in problems]
        fresh = [t for t in texts if t not in self._previous]
        self._previous = frozenset(texts)
        if not fresh:
            return []
        for line in problem_lines(fresh, MAX_PROBLEM_LOG_LINES):
            log.warning("settings: %s", line)
        popups = [f"lean-copilot settings: {t}" for t in fresh[:MAX_PROBLEM_POPUPS]]
        if len(fresh) > MAX_PROBLEM_POPUPS:
            popups.append(f"lean-copilot settings: {len(fresh) - MAX_PROBLEM_POPUPS} more problems "
                          "(the server's log lists them)")
        return popups
