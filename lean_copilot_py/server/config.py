"""Editor options -> Settings, and the Engine that belongs to the current settings.

Settings are built once per change (initialize, didChangeConfiguration) with ``load_settings``; a new
settings object replaces the Engine for *new* work while running searches keep the engine they started
with; a retired engine is closed as soon as nothing uses it any more.

The editor's options are the user's own layer, with one exception the editor itself handles: VS Code
leaves out a workspace's values of our privileged settings unless the workspace is trusted, and says
whether it is (``trust.workspace``). That trust covers the project's own .lean-copilot.toml only when
the project lies inside one of the workspace's folders (an empty window is "trusted" by default, and a
file opened there may come from anywhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..core.events import EventSink, SearchResult
from ..core.types import Candidate, Pos, Target, Verdict
from ..settings import LoadedSettings, Settings, SettingsProblem, load_settings, problem_lines

log = logging.getLogger(__name__)

SETTINGS_SECTION = "leanCopilot"
EDITOR_TRUST = "the editor trusts this workspace"
MAX_PROBLEM_POPUPS = 3  # then one more popup with the count of the rest
MAX_PROBLEM_LOG_LINES = 50


class EnginePort(Protocol):
    """What the server needs from lean_copilot_py.engine.Engine (a fake implements the same)."""

    async def search(
        self,
        target: Target,
        *,
        on_event: EventSink | None = None,
        use_model: bool = True,
        deadline_s: float | None = None,
        attempts: int | None = None,
    ) -> SearchResult: ...

    async def verify(self, target: Target, candidate: Candidate) -> Verdict: ...

    async def suggest_tactics(self, path: Path, text: str, pos: Pos, *, budget_s: float) -> list[str]: ...

    async def aclose(self) -> None: ...


EngineFactory = Callable[[Settings], Awaitable[EnginePort]]


async def default_engine_factory(settings: Settings) -> EnginePort:
    # The engine runs on a loop of its own (server/engine_thread.py), imported there on first use.
    from .engine_thread import threaded_engine

    return await threaded_engine(settings)


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


class EngineHolder:
    """Lazily creates the Engine for the current settings; hands out leases so a replaced engine is closed
    only when its last user is done."""

    def __init__(self, factory: EngineFactory, settings: Settings) -> None:
        self._factory = factory
        self.settings = settings
        self._current: EnginePort | None = None
        self._leases: dict[int, int] = {}
        self._retired: list[EnginePort] = []
        self._lock = asyncio.Lock()
        self._closed = False
        # Strong references to background close tasks (asyncio keeps only weak ones).
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def started(self) -> bool:
        return self._current is not None

    def replace_settings(self, settings: Settings) -> bool:
        """Use ``settings`` for new work. Returns True when they differ from the current ones."""
        if settings == self.settings:
            return False
        self.settings = settings
        old, self._current = self._current, None
        if old is not None:
            self._retired.append(old)
            if not self._leases.get(id(old)):
                self._spawn_close(old)
        return True

    async def _get(self) -> EnginePort:
        async with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            if self._current is None:
                log.info("starting the engine")
                self._current = await self._factory(self.settings)
            return self._current

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[EnginePort]:
        engine = await self._get()
        key = id(engine)
        self._leases[key] = self._leases.get(key, 0) + 1
        try:
            yield engine
        finally:
            self._leases[key] -= 1
            if self._leases[key] == 0:
                del self._leases[key]
                if engine in self._retired:
                    self._retired.remove(engine)
                    await _close(engine)

    def _spawn_close(self, engine: EnginePort) -> None:
        self._retired.remove(engine)
        task = asyncio.get_running_loop().create_task(_close(engine))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every engine (current, retired, closing). Safe to call twice."""
        self._closed = True
        engines = [e for e in (self._current, *self._retired) if e is not None]
        self._current = None
        self._retired.clear()
        for engine in engines:
            await _close(engine)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _close(engine: EnginePort) -> None:
    try:
        await engine.aclose()
    except Exception:
        log.exception("closing the engine failed")
