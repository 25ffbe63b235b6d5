"""The editors' settings must name keys the server accepts (lean_copilot_py/settings.py): checked
without Node or Neovim, so a renamed server key breaks this test rather than silently a user's setup."""

from __future__ import annotations

import json
import re
import typing

from lean_copilot_py.settings import SECTIONS, ModelSettings
from tests.e2e.fixture_project import FIXTURE, REPO_ROOT

VSCODE = REPO_ROOT / "editor-clients" / "vscode"


def _setting_map() -> list[tuple[str, str, str]]:
    source = (VSCODE / "src" / "settings.ts").read_text(encoding="utf-8")
    return re.findall(r'\["([\w.]+)", "(\w+)", "(\w+)"\]', source)


def test_every_vscode_setting_maps_to_a_server_key() -> None:
    mapping = _setting_map()
    assert len(mapping) >= 9
    for vscode_key, section, key in mapping:
        assert section in SECTIONS, vscode_key
        assert key in SECTIONS[section].model_fields, f"{vscode_key} -> {section}.{key}"


def test_vscode_enums_match_the_server() -> None:
    props = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))["contributes"]["configuration"][
        "properties"
    ]
    for field in ("backend", "family"):
        allowed = list(typing.get_args(ModelSettings.model_fields[field].annotation))
        assert props[f"leanCopilot.model.{field}"]["enum"] == allowed, field


def test_fixture_project_settings_are_valid() -> None:
    from lean_copilot_py.settings import load_settings

    loaded = load_settings(FIXTURE, environ={}, user_file=FIXTURE / "no-user-config.toml", trusted_by="the test")
    assert loaded.problems == (), loaded.problems
    assert loaded.settings.model.backend == "none"


def test_vscode_restricts_every_setting_that_maps_to_a_privileged_key() -> None:
    from lean_copilot_py import trust

    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    restricted = set(manifest["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"])
    privileged = {f"leanCopilot.{vscode_key}" for vscode_key, section, key in _setting_map()
                  if trust.is_privileged(section, key)}
    assert privileged == {"leanCopilot.lean.serverCommand", "leanCopilot.vllm.command", "leanCopilot.model.endpoint"}
    # ...and the settings that start the server itself.
    assert restricted == privileged | {"leanCopilot.server.command", "leanCopilot.server.pythonPath"}
