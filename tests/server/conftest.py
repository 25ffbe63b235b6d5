"""pytest-lsp harness: start `lean-copilot serve` (with a fake or the real Engine) as a subprocess, as VS Code
or Neovim would, and record what the server asks the editor to do."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lean_copilot_py.core import outline as outline_mod
from tests.fakes.lake_project import make_lake_project

HERE = Path(__file__).resolve().parent
FAKE_SERVER = HERE / "fake_server.py"
CLIENTS = ["visual_studio_code", "neovim"]


def _utf16_offset(text: str, position: lsp.Position) -> int:
    """Independent of the server's code on purpose: LSP position -> code-point offset."""
    lines = text.split("\n")
    start = sum(len(ln) + 1 for ln in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= position.character:
            return start + i
        units += len(ch.encode("utf-16-le")) // 2
    return start + len(line)


@dataclass
class Editor:
    """The editor side of a session: buffers, and what the server sent."""

    client: LanguageClient
    log_path: Path
    texts: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    applied: list[lsp.ApplyWorkspaceEditParams] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    message_requests: list[lsp.ShowMessageRequestParams] = field(default_factory=list)
    answer: str | None = None  # the action the "user" picks in showMessageRequest
    refuse_edits: bool = False
    echo_delay_s: float = 0.0  # send an applied edit's didChange this long after answering applyEdit

    def open(self, uri: str, text: str, language_id: str = "lean4") -> None:
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text))
        )

    def replace(self, uri: str, start: lsp.Position, end: lsp.Position, new_text: str) -> None:
        """Type into the buffer (an incremental didChange)."""
        text = self.texts[uri]
        a, b = _utf16_offset(text, start), _utf16_offset(text, end)
        self.texts[uri] = text[:a] + new_text + text[b:]
        self.versions[uri] += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start, end), text=new_text)],
            )
        )

    def apply(self, edit: lsp.WorkspaceEdit) -> bool:
        per_doc: list[tuple[str, int | None, list[lsp.TextEdit]]] = []
        for change in edit.document_changes or []:
            assert isinstance(change, lsp.TextDocumentEdit)
            per_doc.append((change.text_document.uri, change.text_document.version, list(change.edits)))
        for uri, edits in (edit.changes or {}).items():
            per_doc.append((uri, None, list(edits)))
        for uri, version, edits in per_doc:
            if version is not None and version != self.versions[uri]:
                return False  # what VS Code does with a stale versioned edit
            text = self.texts[uri]
            spans = sorted(
                ((_utf16_offset(text, e.range.start), _utf16_offset(text, e.range.end), e.new_text) for e in edits),
                reverse=True,
            )
            for a, b, new in spans:
                text = text[:a] + new + text[b:]
            self.texts[uri] = text
            self.versions[uri] += 1
            # Like an editor: the applied edit comes back as a didChange (full text).
            change = lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
            if self.echo_delay_s:
                asyncio.get_running_loop().call_later(self.echo_delay_s, self.client.text_document_did_change, change)
            else:
                self.client.text_document_did_change(change)
        return True

    def calls(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    async def wait_call(self, call: str, within: float = 10.0, count: int = 1) -> dict[str, Any]:
        for _ in range(int(within / 0.02)):
            found = [c for c in self.calls() if c["call"] == call]
            if len(found) >= count:
                return found[count - 1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"the engine never saw {call!r}: {self.calls()}")

    async def command(self, name: str, *args: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=name, arguments=list(args))
        )


Start = Callable[..., Awaitable[Editor]]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAN_COPILOT_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")  # no user config file leaks in
    env.update(extra)
    return env


@pytest_asyncio.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    """``await start(scenario, client="neovim", init_options={...}, command=[...])`` -> Editor."""
    editors: list[Editor] = []

    async def _start(
        scenario: dict[str, Any] | None = None,
        *,
        client: str = "visual_studio_code",
        init_options: Any = None,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        root: Path | None = None,
    ) -> Editor:
        log_path = tmp_path / f"engine-{len(editors)}.jsonl"
        server_env = clean_env(
            tmp_path, LCP_FAKE_SCENARIO=json.dumps(scenario or {}), LCP_FAKE_LOG=str(log_path), **(env or {})
        )
        config = ClientServerConfig(server_command=command or [sys.executable, str(FAKE_SERVER)], server_env=server_env)
        lc = await config.start()
        editor = Editor(lc, log_path)
        _install_editor_features(editor)
        editors.append(editor)
        await lc.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities(client),
                root_uri=(root or tmp_path).as_uri(),
                initialization_options=init_options,
            )
        )
        return editor

    yield _start
    for editor in editors:
        try:
            await asyncio.wait_for(editor.client.shutdown_session(), 10)
        except Exception:
            pass
        await editor.client.stop()


def _install_editor_features(editor: Editor) -> None:
    lc = editor.client

    @lc.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        editor.applied.append(params)
        if editor.refuse_edits:
            return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="refused by test")
        return lsp.ApplyWorkspaceEditResult(applied=editor.apply(params.edit))

    @lc.feature("leanCopilot/status")
    def status(params: Any) -> None:
        editor.statuses.append(params if isinstance(params, dict) else dict(params._asdict()))

    @lc.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem | None:
        editor.message_requests.append(params)
        return lsp.MessageActionItem(title=editor.answer) if editor.answer else None


@pytest.fixture
def lean_file(tmp_path: Path) -> Callable[[str], str]:
    """Write a .lean file inside a Lake-looking project; return its URI."""
    make_lake_project(tmp_path, name="t")

    def write(text: str, name: str = "Demo.lean") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path.as_uri()

    return write


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts outline builds (the lexing and parsing of a whole text)."""
    seen: list[int] = []
    real = outline_mod._build

    def counting(text: str) -> Any:
        seen.append(len(text))
        return real(text)

    monkeypatch.setattr(outline_mod, "_build", counting)
    outline_mod._outline_cached.cache_clear()
    outline_mod._outline_large.cache_clear()
    return seen
