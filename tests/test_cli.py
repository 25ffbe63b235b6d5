"""The command line's entry point (lean_copilot_py/cli.py); each command has its own tests (batch/, bench/,
server/, test_doctor.py)."""

from __future__ import annotations

import subprocess
import sys


def test_cli_without_command_prints_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "lean_copilot_py"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "serve" in proc.stdout and "doctor" in proc.stdout and "bench" in proc.stdout
