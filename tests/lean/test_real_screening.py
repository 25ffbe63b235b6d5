"""Issue 16 §1 on the real Lean 4.35 (prelude): a command hidden in a string literal that only an
interpolated reading closes is run by Lean, and lean-copilot refuses it before Lean ever sees it — as a
final proof and as a sketch turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.protocols import CheckPriority
from lean_copilot_py.core.screen import screen_candidate
from lean_copilot_py.core.types import Candidate, Pos, Target, Verdict
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.lean.shadow import shadow_for
from lean_copilot_py.settings import Settings
from tests.core.conftest import FakeFamily, FakeGenerator, final_reply, sketch_reply
from tests.helpers import make_target
from tests.real_lean import RealLean, prelude_file

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(180)]

TEXT = prelude_file("theorem t_ok : True := sorry")
HIDING = 'dbg_trace "{"\\""}"; True.intro\n#print "HIDDEN" --"'  # the reproduction


def test_lean_really_runs_the_hidden_command(real_lean: RealLean, prelude_project: Path) -> None:
    path = prelude_project / "Hidden.lean"
    path.write_text(shadow_for(make_target(TEXT, "t_ok", path=path), Candidate(HIDING)).text, encoding="utf-8")
    out = real_lean.run(path).stdout
    assert "HIDDEN" in out.replace('"HIDDEN"', ""), out  # printed by `#print`, not quoted from the source


def test_the_screen_refuses_it_with_a_reason_the_model_can_act_on() -> None:
    for strict in (True, False):
        v = screen_candidate(Candidate(HIDING), strict=strict)
        assert v is not None and "plain and as an interpolated string" in v.reason


class RecordingChecker:
    """The real LeanChecker, with every candidate it was handed recorded."""

    def __init__(self, inner: LeanChecker) -> None:
        self.inner = inner
        self.seen: list[Candidate] = []

    async def check(self, target: Target, candidate: Candidate, *, timeout: float | None = None,  # noqa: ASYNC109
                    priority: CheckPriority | None = None) -> Verdict:
        self.seen.append(candidate)
        return await self.inner.check(target, candidate, timeout=timeout, priority=priority)

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        return await self.inner.goals_at(path, text, pos)

    async def check_document(self, path: Path, text: str, *, timeout: float | None = None) -> Verdict:  # noqa: ASYNC109
        return await self.inner.check_document(path, text, timeout=timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_sketch_hiding_it_never_reaches_lean(real_lean: RealLean, prelude_project: Path, tmp_path) -> None:
    path = prelude_project / "Prelude" / "Hidden.lean"
    path.write_text(TEXT, encoding="utf-8")
    settings = Settings.model_validate({
        "search": {"automation": [], "attempts": 1, "cache": False, "deadline_s": 60},
        "lean": {"server_command": real_lean.server_command(), "slots": 1},
        "paths": {"cache_dir": str(tmp_path / "cache")},
        "model": {"backend": "none"},
    })
    checkers: list[RecordingChecker] = []

    def factory(root: Path) -> RecordingChecker:
        checkers.append(RecordingChecker(LeanChecker(root, settings.lean)))
        return checkers[-1]

    replies = [sketch_reply(f"theorem t_ok : True := {HIDING}"), final_reply("theorem t_ok : True := True.intro")]
    gen = FakeGenerator(lambda req, n: replies[min(n, 1)])
    engine = Engine(settings, checker_factory=factory, generator=gen, family=FakeFamily())
    try:
        res = await engine.search(make_target(TEXT, "t_ok", path=path))
    finally:
        await engine.aclose()
    assert res.status is SearchStatus.PROVED, res.reason  # the clean final answer
    (checker,) = checkers
    assert checker.seen and all("HIDDEN" not in c.proof + c.helpers for c in checker.seen)
    assert "interpolated" in gen.requests[1].prompt_text  # the refusal went back to the model
