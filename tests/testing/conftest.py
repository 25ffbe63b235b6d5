"""The doubles' own tests use the checker tests' script fixture (a fresh script file for the fake Lean server)."""

from tests.lean.conftest import script_path  # noqa: F401 (a fixture, re-exported for this package)
