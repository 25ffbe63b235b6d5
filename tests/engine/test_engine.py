"""The Engine (engine/engine.py), the composition root, with injected seams: lazy checkers per Lake root, no-model
fallback, goals for prompts and cache keys, the proof cache (re-verified hits), verify(), suggest_tactics(), aclose(),
a model built again after a failed build. The core's doubles come from tests/core/conftest.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lean_copilot_py.core.cache import ProofCache, cache_key
from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.types import Candidate, Outcome, Pos
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.engine.port import SearchOptions
from lean_copilot_py.settings import Settings
from tests.core.conftest import (
    FakeChecker,
    FakeFamily,
    FakeGenerator,
    chunks,
    failed,
    final_reply,
    proved,
    sketch_reply,
    thm,
)
from tests.fakes.lake_project import make_lake_project
from tests.helpers import make_target


def settings(tmp_path: Path, **search) -> Settings:
    search.setdefault("automation", ["rfl", "omega"])
    search.setdefault("attempts", 1)
    return Settings.model_validate({
        "search": search,
        "paths": {"cache_dir": str(tmp_path / "cache")},
        "model": {"backend": "none"},
    })


def project(tmp_path: Path) -> Path:
    return make_lake_project(tmp_path / "proj", name="p")


def engine(tmp_path, checker, **kw):
    roots: list[Path] = []

    def factory(root: Path):
        roots.append(root)
        return checker

    e = Engine(settings(tmp_path, **kw.pop("search", {})), checker_factory=factory, **kw)
    return e, roots


async def test_automation_only_when_no_model(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    checker = FakeChecker(rule=lambda c: failed())
    e, roots = engine(tmp_path, checker)
    res = await e.search(target)
    assert res.status is SearchStatus.FAILED and res.model_used is False
    assert "no model configured" in res.reason and "automation only" in res.reason
    assert roots == [root.resolve()]
    await e.aclose()
    assert checker.closed


async def test_search_with_model_reads_goal_first(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    checker = FakeChecker(rule=lambda c: proved() if "omega" in c.proof and "by\n  omega" != c.proof else failed())
    gen = FakeGenerator(lambda req, n: final_reply(thm("simp\n  omega")))
    e, _ = engine(tmp_path, checker, generator=gen, family=FakeFamily())
    res = await e.search(target)
    assert res.status is SearchStatus.PROVED and res.model_used
    assert res.proof.proof == "by\n  simp\n  omega"
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["target"]["goal"] == "n : Nat\n⊢ n + 0 = n"  # read from Lean (beside the first turn)
    await e.aclose()
    assert gen.closed and checker.closed


async def test_model_server_down_automation_still_runs(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    checker = FakeChecker(rule=lambda c: failed("omega could not prove the goal"))
    gen = FakeGenerator(lambda req, n: ConnectionRefusedError("Connection refused"))
    e, _ = engine(tmp_path, checker, generator=gen, family=FakeFamily())
    res = await e.search(target, SearchOptions(attempts=2))
    assert res.model_used is False and "model unavailable" in res.reason
    assert len(checker.calls) == 2  # rfl and omega were still tried


async def test_cache_hit_is_reverified(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    checker = FakeChecker()  # proves anything with omega
    e, _ = engine(tmp_path, checker)
    first = await e.search(target)
    assert first.status is SearchStatus.PROVED and not first.from_cache
    assert json.loads((tmp_path / "cache" / "proofs.json").read_text())["entries"]
    await e.aclose()

    # a fresh engine (fresh process): the disk entry is used only after Lean accepts it again
    checker2 = FakeChecker()
    e2, _ = engine(tmp_path, checker2)
    hit = await e2.search(target)
    assert hit.status is SearchStatus.PROVED and hit.from_cache and hit.proof.proof == "by\n  omega"
    assert checker2.checked_proofs() == ["by\n  omega"]  # exactly one re-verification, no portfolio run

    # Lean no longer accepts it (a definition changed): the entry is dropped and a real search runs
    checker3 = FakeChecker(rule=lambda c: failed())
    e3, _ = engine(tmp_path, checker3)
    miss = await e3.search(target)
    assert not miss.from_cache and miss.status is SearchStatus.FAILED
    assert json.loads((tmp_path / "cache" / "proofs.json").read_text())["entries"] == {}


class SlowGoalChecker(FakeChecker):
    """A cold Lean: the goal read finishes only when the test says so."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.goal_gate = asyncio.Event()

    async def goals_at(self, path, text, pos):
        await self.goal_gate.wait()
        return self.goals


