"""Issue 16 §2 on the real Lean 4.35 (prelude): model code cannot change what the user's statement means.

The checked document pins the user's statement as an axiom before any model code and makes Lean check
that the proved declaration has exactly that type (lean/shadow.py). These tests run the real
`lean --server` through LeanChecker, and the whole search through Engine and `prove --write`.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lean_copilot_py.batch.command import run_prove
from lean_copilot_py.cli import _build_parser
from lean_copilot_py.core.events import SearchStatus
from lean_copilot_py.core.screen import screen_candidate
from lean_copilot_py.core.types import Candidate, Outcome
from lean_copilot_py.engine.engine import Engine
from lean_copilot_py.lean import LeanChecker
from lean_copilot_py.settings import LeanSettings, Settings
from tests.core.conftest import FakeFamily, FakeGenerator, final_reply
from tests.helpers import make_target
from tests.real_lean import RealLean, prelude_file

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(180)]

OP = """class Op (α : Type) where
  op : α → α → α

instance userOp : Op N := ⟨fun a _ => a⟩"""
OP_COMM = "theorem op_comm (a b : N) : Eq (Op.op a b) (Op.op b a) := sorry"  # false under userOp
EVIL = "instance evilOp : Op N := ⟨fun _ _ => N.z⟩"
DECLS = [
    OP,
    OP_COMM,
    "theorem add_z (a : N) : Eq (N.add a N.z) a := sorry",
    "theorem poly {α : Sort v} (a : α) : Eq a a := sorry",
    "theorem inst_implicit {α : Type} [inst : Op α] {x : α} : Eq (Op.op x x) (@Op.op α inst x x) := sorry",
    "noncomputable def some_n : N := sorry",
    "theorem bad_statement (a : N) : Eq a N.s := sorry",
    "example : Eq N.one (N.s N.z) := sorry",
    "instance : Op Bool := sorry",
]
TEXT = prelude_file(*DECLS)


@pytest.fixture
async def checked(real_lean: RealLean, prelude_project: Path) -> AsyncIterator[tuple[LeanChecker, Path]]:
    path = prelude_project / "Prelude" / "Pinning.lean"
    path.write_text(TEXT, encoding="utf-8")
    checker = LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), slots=2))
    yield checker, path
    await checker.aclose()


async def test_the_fixture_really_is_false_and_the_evil_instance_really_proves_it(real_lean: RealLean,
                                                                                  prelude_project: Path) -> None:
    # Without the check, the helper instance makes `Eq.refl` prove the (false) user statement.
    plain = prelude_file(OP, EVIL, OP_COMM.replace("sorry", "Eq.refl"))
    (prelude_project / "Plain.lean").write_text(plain, encoding="utf-8")
    done = real_lean.run(prelude_project / "Plain.lean")
    assert "error" not in done.stdout, done.stdout
    honest = prelude_file(OP, OP_COMM.replace("sorry", "Eq.refl"))
    (prelude_project / "Honest.lean").write_text(honest, encoding="utf-8")
    assert "error" in real_lean.run(prelude_project / "Honest.lean").stdout


async def test_an_instance_helper_that_changes_the_statement_is_not_proved(checked) -> None:
    checker, path = checked
    # Even handed straight to the checker (pinning and screening would refuse this helper first).
    v = await checker.check(make_target(TEXT, "op_comm", path=path), Candidate("Eq.refl", helpers=EVIL))
    assert v.outcome is Outcome.FAILED, v.reason
    assert v.reason.startswith("the proof changes what the statement means: Type mismatch")
    assert any("evilOp" in m.text and "userOp" in m.text for m in v.messages)  # Lean's types, for the model
    assert screen_candidate(Candidate("Eq.refl", helpers=EVIL), strict=True) is not None


async def test_an_honest_helper_lemma_still_proves(checked) -> None:
    checker, path = checked
    helper = "private theorem add_z_helper (a : N) : Eq (N.add a N.z) a := Eq.refl"
    v = await checker.check(make_target(TEXT, "add_z", path=path), Candidate("add_z_helper a", helpers=helper))
    assert v.outcome is Outcome.PROVED, v.reason
    assert v.axioms == ()


async def test_universe_polymorphic_implicit_and_instance_binders_prove(checked) -> None:
    checker, path = checked
    for name in ("poly", "inst_implicit"):
        v = await checker.check(make_target(TEXT, name, path=path), Candidate("Eq.refl"))
        assert v.outcome is Outcome.PROVED, (name, v.reason)


async def test_data_targets_an_example_and_an_anonymous_instance_are_checked_too(checked) -> None:
    checker, path = checked
    v = await checker.check(make_target(TEXT, "some_n", path=path), Candidate("N.add N.z N.one"))
    assert v.outcome is Outcome.PROVED, v.reason
    assert not any("proposition" in m.text for m in v.messages)  # `noncomputable def` check: no linter noise
    v = await checker.check(make_target(TEXT, "instance", path=path), Candidate("⟨fun a _ => a⟩"))
    assert v.outcome is Outcome.PROVED, v.reason
    ex = make_target(TEXT, "example", path=path)
    v = await checker.check(ex, Candidate("Eq.refl"))
    assert v.outcome is Outcome.PROVED, v.reason
    assert (await checker.check(ex, Candidate("N.z"))).outcome is Outcome.FAILED


async def test_a_proof_using_the_pinned_statement_is_refused_and_fails_the_audit(checked) -> None:
    checker, path = checked
    cheat = Candidate("_lean_copilot_pinned_statement a b")
    refused = screen_candidate(cheat, strict=False)
    assert refused is not None and "reserved" in refused.reason
    # Handed straight to the checker, the audit names it: the check constant depends on it.
    v = await checker.check(make_target(TEXT, "op_comm", path=path), cheat)
    assert v.outcome is Outcome.FAILED, v.reason
    assert "pinned copy of the statement" in v.reason


async def test_a_statement_that_does_not_elaborate_says_so(checked) -> None:
    checker, path = checked
    v = await checker.check(make_target(TEXT, "bad_statement", path=path), Candidate("Eq.refl"))
    assert v.outcome is Outcome.FAILED
    assert v.reason.startswith("the statement itself does not elaborate") and "mismatch" in v.reason.lower()


# --- end to end: a search with a scripted model, and `prove --write` -----------------------------------

EVIL_ANSWER = f"{EVIL}\n\n{OP_COMM.replace('sorry', 'Eq.refl')}"
HONEST_ANSWER = "theorem h (a : N) : Eq (N.add a N.z) a := Eq.refl\n\ntheorem add_z (a : N) : Eq (N.add a N.z) a := h a"


def _engine(real_lean: RealLean, tmp_path: Path, answer: str) -> tuple[Engine, FakeGenerator]:
    settings = Settings.model_validate({
        "search": {"automation": [], "attempts": 1, "cache": False, "deadline_s": 60},
        "lean": {"server_command": real_lean.server_command(), "slots": 1},
        "paths": {"cache_dir": str(tmp_path / "cache")},
        "model": {"backend": "none"},
    })
    gen = FakeGenerator(lambda req, n: final_reply(answer))
    engine = Engine(settings, checker_factory=lambda root: LeanChecker(root, settings.lean), generator=gen,
                    family=FakeFamily())
    return engine, gen


async def test_engine_search_does_not_prove_with_an_evil_instance(real_lean, prelude_project, tmp_path) -> None:
    path = prelude_project / "Prelude" / "Pinning.lean"
    path.write_text(TEXT, encoding="utf-8")
    engine, gen = _engine(real_lean, tmp_path, EVIL_ANSWER)
    try:
        res = await engine.search(make_target(TEXT, "op_comm", path=path))
    finally:
        await engine.aclose()
    assert gen.requests, "the model was asked"
    assert res.status is not SearchStatus.PROVED and res.proof is None, res.reason


async def test_engine_search_proves_with_an_honest_helper_made_private(real_lean, prelude_project, tmp_path):
    path = prelude_project / "Prelude" / "Pinning.lean"
    path.write_text(TEXT, encoding="utf-8")
    engine, _ = _engine(real_lean, tmp_path, HONEST_ANSWER)
    try:
        res = await engine.search(make_target(TEXT, "add_z", path=path))
    finally:
        await engine.aclose()
    assert res.status is SearchStatus.PROVED, res.reason
    assert res.proof is not None and res.proof.helpers == "private theorem h (a : N) : Eq (N.add a N.z) a := Eq.refl"


def _prove_write(real_lean: RealLean, project: Path, tmp_path: Path, answer: str, file: Path, line: int) -> int:
    engine, _ = _engine(real_lean, tmp_path, answer)
    args = _build_parser().parse_args(["prove", str(file), "--line", str(line), "--write"])
    return run_prove(args, io.StringIO(), io.StringIO(), engine)


def test_prove_write_leaves_the_file_untouched_by_an_evil_instance(real_lean, prelude_project, tmp_path,
                                                                   monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path = prelude_project / "Prelude" / "Pinning.lean"
    path.write_text(TEXT, encoding="utf-8")
    line = TEXT.split("\n").index(OP_COMM) + 1
    code = _prove_write(real_lean, prelude_project, tmp_path, EVIL_ANSWER, path, line)
    assert code != 0
    assert path.read_text(encoding="utf-8") == TEXT
    # ... while an honest helper is written, private, right above the proved theorem.
    line = TEXT.split("\n").index(DECLS[2]) + 1
    assert _prove_write(real_lean, prelude_project, tmp_path, HONEST_ANSWER, path, line) == 0
    written = path.read_text(encoding="utf-8")
    assert "private theorem h (a : N) : Eq (N.add a N.z) a := Eq.refl\n\ntheorem add_z (a : N)" in written
    assert "_lean_copilot" not in written and "lean_copilot_statement_check" not in written
