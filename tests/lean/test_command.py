"""The server command: Lean's own server gets `-Dserver.reportDelayMs=0` (without it every check pays Lean's
200 ms report delay), wrappers it does not know are left as the user wrote them."""

from __future__ import annotations

import shutil

import pytest

from lean_copilot_py.lean.command import REPORT_DELAY_FLAG, server_command, with_report_delay
from lean_copilot_py.settings import LeanSettings

F = REPORT_DELAY_FLAG


@pytest.mark.parametrize(
    ("configured", "started"),
    [
        (None, ["lake", "serve", "--", F]),
        (["lake", "serve", "--"], ["lake", "serve", "--", F]),
        (["lake", "serve"], ["lake", "serve", "--", F]),
        (["/opt/elan/bin/lake", "+v4.35.0", "serve", "--", "-DmaxHeartbeats=400000"],
         ["/opt/elan/bin/lake", "+v4.35.0", "serve", "--", "-DmaxHeartbeats=400000", F]),
        (["C:\\elan\\bin\\lake.exe", "serve"], ["C:\\elan\\bin\\lake.exe", "serve", "--", F]),
        (["/x/.real-lean/lean", "--server"], ["/x/.real-lean/lean", "--server", F]),
        (["lean", "-DmaxHeartbeats=0", "--server"], ["lean", "-DmaxHeartbeats=0", "--server", F]),
        # the user chose a delay: theirs stands, in either spelling
        (["lake", "serve", "--", "-Dserver.reportDelayMs=50"], ["lake", "serve", "--", "-Dserver.reportDelayMs=50"]),
        (["lean", "--server", "-D", "server.reportDelayMs=5"], ["lean", "--server", "-D", "server.reportDelayMs=5"]),
        # not Lean's server, or not recognisably: unchanged
        (["lake", "build"], ["lake", "build"]),
        (["lake", "env", "--", "serve"], ["lake", "env", "--", "serve"]),
        (["lean", "Main.lean"], ["lean", "Main.lean"]),
        (["python3", "fake_lean.py", "--script", "s.json"], ["python3", "fake_lean.py", "--script", "s.json"]),
        (["my-lean-wrapper", "serve"], ["my-lean-wrapper", "serve"]),
        (["leanserve", "--server"], ["leanserve", "--server"]),
    ],
)
def test_report_delay_flag_only_for_leans_server(configured: list[str] | None, started: list[str]) -> None:
    assert server_command(LeanSettings(server_command=configured)) == started


def test_configured_command_is_not_modified_in_place() -> None:
    configured = ["lake", "serve"]
    settings = LeanSettings(server_command=configured)
    server_command(settings)
    assert settings.server_command == ["lake", "serve"]
    assert with_report_delay([]) == []


def test_memory_limit_wraps_the_flagged_command() -> None:
    limited = server_command(LeanSettings(server_command=["lean", "--server"], memory_limit_mb=1024))
    if shutil.which("prlimit"):
        assert limited[1:] == [f"--as={1024 * 1024 * 1024}", "--", "lean", "--server", F]
    else:
        assert limited == ["lean", "--server", F]
