"""Part 3: the GPU benchmark (benchmarks/gpu_transformers.py) when CUDA is here, else where its numbers are."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .fakes import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "gpu_transformers.py"
RESULTS = REPO_ROOT / "benchmarks" / "RESULTS.md"


def cuda_available() -> bool:
    # A subprocess: importing torch here would cost seconds and hundreds of MB for a yes/no answer.
    code = "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_gpu(smoke: bool) -> dict[str, Any]:
    if not SCRIPT.exists():
        return {"ran": False, "reason": f"{SCRIPT} is missing (needs a source checkout)"}
    if not cuda_available():
        return {"ran": False, "reason": "needs a CUDA GPU (torch.cuda.is_available() is False here)",
                "measured_results": f"{RESULTS} (section 'GPU', measured on an NVIDIA H100 80GB HBM3)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gpu.json"
        cmd = [sys.executable, str(SCRIPT), "--json", str(out)]
        if smoke:
            cmd += ["--layers", "2", "--steps", "16"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"ran": False, "reason": f"gpu_transformers.py failed: {proc.stderr.strip()[-2000:]}"}
        return {"ran": True, "smoke": smoke, "results": json.loads(out.read_text())}
