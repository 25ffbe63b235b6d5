"""Cheap, import-free probes of the model side, for `doctor`."""

from __future__ import annotations

import importlib.util
import json
import shutil
import urllib.error
import urllib.request


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def nvidia_gpu_visible() -> bool:
    return shutil.which("nvidia-smi") is not None


def endpoint_models(endpoint: str, api_key: str, timeout: float = 3.0) -> list[str]:
    """Model ids served at an OpenAI-compatible endpoint; raises OSError when it can't be reached."""
    req = urllib.request.Request(endpoint.rstrip("/") + "/models", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = json.loads(resp.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise OSError(str(exc)) from exc
    return [m.get("id", "?") for m in data.get("data", []) if isinstance(m, dict)]
