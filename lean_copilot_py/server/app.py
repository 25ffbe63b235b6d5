"""The language server object: state shared by the feature modules, lifecycle, settings, status.

Feature handlers live in their own modules (documents/actions/commands/inline) and are registered by
``build_server``; this module owns what they share: the document store, the running searches, the engine
holder, the settings, and the `leanCopilot/status` notification.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..engine.holder import EngineHolder
from ..engine.port import EngineFactory
from ..engine.threaded import threaded_engine
from ..project import find_lake_root
from ..settings import Settings
from .checking import DocumentChecks
from .documents import DocumentStore, uri_to_path
from .options import ProblemReport, build_settings, editor_options
from .protocol import CopilotProtocol, plain_message
from .searches import SearchRegistry
from .skeletons import SkeletonStore

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "leanCopilot/status"
PARENT_POLL_S = 3.0


class CopilotServer(LanguageServer):
    protocol: CopilotProtocol

    def __init__(self, engine_factory: EngineFactory | None = None) -> None:
        super().__init__(
            "lean-copilot",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=CopilotProtocol,
        )
        self.docs = DocumentStore()
        self.searches = SearchRegistry(self._running_changed)
        self.engines = EngineHolder(engine_factory or threaded_engine, Settings())
        self.checks = DocumentChecks(self)  # server.check_documents: our own Lean check of each open file
        self.docs.on_change(self.checks.document_changed)
        self.skeletons = SkeletonStore()  # verified skeletons of failed searches, offered apart from proofs
        self.lake_root: Path | None = None
        self.workspace_folders: list[Path] = []  # what the editor's workspace trust covers
        self.options: dict[str, Any] | None = None
        self.exit_code: int | None = None
        self._exit = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self._closing: asyncio.Future[None] | None = None
        self._initialized = False
        self._pending_problems: list[str] = []
        self._problems = ProblemReport()

    # --- settings ---------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.engines.settings

    def load_options(self, raw: Any, *, replace_options: bool = True) -> None:
        """Rebuild the settings from every layer plus the editor options ``raw``; report each problem."""
        if replace_options:
            self.options = editor_options(raw)
        loaded = build_settings(self.lake_root, self.options, self.workspace_folders)
        was_checking = self.settings.server.check_documents
        if self.engines.replace_settings(loaded.settings):
            trusted = f"; project trusted: {loaded.trusted}" if loaded.trusted else ""
            log.info("settings changed (sources: %s%s)", ", ".join(loaded.sources), trusted)
            if self.settings.server.check_documents and not was_checking and self._initialized:
                self.checks.schedule_all()
        for message in self._problems.new_messages(loaded.problems):
            self._report_problem(message)

    def _report_problem(self, message: str) -> None:
        if not self._initialized:
            self._pending_problems.append(message)  # shown once the client has finished initializing
            return
        self.show(message, lsp.MessageType.Warning)

    def set_lake_root_from(self, path: Path) -> None:
        """Without a workspace root, the first opened file's Lake project decides (its project settings file)."""
        if self.lake_root is None:
            root = find_lake_root(path)
            if root is not None:
                self.lake_root = root
                self.load_options(None, replace_options=False)

    # --- messages ---------------------------------------------------------------------------

    def show(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A handler failed outside a request (a notification, a send): one plain line to the user, the
        traceback only in our log (pygls logged it where it happened). Failed requests are answered instead."""
        if source is FeatureRequestError:
            return
        self.show(f"lean-copilot: internal error: {plain_message(str(error))} (details in the server log)",
                  lsp.MessageType.Error)

    def notify_status(self, state: str, message: str = "") -> None:
        self.protocol.notify(STATUS_NOTIFICATION, {"state": state, "running": self.searches.count, "message": message})

    def _running_changed(self, count: int) -> None:
        self.notify_status("searching" if count else "idle", f"{count} search(es) running" if count else "")

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """A fire-and-forget task that is kept alive and cancelled at shutdown."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # --- lifecycle --------------------------------------------------------------------------

    def initialize(self, params: lsp.InitializeParams) -> None:
        root = None
        if params.workspace_folders:
            root = uri_to_path(params.workspace_folders[0].uri)
            # Only folders on disk: the editor's workspace trust covers the projects inside them.
            self.workspace_folders = [uri_to_path(f.uri) for f in params.workspace_folders if f.uri.startswith("file:")]
        elif params.root_uri:
            root = uri_to_path(params.root_uri)
            self.workspace_folders = [root] if params.root_uri.startswith("file:") else []
        elif params.root_path:
            root = Path(params.root_path)
            self.workspace_folders = [root]
        if root is not None:
            self.lake_root = find_lake_root(root)
        self.load_options(params.initialization_options)
        if params.process_id:
            self.spawn(self._watch_parent(params.process_id))

    def initialized(self) -> None:
        self._initialized = True
        for message in self._pending_problems:
            self.show(message, lsp.MessageType.Warning)
        self._pending_problems.clear()

    async def _watch_parent(self, pid: int) -> None:
        # The editor may die without closing our stdin (e.g. killed with the pipe inherited elsewhere).
        while True:
            await asyncio.sleep(PARENT_POLL_S)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.warning("the editor (pid %s) is gone; exiting", pid)
                self.request_exit(1)
                return
            except PermissionError:
                pass

    def request_exit(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self._exit.set()

    async def wait_for_exit(self) -> None:
        await self._exit.wait()

    async def aclose(self) -> None:
        """Cancel every search and close every engine (Lean and model servers with them). Called by the
        `shutdown` handler and again on the way out (an `exit` may arrive while `shutdown` is closing):
        every caller waits for the same, single close."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        await self.searches.aclose()
        current = asyncio.current_task()
        tasks = [t for t in self._background if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.engines.aclose()


def build_server(engine_factory: EngineFactory | None = None) -> CopilotServer:
    from . import actions, commands, inline, lifecycle

    server = CopilotServer(engine_factory)
    lifecycle.register(server)
    actions.register(server)
    commands.register(server)
    inline.register(server)
    return server