async def test_a_declarations_search_does_not_wait_for_the_goal_read(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    checker = SlowGoalChecker(rule=lambda c: proved() if "omega" in c.proof else failed())
    gen = FakeGenerator(lambda req, n: sketch_reply(thm("omega")))
    e, _ = engine(tmp_path, checker, generator=gen, family=FakeFamily(), search={"automation": []})
    res = await asyncio.wait_for(e.search(target), 10)
    # Proved while Lean was still reading the goal (the gate never opened): nothing waited for it.
    assert res.status is SearchStatus.PROVED and gen.requests and not checker.goal_gate.is_set()
    assert len(json.loads((tmp_path / "cache" / "proofs.json").read_text())["entries"]) == 1  # the statement's
    checker.goal_gate.set()
    await e.aclose()

    # When the goal lands first, the transcript shows it and the proof is cached under both keys.
    slow = SlowGoalChecker(rule=lambda c: proved() if "omega" in c.proof else failed())
    slow.goal_gate.set()
    e2, _ = engine(tmp_path / "second", slow, generator=FakeGenerator(lambda req, n: sketch_reply(thm("omega")),
                                                                      delay=0.01),
                   family=FakeFamily(), search={"automation": []})
    res = await e2.search(target)
    data = json.loads(res.transcript_path.with_suffix(".json").read_text())
    assert data["target"]["goal"] == "n : Nat\n⊢ n + 0 = n"
    assert len(json.loads((tmp_path / "second" / "cache" / "proofs.json").read_text())["entries"]) == 2
    await e2.aclose()


async def test_a_cache_hit_under_the_late_goal_cancels_the_running_search(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    with_goal = make_target(path=root / "Foo.lean", goal="n : Nat\n⊢ n + 0 = n")
    await ProofCache(tmp_path / "cache").put(cache_key(with_goal, "leanprover/lean4:v4.24.0"), Candidate("by\n  simp"))
    checker = SlowGoalChecker(rule=lambda c: proved() if "simp" in c.proof else failed())
    gen = FakeGenerator(lambda req, n: chunks("thinking " * 20000, size=4), delay=0.001)
    e, _ = engine(tmp_path, checker, generator=gen, family=FakeFamily(), search={"automation": []})
    task = asyncio.create_task(e.search(target))
    for _ in range(200):
        if gen.open_streams:
            break
        await asyncio.sleep(0.01)
    checker.goal_gate.set()
    res = await asyncio.wait_for(task, 10)
    assert res.from_cache and res.proof.proof == "by\n  simp" and res.status is SearchStatus.PROVED
    assert gen.open_streams == 0  # the search that ran meanwhile was cancelled, its stream closed
    await e.aclose()


async def test_tampered_cache_file_cannot_smuggle_a_proof(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean", goal="n : Nat\n⊢ n + 0 = n")
    cache = ProofCache(tmp_path / "cache")
    await cache.put(cache_key(target, "leanprover/lean4:v4.24.0"), Candidate("by\n  sorry"))
    checker = FakeChecker(rule=lambda c: proved())  # even a lying checker: strict screening refuses `sorry`
    e, _ = engine(tmp_path, checker, search={"automation": []})
    res = await e.search(target)
    assert not res.from_cache and res.status is not SearchStatus.PROVED
    assert "by\n  sorry" not in checker.checked_proofs()


async def test_verify_is_strict(tmp_path):
    checker = FakeChecker(rule=lambda c: proved())
    e, _ = engine(tmp_path, checker)
    t = make_target()
    assert (await e.verify(t, Candidate("by\n  exact?"))).outcome is Outcome.REFUSED
    assert (await e.verify(t, Candidate("by\n  simp"))).proved
    checker.rule = lambda c: proved().__class__(Outcome.PROVED, axioms=("sorryAx",))
    checker.environment_epoch += 1  # Lean answering differently means its environment changed (a rebuilt import)
    assert (await e.verify(t, Candidate("by\n  simp"))).outcome is Outcome.FAILED
    assert len(checker.calls) == 2


async def test_searches_of_one_engine_share_checks_and_the_setting_turns_it_off(tmp_path):
    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    checker = FakeChecker(rule=lambda c: failed())
    e, _ = engine(tmp_path, checker, search={"cache": False})
    for _ in range(2):
        assert (await e.search(target)).status is SearchStatus.FAILED
    # rfl and omega were sent to the checker once: the second search had the same documents, same environment
    assert checker.checked_proofs() == ["by\n  rfl", "by\n  omega"]
    await e.aclose()

    plain = FakeChecker(rule=lambda c: failed())
    settings_off = Settings.model_validate({**settings(tmp_path, cache=False).model_dump(mode="json"),
                                            "lean": {"share_checks": False}})
    e2 = Engine(settings_off, checker_factory=lambda root: plain)
    for _ in range(2):
        await e2.search(target)
    assert len(plain.calls) == 4 and await e2.checker_for(target.path) is plain
    await e2.aclose()


async def test_suggest_tactics_at_cursor(tmp_path):
    from lean_copilot_py.core.types import LeanMessage, Severity, Span, Verdict

    root = project(tmp_path)
    text = "theorem foo (n : Nat) : n + 0 = n ∧ True := by\n  constructor\n  \n"
    unsolved = Verdict(Outcome.INCOMPLETE,
                       messages=(LeanMessage(Severity.ERROR, Span(Pos(0, 0), Pos(0, 1)), "unsolved goals", True),))

    def rule(c):
        return {"omega": unsolved, "simp": proved()}.get(c.proof.strip(), failed())

    checker = FakeChecker(rule=rule)
    e, _ = engine(tmp_path, checker, search={"automation": ["rfl", "simp", "omega"]})
    out = await e.suggest_tactics(root / "Foo.lean", text, Pos(2, 2), budget_s=5)
    assert out == ["simp", "omega"]


async def test_a_model_that_could_not_be_built_is_built_again_by_a_later_search(tmp_path, monkeypatch):
    from lean_copilot_py.engine import engine as engine_mod
    from lean_copilot_py.models import factory

    root = project(tmp_path)
    target = make_target(path=root / "Foo.lean")
    builds: list[float] = []
    server_up = False

    def build(settings: Settings):
        builds.append(now[0])
        if not server_up:
            raise factory.ModelSetupError("the model server can't be reached (connection refused)")
        return FakeGenerator(lambda req, n: final_reply(thm("good")))

    monkeypatch.setattr(factory, "build_generator", build)
    now = [100.0]
    checker = FakeChecker(rule=lambda c: proved() if "good" in c.proof else failed())
    cfg = Settings.model_validate({**settings(tmp_path, automation=[], cache=False).model_dump(mode="json"),
                                   "model": {"backend": "openai"}})
    e = Engine(cfg, checker_factory=lambda root: checker, family=FakeFamily(), clock=lambda: now[0])
    first = await e.search(target)
    assert first.status is SearchStatus.FAILED and not first.model_used and "can't be reached" in first.reason
    server_up = True  # the model server comes up ...
    now[0] += engine_mod.MODEL_RETRY_S / 2
    assert not (await e.search(target)).model_used  # ... a search soon after does not try again yet ...
    now[0] += engine_mod.MODEL_RETRY_S / 2
    later = await e.search(target)  # ... one after MODEL_RETRY_S does, and uses the model
    assert later.status is SearchStatus.PROVED and later.model_used
    assert builds == [100.0, 100.0 + engine_mod.MODEL_RETRY_S]
    await e.search(target)
    assert len(builds) == 2  # a model that was built is kept
    await e.aclose()


async def test_a_model_build_cancelled_midway_is_built_by_the_next_search(tmp_path, monkeypatch):
    # The search that started the build was cancelled (the user typed, or pressed cancel) while the model was
    # being built: the next one builds it, instead of finding "built" set with no model and no reason, for good.
    from lean_copilot_py.models import factory

    builds: list[int] = []
    slow = asyncio.Event()

    async def build(settings: Settings):
        builds.append(len(builds))
        if len(builds) == 1:
            await slow.wait()  # cancelled here
        return FakeGenerator(lambda req, n: final_reply(thm("good")))

    monkeypatch.setattr(factory, "build_generator", build)
    cfg = Settings.model_validate({**settings(tmp_path, automation=[], cache=False).model_dump(mode="json"),
                                   "model": {"backend": "openai"}})
    e = Engine(cfg, checker_factory=lambda root: FakeChecker(rule=lambda c: proved()), family=FakeFamily())
    first = asyncio.ensure_future(e.model())
    for _ in range(100):
        if builds:
            break
        await asyncio.sleep(0.01)
    first.cancel()
    try:
        await first
    except asyncio.CancelledError:
        pass
    generator, family, why = await e.model()
    assert generator is not None and family is not None, why
    assert builds == [0, 1]
    await e.aclose()
