"""`lean-copilot serve` with the scripted FakeEngine (lean_copilot_py/testing/fake_engine.py) in place of the Engine."""

from __future__ import annotations

import sys

from lean_copilot_py.server.main import run_server
from lean_copilot_py.testing.fake_engine import factory

if __name__ == "__main__":
    sys.exit(run_server(engine_factory=factory))
