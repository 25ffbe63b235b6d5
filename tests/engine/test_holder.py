"""The lazy engine holder (engine/holder.py): nothing is built before first use, new settings replace the engine
only when they differ, a replaced engine is closed once no search uses it, and a closed holder lends nothing."""

from __future__ import annotations

from typing import Any

import pytest

from lean_copilot_py.engine.holder import EngineHolder
from lean_copilot_py.settings import Settings


class Closing:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_engine_holder_is_lazy_and_closes_a_replaced_engine_when_idle() -> None:
    made: list[Closing] = []

    async def factory(settings: Settings) -> Any:
        made.append(Closing(settings.search.attempts))
        return made[-1]

    holder = EngineHolder(factory, Settings())
    assert made == []  # nothing starts until first use
    async with holder.lease() as first:
        assert holder.replace_settings(Settings.model_validate({"search": {"attempts": 2}}))
        assert not first.closed  # still in use by a running search
        async with holder.lease() as second:
            assert second is not first and second.n == 2
    assert first.closed and not second.closed
    assert not holder.replace_settings(Settings.model_validate({"search": {"attempts": 2}}))  # same: kept
    await holder.aclose()
    assert second.closed
    with pytest.raises(RuntimeError):
        async with holder.lease():
            pass
