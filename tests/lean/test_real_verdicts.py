"""Every verdict the real prelude Lean 4.35 can give, through the checker and `lean --server`: proved with
no axioms and with allowed ones, failed with messages at the candidate's own positions, disallowed axioms
from the user's file and through a helper, the position-matched `#print axioms` audit, errors elsewhere in
the user's file, astral-plane identifiers, and parallel checks over slots."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lean_copilot_py.core.types import Candidate, Outcome, Pos, Span, Target, TargetKind, offset_to_pos
from tests.helpers import make_target
from tests.real_lean import lean_processes, prelude_file

from .conftest import MakeRealChecker

pytestmark = pytest.mark.real_lean

ADD_ZERO = "theorem add_zero' (a : N) : Eq (N.add a N.z) a := sorry"


async def check(make_real_checker: MakeRealChecker, decls: list[str], name: str, candidate: Candidate, **kw):
    text = prelude_file(*decls)
    checker = make_real_checker(**kw)
    return await checker.check(make_target(text, name), candidate)


async def test_proved_with_no_axioms(make_real_checker: MakeRealChecker) -> None:
    verdict = await check(make_real_checker, [ADD_ZERO], "add_zero'", Candidate("Eq.refl"))
    assert verdict.outcome is Outcome.PROVED, verdict.reason
    assert verdict.axioms == ()
    assert verdict.messages == ()


@pytest.mark.parametrize(
    ("signature", "proof", "axioms"),
    [
        (": Eq True True", "propext (fun h => h) (fun h => h)", ("propext",)),
        # the statement itself mentions `Classical.choice`: the audit counts the type's axioms too
        (": Eq (Classical.choice (Nonempty.intro N.z)) (Classical.choice (Nonempty.intro N.z))", "Eq.refl",
         ("Classical.choice",)),
        ("{r : N → N → Prop} (h : r N.z N.one) : Eq (Quot.mk r N.z) (Quot.mk r N.one)", "Quot.sound h",
         ("Quot.sound",)),
        (": Eq True True", "uses_propext", ("propext",)),  # through a lemma of the user's file
    ],
)
async def test_proved_with_allowed_axioms(make_real_checker: MakeRealChecker, signature, proof, axioms) -> None:
    verdict = await check(make_real_checker, [f"theorem t {signature} := sorry"], "t", Candidate(proof))
    assert verdict.outcome is Outcome.PROVED, verdict.reason
    assert verdict.axioms == axioms


async def test_failed_messages_are_at_the_candidates_own_positions(make_real_checker: MakeRealChecker) -> None:
    proof = "(fun (x : Eq (N.add a N.z) a) =>\n  x)\n  N.z"
    verdict = await check(make_real_checker, [ADD_ZERO], "add_zero'", Candidate(proof))
    assert verdict.outcome is Outcome.FAILED
    assert verdict.snippet == "theorem add_zero' (a : N) : Eq (N.add a N.z) a := " + proof
    mismatch = next(m for m in verdict.messages if "mismatch" in m.text.lower())
    # relative to the snippet: the argument on the proof's third line (columns are code points)
    assert (mismatch.span.start, mismatch.span.end) == (Pos(2, 2), Pos(2, 5)), verdict.messages
    assert verdict.reason.startswith("line ")


async def test_unknown_identifier_fails_at_the_name(make_real_checker: MakeRealChecker) -> None:
    verdict = await check(make_real_checker, [ADD_ZERO], "add_zero'", Candidate("no_such_lemma a"))
    assert verdict.outcome is Outcome.FAILED
    unknown = next(m for m in verdict.messages if "no_such_lemma" in m.text)
    line = verdict.snippet.split("\n")[unknown.span.start.line]
    assert line[unknown.span.start.col : unknown.span.end.col] == "no_such_lemma"


@pytest.mark.parametrize(
    ("proof", "helpers", "bad"),
    [
        ("user_ax", "", "user_ax"),  # the user's own axiom
        ("uses_user_ax", "", "user_ax"),  # through a lemma of the user's file
        ("helper", "theorem helper : Eq N.one N.two := user_ax", "user_ax"),  # through the candidate's helper
        ("cheat", "axiom cheat : Eq N.one N.two", "cheat"),  # an axiom the candidate declared
    ],
)
async def test_disallowed_axioms_fail(make_real_checker: MakeRealChecker, proof: str, helpers: str, bad: str) -> None:
    verdict = await check(
        make_real_checker, ["theorem wrong : Eq N.one N.two := sorry"], "wrong", Candidate(proof, helpers=helpers)
    )
    assert verdict.outcome is Outcome.FAILED
    assert verdict.axioms is not None and bad in verdict.axioms
    assert f"disallowed axioms: {bad}" in verdict.reason


async def test_audit_answer_counts_only_at_the_audit_line(make_real_checker: MakeRealChecker) -> None:
    """A helper that prints another constant's clean audit: Lean's answer at the wrong position proves nothing."""
    helpers = "#print axioms add_zero"
    verdict = await check(
        make_real_checker, ["theorem wrong : Eq N.one N.two := sorry"], "wrong", Candidate("user_ax", helpers=helpers)
    )
    assert any("'add_zero' does not depend on any axioms" in m.text for m in verdict.messages)
    assert verdict.outcome is Outcome.FAILED
    assert verdict.axioms == ("user_ax",)


async def test_an_example_is_audited_under_a_name_of_ours(make_real_checker: MakeRealChecker) -> None:
    text = prelude_file("example : Eq N.one N.one := sorry")
    checker = make_real_checker()
    start = text.index("example")
    end = len(text.rstrip("\n"))
    assign = text.index(":=", start) + 2
    target = Target(  # an example has no name for make_target to find
        path=Path("Prelude/Target.lean"), text=text, kind=TargetKind.DECLARATION, decl_name="", full_name="",
        decl_span=Span(offset_to_pos(text, start), offset_to_pos(text, end)), header=text[start:assign],
        proof_span=Span(offset_to_pos(text, assign), offset_to_pos(text, end)), indent=0,
    )
    proved = await checker.check(target, Candidate("Eq.refl"))
    assert proved.outcome is Outcome.PROVED, proved.reason
    cheated = await checker.check(target, Candidate("(fun (_ : Eq N.one N.two) => Eq.refl) user_ax"))
    assert cheated.outcome is Outcome.FAILED and "user_ax" in cheated.reason


async def test_errors_elsewhere_in_the_users_file_never_fail_a_candidate(make_real_checker: MakeRealChecker) -> None:
    before = [
        "theorem broken : Eq N.one N.two := Eq.refl",  # a type mismatch (and prelude's "internal exception #3")
        "theorem unfinished : Eq N.one N.one := sorry",
        "def typo : N := N.zz",
    ]
    after = "theorem later : Eq N.z N.one := nope"
    text = prelude_file(*before, ADD_ZERO, after)
    checker = make_real_checker()
    target = make_target(text, "add_zero'")
    verdict = await checker.check(target, Candidate("Eq.refl"))
    assert verdict.outcome is Outcome.PROVED, verdict.reason
    assert verdict.messages == ()
    failed = await checker.check(target, Candidate("N.z"))
    assert failed.outcome is Outcome.FAILED
    assert all(m.span.start.line >= 0 for m in failed.messages)
    assert not any("zz" in m.text or "nope" in m.text for m in failed.messages)


async def test_astral_plane_identifiers_before_the_target(make_real_checker: MakeRealChecker) -> None:
    """Lean counts UTF-16 units (𝔸 is two); the checker's positions are code points, as Python indexes text."""
    text = prelude_file(
        "def 𝔸𝔹 : N := N.s N.z",
        "theorem 𝕜_eq (𝔵 : N) : Eq (N.add 𝔵 N.z) 𝔵 := sorry",
    )
    checker = make_real_checker()
    target = make_target(text, "𝕜_eq")
    assert (await checker.check(target, Candidate("Eq.refl"))).outcome is Outcome.PROVED
    verdict = await checker.check(target, Candidate("(fun (𝔶 : N) => 𝔶) 𝔸𝔹"))
    assert verdict.outcome is Outcome.FAILED
    mismatch = next(m for m in verdict.messages if "mismatch" in m.text.lower())
    line = verdict.snippet.split("\n")[mismatch.span.start.line]
    assert line[mismatch.span.start.col :].startswith("(fun (𝔶 : N) => 𝔶) 𝔸𝔹")
    assert line[mismatch.span.end.col :] == ""  # the whole application, to the end of the line
    proved_text = text.replace(":= sorry", ":= Eq.refl")
    line = target.decl_span.start.line
    goals = await checker.goals_at(target.path, proved_text, Pos(line, proved_text.split("\n")[line].index("Eq.refl")))
    assert goals == ["𝔵 : N\n⊢ Eq (𝔵.add N.z) 𝔵"]


async def test_parallel_checks_use_one_worker_per_slot(make_real_checker: MakeRealChecker) -> None:
    text = prelude_file(ADD_ZERO, "theorem wrong : Eq N.one N.two := sorry")
    checker = make_real_checker(slots=3)
    good = [checker.check(make_target(text, "add_zero'"), Candidate(f"(fun (x{i} : N) => Eq.refl) N.z"))
            for i in range(4)]
    bad = [checker.check(make_target(text, "wrong"), Candidate(f"(fun (x{i} : N) => user_ax) N.z")) for i in range(2)]
    verdicts = await asyncio.gather(*good, *bad)
    assert [v.outcome for v in verdicts] == [Outcome.PROVED] * 4 + [Outcome.FAILED] * 2, [v.reason for v in verdicts]
    assert all("user_ax" in v.reason for v in verdicts[4:])
    shadows = {p.cmdline()[-1] for p in lean_processes("--worker") if "LeanCopilotShadow" in p.cmdline()[-1]}
    assert len(shadows) == 3  # every slot was used, each its own worker
