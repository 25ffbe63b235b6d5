"""`lean-copilot doctor`: one line per check, each with a fix; non-zero exit when a requirement is missing."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .models import probe
from .project import MIN_TOOLCHAIN, discover, elan_on_path, lake_on_path
from .settings import Settings, load_settings, problem_lines

ELAN_INSTALL = "curl https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -sSf | sh"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def run_checks(path: Path, settings: Settings | None = None) -> list[Check]:
    checks: list[Check] = []
    project = discover(path)
    loaded = load_settings(project.root if project else None)
    settings = settings or loaded.settings
    for line in problem_lines(loaded.problems, limit=10):
        checks.append(Check("settings", False, line, "fix or remove that key", required=False))

    lake = lake_on_path()
    elan = elan_on_path()
    if lake:
        checks.append(Check("lake", True, f"found at {lake}"))
    else:
        fix = "elan is installed but has no default toolchain: run `elan default stable`" if elan else (
            f"install elan (Lean's toolchain manager): {ELAN_INSTALL}"
        )
        checks.append(Check("lake", False, "`lake` is not on PATH, so Lean cannot be run", fix))

    if project is None:
        checks.append(Check("project", False, f"{path} is not inside a Lake project (no lakefile.toml, lakefile.lean"
                            " or lean-toolchain above it)", "run from a Lake project, or create one with `lake new`"))
    else:
        checks.append(Check("project", True, f"Lake project at {project.root}"))
        want = f"v{MIN_TOOLCHAIN[0]}.{MIN_TOOLCHAIN[1]}"
        if project.toolchain is None:
            checks.append(Check("toolchain", False, "no lean-toolchain file",
                                f"pin a toolchain: echo leanprover/lean4:{want}.0 > lean-toolchain"))
        elif project.toolchain_supported is False:
            checks.append(Check("toolchain", False, f"{project.toolchain} is older than {want}, which the Lean client"
                                " needs", f"update lean-toolchain to {want}.0 or newer and run `lake update`"))
        else:
            checks.append(Check("toolchain", True, project.toolchain))

    model = settings.model
    if model.backend == "none":
        checks.append(Check("model", True, "no model configured: automation only", required=False))
    elif model.backend == "openai":
        try:
            ids = probe.endpoint_models(model.endpoint, model.api_key)
            served = ", ".join(ids) or "none"
            ok = not ids or model.name in ids
            checks.append(Check("model endpoint", ok, f"{model.endpoint} serves {served}",
                                "" if ok else f"set model.name to one of: {served}", required=False))
        except OSError as exc:
            checks.append(Check("model endpoint", False, f"{model.endpoint} is unreachable ({exc})",
                                f"start one: `vllm serve {model.name}`, or set model.backend = \"vllm\" to let"
                                " lean-copilot start it; until then only automation runs", required=False))
    elif model.backend == "vllm":
        checks.append(Check("vllm", probe.vllm_installed(), "vllm is installed" if probe.vllm_installed()
                            else "model.backend is \"vllm\" but vllm is not installed",
                            "in the lean-copilot-py checkout: pip install -e '.[gpu]'"))
        gpu = probe.nvidia_gpu_visible()
        checks.append(Check("gpu", gpu, "an NVIDIA GPU is visible" if gpu else "no NVIDIA GPU visible (nvidia-smi)",
                            "vLLM needs a CUDA GPU; or point model.endpoint at a remote server with"
                            " model.backend = \"openai\""))
    if model.backend != "none":
        checks.append(tokenizer_check(settings))
    return checks


def tokenizer_check(settings: Settings) -> Check:
    """Where the tokenizer comes from, and so whether continuations can go as token ids."""
    from .models.tokenizer_source import tokenizer_source

    src = tokenizer_source(settings)
    if src.where == "unknown":
        return Check("tokenizer", False, src.detail, src.fix, required=False)
    how = ("token-id continuations (prefix-cache hits)" if src.token_ids
           else "text continuations (fewer prefix-cache hits; the prompt format may not be the model's own)")
    return Check("tokenizer", src.token_ids, f"{src.detail}; {how}", src.fix, required=False)


def print_checks(checks: list[Check], out: TextIO) -> None:
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        out.write(f"[{mark}] {c.name}: {c.detail}\n")
        if not c.ok and c.fix:
            out.write(f"       fix: {c.fix}\n")


def run_doctor(path: Path, out: TextIO = sys.stdout) -> int:
    checks = run_checks(path)
    print_checks(checks, out)
    missing = [c for c in checks if c.required and not c.ok]
    out.write("all required checks passed\n" if not missing else f"{len(missing)} required check(s) failed\n")
    return 1 if missing else 0
