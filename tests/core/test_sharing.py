"""core/sharing.py against a gated in-memory checker: one check per document, a memo that forgets on an
environment change, and cancellation that stops a check only when nobody waits for it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from lean_copilot_py.core.protocols import CheckPriority
from lean_copilot_py.core.sharing import SharedChecks
from lean_copilot_py.core.types import Candidate, LeanMessage, Outcome, Pos, Severity, Span, Target, Verdict
from lean_copilot_py.lean.shadow import shadow_for
from tests.helpers import make_target


@dataclass
class GatedChecker:
    """Every check waits for ``gate``; records what it was asked, with what priority, and what was cancelled.
    The verdict puts an error on the line of the snippet that holds `bogus` (as Lean would)."""

    outcome: Outcome = Outcome.FAILED
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    asked: list[Candidate] = field(default_factory=list)
    priorities: list[CheckPriority | None] = field(default_factory=list)
    cancelled: list[Candidate] = field(default_factory=list)
    environment_epoch: int = 0
    closed: bool = False

    async def goals_at(self, path, text, pos):
        return None

    async def check(self, target: Target, candidate: Candidate, *, timeout: float | None = None,  # noqa: ASYNC109
                    priority: CheckPriority | None = None) -> Verdict:
        self.asked.append(candidate)
        self.priorities.append(priority)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(candidate)
            raise
        snippet = shadow_for(target, candidate).snippet
        lines = snippet.split("\n")
        msgs = tuple(LeanMessage(Severity.ERROR, Span(Pos(i, ln.index("bogus")), Pos(i, ln.index("bogus") + 5)),
                                 "unknown identifier 'bogus'") for i, ln in enumerate(lines) if "bogus" in ln)
        return Verdict(self.outcome, messages=msgs, reason="r", elapsed=60.0, snippet=snippet)

    async def aclose(self) -> None:
        self.closed = True


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_identical_and_variant_candidates_share_one_check(target: Target) -> None:
    inner = GatedChecker()
    shared = SharedChecks(inner)
    plain = Candidate("by\n  intro n\n  simp [bogus]")
    variant = Candidate("by\n  intro n -- name it\n\n  -- then\n  simp [bogus]  ")
    tasks = [asyncio.create_task(shared.check(target, c)) for c in (plain, plain, variant)]
    await settle()
    inner.gate.set()
    verdicts = await asyncio.gather(*tasks)
    assert len(inner.asked) == 1 and shared.stats.sent == 1 and shared.stats.joined == 2
    # Each caller reads the error where its own text has `bogus`.
    for cand, v in zip((plain, plain, variant), verdicts, strict=True):
        own = shadow_for(target, cand).snippet
        at = v.messages[0].span.start
        assert own.split("\n")[at.line][at.col:at.col + 5] == "bogus"
        assert v.snippet == own
    assert verdicts[2].messages[0].span.start.line == verdicts[0].messages[0].span.start.line + 2


async def test_memo_answers_later_asks_until_the_environment_changes(target: Target) -> None:
    inner = GatedChecker()
    inner.gate.set()
    shared = SharedChecks(inner)
    cand = Candidate("by\n  simp")
    await shared.check(target, cand)
    await shared.check(target, Candidate("by\n  simp -- again"))
    assert len(inner.asked) == 1 and shared.stats.memo_hits == 1
    inner.environment_epoch += 1  # e.g. Lean reported a rebuilt import
    await shared.check(target, cand)
    assert len(inner.asked) == 2 and shared.stats.epochs == 1


async def test_crashes_are_not_remembered_timeouts_only_for_no_larger_budgets(target: Target) -> None:
    inner = GatedChecker(outcome=Outcome.CRASHED)
    inner.gate.set()
    shared = SharedChecks(inner, default_timeout=60.0)
    cand = Candidate("by\n  simp")
    await shared.check(target, cand)
    await shared.check(target, cand)
    assert len(inner.asked) == 2  # a crash may not happen again
    inner.outcome = Outcome.TIMEOUT
    await shared.check(target, Candidate("by\n  slow"), timeout=10.0)
    await shared.check(target, Candidate("by\n  slow"), timeout=5.0)
    assert len(inner.asked) == 3  # a 10 s timeout settles a 5 s budget
    await shared.check(target, Candidate("by\n  slow"), timeout=60.0)
    assert len(inner.asked) == 4  # but not a 60 s one


async def test_a_timeout_is_forgotten_after_its_ttl(target: Target) -> None:
    inner = GatedChecker(outcome=Outcome.TIMEOUT)
    inner.gate.set()
    shared = SharedChecks(inner, timeout_ttl_s=0.0)
    await shared.check(target, Candidate("by\n  slow"))
    await shared.check(target, Candidate("by\n  slow"))
    assert len(inner.asked) == 2


async def test_a_cancelled_waiter_leaves_the_check_to_the_others(target: Target) -> None:
    inner = GatedChecker()
    shared = SharedChecks(inner)
    cand = Candidate("by\n  simp")
    first = asyncio.create_task(shared.check(target, cand))
    second = asyncio.create_task(shared.check(target, cand))
    await settle()
    first.cancel()
    await settle()
    assert first.cancelled() and not inner.cancelled
    inner.gate.set()
    assert (await second).outcome is Outcome.FAILED
    assert len(inner.asked) == 1


async def test_a_check_nobody_waits_for_is_cancelled_at_once(target: Target) -> None:
    inner = GatedChecker()
    shared = SharedChecks(inner)
    cand = Candidate("by\n  simp")
    waiters = [asyncio.create_task(shared.check(target, cand)) for _ in range(2)]
    await settle()
    for w in waiters:
        w.cancel()
    await settle()
    assert inner.cancelled == [inner.asked[0]] and shared.stats.abandoned == 1
    # Asked again later: a new check (the abandoned one gave no verdict to remember).
    again = asyncio.create_task(shared.check(target, cand))
    await settle()
    inner.gate.set()
    await again
    assert len(inner.asked) == 2


async def test_a_shared_check_carries_its_best_waiters_priority(target: Target) -> None:
    inner = GatedChecker()
    shared = SharedChecks(inner)
    cand = Candidate("by\n  simp")
    low = asyncio.create_task(shared.check(target, cand, priority=CheckPriority(turn=0, owner="a1")))
    await settle()
    sent = inner.priorities[0]
    assert sent is not None and sent.rank() == (1, 0)
    high = asyncio.create_task(shared.check(target, cand, priority=CheckPriority(final=True, owner="s")))
    await settle()
    assert sent.rank() == (0, 0) and sent.owner == "s"  # raised in place, while the check waits
    high.cancel()
    await settle()
    assert sent.rank() == (1, 0)  # the urgent waiter left: back to the remaining one's
    inner.gate.set()
    await low


async def test_other_attributes_pass_through(target: Target) -> None:
    inner = GatedChecker()
    shared = SharedChecks(inner)
    assert shared.environment_epoch == 0
    await shared.aclose()
    assert inner.closed


@pytest.mark.real_lean
async def test_on_real_lean_a_shared_verdict_is_what_the_variant_gets_alone(real_lean, prelude_project) -> None:
    """Two variants of one failing proof through one real `lean --server`: one check is shared, and each
    variant's verdict (message positions, texts, snippet) is what checking that variant by itself gives."""
    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.settings import LeanSettings
    from tests.real_lean import prelude_file

    text = prelude_file("theorem add_zero' (a : N) : Eq (N.add a N.z) a := sorry")
    path = prelude_project / "Prelude" / "Target.lean"
    path.write_text(text, encoding="utf-8")
    target = make_target(text, "add_zero'", path=path)
    variants = [Candidate("Eq.refl\n  bogus_ident"),
                Candidate("Eq.refl -- reflexivity\n  -- applied to the wrong thing\n\n  bogus_ident")]
    lean = LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), slots=1))
    shared = SharedChecks(lean)
    try:
        together = await asyncio.gather(*(shared.check(target, c) for c in variants))
        assert shared.stats.sent == 1
        alone = [await lean.check(target, c) for c in variants]  # each as itself, no sharing
    finally:
        await shared.aclose()
    for t, a in zip(together, alone, strict=True):
        assert a.outcome is Outcome.FAILED and t.outcome is a.outcome
        assert [(m.span, m.text) for m in t.messages] == [(m.span, m.text) for m in a.messages]
        assert t.snippet == a.snippet and t.reason == a.reason
    # Lean's error covers the proof, to `bogus_ident`: two lines further down in the variant with comments.
    assert together[1].messages[0].span.end.line == together[0].messages[0].span.end.line + 2
