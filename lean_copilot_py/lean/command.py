"""The command line that starts the Lean server for a project."""

from __future__ import annotations

import shutil
from pathlib import PurePath

from ..settings import LeanSettings

DEFAULT_COMMAND = ("lake", "serve", "--")
# No 200 ms debounce before diagnostics/progress: the barrier answers as soon as elaboration ends
# (measured on Lean 4.35: a warm check costs ~205 ms without it, ~17 ms with it).
REPORT_DELAY_OPTION = "server.reportDelayMs"
REPORT_DELAY_FLAG = f"-D{REPORT_DELAY_OPTION}=0"


def server_command(settings: LeanSettings) -> list[str]:
    """``settings.server_command`` or `lake serve --`, with no report delay when the command is Lean's own
    server, wrapped in ``prlimit --as=...`` when a memory limit is set and prlimit exists (the limit is
    inherited by the watchdog and every worker it forks)."""
    cmd = with_report_delay(list(settings.server_command or DEFAULT_COMMAND))
    if settings.memory_limit_mb is not None:
        prlimit = shutil.which("prlimit")
        if prlimit is not None:
            cmd = [prlimit, f"--as={settings.memory_limit_mb * 1024 * 1024}", "--", *cmd]
    return cmd


def with_report_delay(cmd: list[str]) -> list[str]:
    """``cmd`` with ``-Dserver.reportDelayMs=0`` added where it is Lean's server and the option is not set:
    `lake … serve [-- ARGS]` (Lake hands what follows `--` to `lean --server`) or `lean … --server`, known by
    the program's basename. Anything else (a wrapper script, a test double) is left as written: it may not
    accept Lean's options."""
    if not cmd or _sets_report_delay(cmd):
        return cmd
    program = _program(cmd[0])
    args = cmd[1:]
    if program == "lake":
        lake_args = args[: args.index("--")] if "--" in args else args
        if "serve" not in lake_args:
            return cmd
        return [*cmd, REPORT_DELAY_FLAG] if "--" in args else [*cmd, "--", REPORT_DELAY_FLAG]
    if program == "lean" and "--server" in args:
        return [*cmd, REPORT_DELAY_FLAG]
    return cmd


def _program(arg: str) -> str:
    name = PurePath(arg.replace("\\", "/")).name.lower()
    return name.removesuffix(".exe")


def _sets_report_delay(cmd: list[str]) -> bool:
    """`-Dserver.reportDelayMs=N` or `-D server.reportDelayMs=N` anywhere: the user chose a value."""
    return any(arg.removeprefix("-D").startswith(REPORT_DELAY_OPTION + "=") for arg in cmd)
