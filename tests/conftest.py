"""Suite-wide markers: `lean` needs a real toolchain, `gpu` a CUDA device. Both skip with the reason."""

from __future__ import annotations

import shutil

import pytest


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_lake = shutil.which("lake") is None
    no_gpu: bool | None = None
    for item in items:
        if no_lake and item.get_closest_marker("lean"):
            item.add_marker(pytest.mark.skip(reason="needs a Lean toolchain: `lake` is not on PATH (install elan)"))
        if item.get_closest_marker("gpu"):
            if no_gpu is None:
                no_gpu = not _cuda_available()
            if no_gpu:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)"))
