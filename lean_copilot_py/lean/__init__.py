"""Lean, seen from the core: the Checker on leanclient (the only package that imports leanclient)."""

from .checker import LeanChecker, LeanStartError
from .command import server_command

__all__ = ["LeanChecker", "LeanStartError", "server_command"]
