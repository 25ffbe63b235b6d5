"""The engine's surface is declared once (engine/port.py): the Engine, the threaded wrapper and the fake
engine all implement exactly that Protocol, parameter for parameter."""

from __future__ import annotations

import inspect

import pytest

from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.engine.port import EnginePort
from lean_copilot_py.engine.threaded import ThreadedEngine
from lean_copilot_py.testing.fake_engine import FakeEngine

PORT = sorted(name for name, fn in vars(EnginePort).items() if inspect.iscoroutinefunction(fn))


def test_the_port_is_the_whole_surface() -> None:
    assert PORT == ["aclose", "check_document", "goals_at", "search", "suggest_tactics", "verify"]


@pytest.mark.parametrize("impl", [Engine, ThreadedEngine, FakeEngine])
@pytest.mark.parametrize("name", PORT)
def test_every_implementation_has_the_ports_signature(impl: type, name: str) -> None:
    declared = inspect.signature(getattr(EnginePort, name))
    implemented = inspect.signature(getattr(impl, name))
    assert inspect.iscoroutinefunction(getattr(impl, name))
    assert [(p.name, p.kind, p.default) for p in implemented.parameters.values()] == [
        (p.name, p.kind, p.default) for p in declared.parameters.values()
    ]
