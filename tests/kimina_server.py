"""The real Kimina Lean Server for the tests: PyPI's `kimina-ast-server==2.1.3` (project-numina's FastAPI
server, top-level package `server`) run as its own process on loopback, with our REPL double
(tests/fakes/fake_repl.py, answers from the real prelude `lean`) as its Lean REPL.

What it takes to start it offline, all of it outside the server's own code:
- **Prisma.** `server/db.py` imports `server/prisma_client.py`, which on import runs
  `python -m prisma generate --schema server/prisma/schema.prisma` when the Prisma client is not generated
  yet. That fetches the Prisma CLI from the npm registry (reachable) and then, unless told otherwise, the
  query and schema engines from Prisma's own binary host, which this machine cannot reach
  ("request to https://binaries.prisma.sh/…/query-engine.gz.sha256 failed, reason: getaddrinfo ENOTFOUND").
  The engines are only run to talk to a database, and the server uses none unless
  `LEAN_SERVER_DATABASE_URL` is set (`main.py` lifespan: `if settings.database_url: await db.connect()`;
  every Prisma call is behind `if db.connected`). So we run that same generate command once, with
  `PRISMA_QUERY_ENGINE_BINARY` / `PRISMA_SCHEMA_ENGINE_BINARY` naming two placeholder scripts that only
  answer `--version` (`PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1`), and start the server without a database.
- **Python 3.11.** `kimina_client/models.py` (a dependency) takes `typing.TypedDict` on Python 3.11, which
  pydantic refuses there ("Please use `typing_extensions.TypedDict` instead of `typing.TypedDict` on
  Python < 3.12"); upstream runs on 3.13. Our launcher makes `typing.TypedDict` the `typing_extensions` one
  before importing the server: the same class on 3.12+.
- **FastAPI.** 2.1.3 passes `logger=` to `FastAPI()`, which FastAPI 0.165 rejects; pyproject's test extra
  pins `fastapi==0.116.1`, the version upstream's requirements.txt pins.
- **Workspace.** It starts REPLs as `lake env <LEAN_SERVER_REPL_PATH>` in `LEAN_SERVER_PROJECT_DIR`
  (`server/repl.py` Repl.start): our `lake` shim execs the rest with the project's build directory on
  LEAN_PATH, as `lake env` does. `LEAN_SERVER_SKIP_VALIDATION=1`: the AST-export binaries it checks for
  (only its /api/ast routes use them) are not there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.real_lean import CACHE, RealLean, make_prelude_project

PACKAGE = "kimina-ast-server==2.1.3"
SORRY_INIT = Path(__file__).resolve().parent / "fixtures" / "sorry_init" / "Init.lean"
FAKE_REPL = Path(__file__).resolve().parent / "fakes" / "fake_repl.py"
BUILD = Path(".lake") / "build" / "lib" / "lean"

_LAUNCH = """
import typing, typing_extensions
typing.TypedDict = typing_extensions.TypedDict  # kimina_client on Python < 3.12 (see tests/kimina_server.py)
from server.__main__ import main
main()
"""
_LAKE = """#!/bin/sh
# `lake env CMD...` as the Kimina server calls it: CMD with the project's build directory on LEAN_PATH.
[ "$1" = env ] || { echo "lake shim: only 'lake env' is supported" >&2; exit 2; }
shift
LEAN_PATH="$PWD/.lake/build/lib/lean${LEAN_PATH:+:$LEAN_PATH}" exec "$@"
"""
_ENGINE = """#!/bin/sh
# Placeholder Prisma engine: the Kimina server runs without a database, so no engine is ever started.
[ "$1" = --version ] && { echo "{name} {version}"; exit 0; }
echo "placeholder Prisma engine: no database in these tests" >&2
exit 1
"""


class KiminaUnavailable(RuntimeError):
    """Why the real Kimina server cannot run here (package missing, Prisma client not generated, no Node)."""


def server_package() -> Path:
    spec = importlib.util.find_spec("server")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        if (Path(location) / "routers" / "check.py").is_file() and (Path(location) / "split.py").is_file():
            return Path(location)
    raise KiminaUnavailable(f"the PyPI package `{PACKAGE}` is not installed (pip install -e '.[test]')")


def _prisma_env(cache: Path) -> dict[str, str]:
    from prisma._config import config  # the engine version the Prisma CLI will ask the engines for

    engines = cache / "prisma-engines"
    engines.mkdir(parents=True, exist_ok=True)
    # CHECKPOINT_DISABLE: no update check by the Prisma CLI (it would call a host this machine can't reach)
    env = {"PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING": "1", "PRISMA_PY_GENERATE_SKIP_WARNING": "1",
           "CHECKPOINT_DISABLE": "1"}
    for var, name in (("PRISMA_QUERY_ENGINE_BINARY", "query-engine"), ("PRISMA_SCHEMA_ENGINE_BINARY", "schema-engine")):
        path = engines / name
        path.write_text(_ENGINE.replace("{name}", name).replace("{version}", config.expected_engine_version))
        path.chmod(0o755)
        env[var] = str(path)
    return env


def _with_path(env: dict[str, str], *dirs: Path) -> dict[str, str]:
    out = {**os.environ, **env}
    out["PATH"] = os.pathsep.join([*(str(d) for d in dirs), out.get("PATH", "")])
    return out


_generated: set[str] = set()


def ensure_prisma_client(cache: Path = CACHE) -> dict[str, str]:
    """Generate the Prisma client the server imports (once per environment); returns the Prisma env vars."""
    pkg = server_package()
    env = _prisma_env(cache)
    py_bin = Path(sys.executable).parent  # the generator runs as `prisma-client-py` from this venv
    probe = [sys.executable, "-c", "from prisma import Prisma"]
    if sys.executable in _generated or subprocess.run(
        probe, capture_output=True, check=False, env=_with_path(env, py_bin)
    ).returncode == 0:
        _generated.add(sys.executable)
        return env
    if shutil.which("node") is None and shutil.which("npm") is None:
        raise KiminaUnavailable("the Prisma CLI needs Node.js (`node`/`npm` on PATH) to generate its client")
    cmd = [sys.executable, "-m", "prisma", "generate", "--schema", str(pkg / "prisma" / "schema.prisma")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_with_path(env, py_bin), timeout=300)
    if done.returncode != 0:
        raise KiminaUnavailable(f"`prisma generate` failed: {(done.stdout + done.stderr).strip()[-800:]}")
    _generated.add(sys.executable)
    return env


def build_kimina_project(root: Path, lean: RealLean) -> Path:
    """The prelude fixture project plus our stand-in Init (tests/fixtures/sorry_init), both compiled into
    `.lake/build/lib/lean` (where `lake env` puts LEAN_PATH), so files may start with `import Prelude.Basic`."""
    make_prelude_project(root, {"Init.lean": SORRY_INIT.read_text(encoding="utf-8")})
    out = root / BUILD
    (out / "Prelude").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEAN_PATH": str(out)}
    for src, olean in (("Prelude/Basic.lean", "Prelude/Basic.olean"), ("Init.lean", "Init.olean")):
        done = subprocess.run([str(lean.lean), src, "-o", str(out / olean)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"compiling {src} failed: {(done.stdout + done.stderr).strip()[-800:]}")
    return root


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class KiminaServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path  # the server's own output
    repl_log: Path  # every request its REPLs got: {"pid", "request"} per line

    def repl_requests(self) -> list[dict[str, Any]]:
        if not self.repl_log.exists():
            return []
        out = []
        for line in self.repl_log.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            out.append({"pid": rec["pid"], **json.loads(rec["request"])})
        return out

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-n:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn's shutdown runs the lifespan's REPL cleanup
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_kimina_server(
    project: Path,
    lean: RealLean,
    workdir: Path,
    *,
    api_key: str | None = None,
    max_repls: int = 2,
    max_wait_s: int = 60,
    cache: Path = CACHE,
) -> KiminaServer:
    """Start the real server on a free loopback port and wait until /health answers."""
    prisma_env = ensure_prisma_client(cache)
    bin_dir = workdir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    lake = bin_dir / "lake"
    lake.write_text(_LAKE)
    lake.chmod(0o755)
    repl_log = workdir / "repl-requests.jsonl"
    repl = bin_dir / "repl"
    repl.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_REPL}" --lean "{lean.lean}" --log "{repl_log}"\n')
    repl.chmod(0o755)
    port = _free_port()
    env = {
        **prisma_env,
        "LEAN_SERVER_HOST": "127.0.0.1",
        "LEAN_SERVER_PORT": str(port),
        "LEAN_SERVER_REPL_PATH": str(repl),
        "LEAN_SERVER_PROJECT_DIR": str(project),
        "LEAN_SERVER_SKIP_VALIDATION": "1",
        "LEAN_SERVER_ENVIRONMENT": "dev",  # prod logs to Google Cloud Logging
        "LEAN_SERVER_LOG_LEVEL": "INFO",
        "LEAN_SERVER_MAX_REPLS": str(max_repls),
        "LEAN_SERVER_MAX_WAIT": str(max_wait_s),
        "PYTHONPATH": "",
        "COLUMNS": "200",
    }
    full = _with_path(env, bin_dir, Path(sys.executable).parent)
    for var in ("LEAN_SERVER_API_KEY", "LEAN_SERVER_DATABASE_URL", "LEAN_SERVER_INIT_REPLS", "LEAN_PATH"):
        full.pop(var, None)
    if api_key is not None:
        full["LEAN_SERVER_API_KEY"] = api_key
    run_dir = Path(tempfile.mkdtemp(prefix="kimina-cwd-", dir=workdir))  # no stray .env is read
    log = workdir / "kimina-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCH], cwd=run_dir, env=full, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = KiminaServer(f"http://127.0.0.1:{port}", proc, log, repl_log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise KiminaUnavailable(f"the Kimina server exited ({proc.returncode}): {server.log_tail(1500)}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    server.stop()
    raise KiminaUnavailable(f"the Kimina server did not answer /health within 60 s: {server.log_tail(1500)}")




def unavailable(exc: KiminaUnavailable) -> NoReturn:
    """Skip where the real server cannot run; fail instead in CI, which must run it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"the real Kimina server cannot run in CI: {exc}")
    pytest.skip(f"the real Kimina server cannot run here: {exc}")


def prisma_client_ready() -> None:
    """Generate the server's Prisma client now, while Node.js is on PATH (a test that empties PATH to show it
    needs no local Lean would otherwise leave `prisma generate` without it when it is the first to start one)."""
    try:
        ensure_prisma_client()
    except KiminaUnavailable as exc:
        unavailable(exc)


@contextmanager
def running_kimina(lean: RealLean, workdir: Path, **kw: Any) -> Iterator[KiminaServer]:
    """A fresh project and server for a test; skips where the server cannot run, fails instead in CI."""
    try:
        project = build_kimina_project(workdir / "project", lean)
        server = start_kimina_server(project, lean, workdir, **kw)
    except KiminaUnavailable as exc:
        unavailable(exc)
    try:
        yield server
    finally:
        server.stop()
