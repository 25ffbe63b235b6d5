"""Settings through the server (server/options.py): the shapes of the editor's options, what an untrusted project's
.lean-copilot.toml cannot do when `lean-copilot serve` runs with the real Engine, what the editor's workspace trust
covers, and how many messages a flood of settings problems gives."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from lean_copilot_py.server.options import (
    MAX_PROBLEM_LOG_LINES,
    MAX_PROBLEM_POPUPS,
    ProblemReport,
    build_settings,
    editor_options,
)
from lean_copilot_py.settings import SettingsProblem
from lean_copilot_py.testing.lean_script import Rule, Script, fake_lean_command, proved, write_script
from tests.fakes.lake_project import make_lake_project

from .conftest import Editor, Start

PROVE_ME = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
SERVE = [sys.executable, "-m", "lean_copilot_py", "serve"]
REPO = str(Path(__file__).resolve().parents[2])
ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": REPO}
EVIL = "import pathlib, sys\npathlib.Path(sys.argv[1]).write_text('the project ran a program')\n"


def test_editor_options_shapes() -> None:
    inner = {"search": {"attempts": 3}, "model": {"endpoint": None}}
    assert editor_options({"leanCopilot": inner}) == {"search": {"attempts": 3}, "model": {}}
    assert editor_options(inner) == {"search": {"attempts": 3}, "model": {}}
    assert editor_options(None) is None and editor_options([1]) is None


def hostile_project(root: Path, tmp_path: Path) -> Path:
    """A Lake project at ``root`` whose .lean-copilot.toml names a 'Lean server' that leaves a marker file;
    the user's own config (XDG_CONFIG_HOME of the server under test) names the scripted fake Lean."""
    make_lake_project(root, {"Demo.lean": PROVE_ME}, name="t")
    marker = tmp_path / "MARKER"
    (tmp_path / "evil.py").write_text(EVIL)
    (root / ".lean-copilot.toml").write_text(
        f"[lean]\nserver_command = {json.dumps([sys.executable, str(tmp_path / 'evil.py'), str(marker)])}\n"
        "startup_timeout_s = 20\n"
    )
    script = write_script(tmp_path / "script.json", Script(rules=[proved(r"\bomega\b")], default=Rule(unsolved=True)))
    user = tmp_path / "xdg" / "lean-copilot" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(
        f"[lean]\nserver_command = {json.dumps(fake_lean_command(script))}\ncheck_timeout_s = 10\n"
        f"[model]\nbackend = 'none'\n[search]\nautomation = ['omega']\ncache = false\ndeadline_s = 30\n"
        f"[paths]\ncache_dir = {json.dumps(str(tmp_path / 'cache'))}\n"
    )
    return marker


async def prove(editor: Editor, uri: str) -> dict[str, Any]:
    editor.open(uri, PROVE_ME)
    return await asyncio.wait_for(editor.command("leanCopilot.prove", {"uri": uri, "line": 0, "character": 8}), 60)


def warnings(editor: Editor) -> list[str]:
    return [m.message for m in editor.client.messages if m.type == lsp.MessageType.Warning]


async def _wait_for(editor: Editor, needle: str) -> list[str]:
    for _ in range(500):
        found = warnings(editor)
        if any(needle in w for w in found):
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"no warning with {needle!r}: {warnings(editor)}")


async def test_untrusted_project_cannot_start_its_command(start: Start, tmp_path: Path) -> None:
    marker = hostile_project(tmp_path, tmp_path)
    editor = await start(init_options={"leanCopilot": {"trust": {"workspace": False}}}, command=SERVE, env=ENV)
    result = await prove(editor, (tmp_path / "Demo.lean").as_uri())
    assert result["status"] == "proved", result  # by the user's own Lean server command
    assert not marker.exists()
    [told] = [w for w in warnings(editor) if "lean.server_command" in w]
    assert str(tmp_path / ".lean-copilot.toml") in told and "not trusted" in told


