"""`lean-copilot serve` with the scripted FakeEngine (tests/server/fake_engine.py) in place of the Engine."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lean_copilot_py.server.main import run_server
from tests.server.fake_engine import factory

if __name__ == "__main__":
    sys.exit(run_server(engine_factory=factory))
