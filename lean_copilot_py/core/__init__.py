"""The core: what a proof search is, in plain Python (no protocol or model libraries)."""

from .screen import screen
from .types import Finding

__all__ = ["Finding", "screen"]