async def test_a_trusted_workspace_lets_its_project_choose(start: Start, tmp_path: Path) -> None:
    marker = hostile_project(tmp_path, tmp_path)
    editor = await start(init_options={"leanCopilot": {"trust": {"workspace": True}}}, command=SERVE, env=ENV)
    result = await prove(editor, (tmp_path / "Demo.lean").as_uri())
    assert result["status"] != "proved", result  # the project's "Lean server" is no Lean server
    assert marker.exists()
    assert not [w for w in warnings(editor) if "not trusted" in w]


async def test_workspace_trust_covers_only_projects_inside_the_workspace(start: Start, tmp_path: Path) -> None:
    # An empty VS Code window is trusted by default: a file opened there may come from anywhere.
    marker = hostile_project(tmp_path / "cloned", tmp_path)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    editor = await start(init_options={"leanCopilot": {"trust": {"workspace": True}}}, command=SERVE, env=ENV,
                         root=workspace)
    result = await prove(editor, (tmp_path / "cloned" / "Demo.lean").as_uri())
    assert result["status"] == "proved", result
    assert not marker.exists()


async def test_a_pulled_configuration_cannot_claim_trust(start: Start, tmp_path: Path) -> None:
    # workspace/configuration answers with every scope merged, a workspace's own settings file included.
    marker = hostile_project(tmp_path, tmp_path)
    editor = await start(command=SERVE, env=ENV)
    # "bogus" shows when the pulled configuration has been applied.
    editor.client.set_configuration({"trust": {"workspace": True}, "bogus": {}}, section="leanCopilot")
    editor.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await _wait_for(editor, "bogus")
    result = await prove(editor, (tmp_path / "Demo.lean").as_uri())
    assert result["status"] == "proved", result
    assert not marker.exists()


async def test_fifty_thousand_unknown_keys_give_a_few_messages(start: Start, tmp_path: Path) -> None:
    keys = {f"k{i}": 1 for i in range(50_000)}
    editor = await start(init_options={"leanCopilot": {"search": keys}})
    shown = await _wait_for(editor, "more problems")
    assert len(shown) == MAX_PROBLEM_POPUPS + 1, shown[:6]
    assert "49997 more problems" in shown[-1]
    # The same problems again (didChangeConfiguration rebuilds everything): nothing new to say, except the
    # one new problem, which is shown alone.
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"leanCopilot": {"search": keys, "bogus": {}}})
    )
    shown = await _wait_for(editor, "bogus")
    assert len(shown) == MAX_PROBLEM_POPUPS + 2 and "bogus" in shown[-1], shown[-3:]


def test_problem_report_bounds_the_log(caplog: pytest.LogCaptureFixture) -> None:
    report = ProblemReport()
    problems = [SettingsProblem("f", f"search.k{i}", "unknown key (ignored)") for i in range(50_000)]
    with caplog.at_level(logging.WARNING, logger="lean_copilot_py.server.options"):
        popups = report.new_messages(problems)
    assert len(popups) == MAX_PROBLEM_POPUPS + 1
    assert len(caplog.records) == MAX_PROBLEM_LOG_LINES + 1
    assert f"{50_000 - MAX_PROBLEM_LOG_LINES} more" in caplog.records[-1].getMessage()
    assert report.new_messages(problems) == []  # each problem once


def test_build_settings_trusts_the_workspace_only_inside_its_folders(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    project = make_lake_project(tmp_path / "ws" / "proj")
    (project / ".lean-copilot.toml").write_text("[lean]\nserver_command = ['x']\n")
    trusted = {"trust": {"workspace": True}}
    assert build_settings(project, trusted, [tmp_path / "ws"]).settings.lean.server_command == ["x"]
    assert build_settings(project, trusted, [project]).trusted is not None
    assert build_settings(project, trusted, [tmp_path / "other"]).settings.lean.server_command is None
    assert build_settings(project, trusted, []).settings.lean.server_command is None
    assert build_settings(project, {"trust": {"workspace": "yes"}}, [project]).trusted is None
    assert build_settings(project, None, [project]).settings.lean.server_command is None
