"""The command line that starts the Lean server for a project."""

from __future__ import annotations

import shutil

from ..settings import LeanSettings

DEFAULT_COMMAND = ("lake", "serve", "--")
# No 200 ms debounce before diagnostics/progress: the barrier answers as soon as elaboration ends.
REPORT_DELAY_FLAG = "-Dserver.reportDelayMs=0"


def server_command(settings: LeanSettings) -> list[str]:
    """``settings.server_command`` or `lake serve --` (with no report delay), wrapped in
    ``prlimit --as=...`` when a memory limit is set and prlimit exists (the limit is inherited by the
    watchdog and every worker it forks)."""
    cmd = list(settings.server_command) if settings.server_command else [*DEFAULT_COMMAND, REPORT_DELAY_FLAG]
    if settings.memory_limit_mb is not None:
        prlimit = shutil.which("prlimit")
        if prlimit is not None:
            cmd = [prlimit, f"--as={settings.memory_limit_mb * 1024 * 1024}", "--", *cmd]
    return cmd
