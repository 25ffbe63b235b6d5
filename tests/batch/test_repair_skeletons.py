"""`repair --skeletons` with the engine's double: a failed repair's verified skeleton replaces the broken proof
(only with the flag), its sorries become targets of the same run within the depth and budget limits, a declaration
whose sorries are all filled ends repaired (its whole proof verified once more), and the summary counts skeletons
apart from repairs. The user's text outside the replaced proof stays byte for byte as it was."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lean_copilot_py.batch.command import run_repair
from lean_copilot_py.cli import _build_parser

from .conftest import Run
from .test_prove_skeletons import A_SKELETON, R_SKELETON, SkeletonEngine
from .test_repair_fake_engine import errors_at

BROKEN_A = " by\n  constructorr\n  simp"
TEXT = f"""namespace T

theorem early : True := by
  sorry

theorem a (n : Nat) : n = n ∧ n + 0 = n :={BROKEN_A}

theorem ok (n : Nat) : n = n := rfl

theorem b (n : Nat) : 2 * n = n + n := by
  omegaa

theorem c (n : Nat) : n = n := by
  rfll

end T
"""
CHECK = errors_at("constructorr", "omegaa", "rfll")


@pytest.fixture
def file(project: Path) -> Path:
    path = project / "P" / "Fix.lean"
    path.write_text(TEXT, encoding="utf-8")
    return path


def repair(argv: list[str], engine: SkeletonEngine) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = run_repair(_build_parser().parse_args(["repair", *argv]), out, err, engine)
    return Run(code, out.getvalue(), err.getvalue())


def engine(**fills: str) -> SkeletonEngine:
    return SkeletonEngine(fills={"-- L": "rfl", "-- R0": "rfl", "theorem c": "by\n  rfl", **fills},
                          skeletons={"theorem a": A_SKELETON, "-- R": R_SKELETON}, document_checker=CHECK)


def report(path: str = "r.json") -> dict:
    return json.loads(Path(path).read_text())


def assert_outside_a_untouched(written: str) -> str:
    """The text before and after `a`'s proof is the user's, byte for byte; ``a``'s proof as written."""
    head, tail = TEXT.split(BROKEN_A)
    tail = tail.replace("by\n  rfll", "by\n  rfl")  # c's verified repair, the only other edit
    assert written.startswith(head) and written.endswith(tail), written
    return written[len(head): len(written) - len(tail)]


def test_a_skeleton_replaces_the_broken_proof_and_its_sorries_become_targets(file: Path) -> None:
    eng = engine()
    run = repair(["P/Fix.lean", "--skeletons", "--write", "--report", "r.json"], eng)
    assert run.code == 1, run.err
    proof = assert_outside_a_untouched(file.read_text(encoding="utf-8"))
    assert proof == " by\n  constructor\n  · rfl -- L\n  · cases n\n    · rfl -- R0\n    · sorry -- R1 -- R"
    rep = report()
    tops = {t["declaration"]: t for t in rep["targets"] if not t["depth"]}
    assert {k: v["outcome"] for k, v in tops.items()} == {"T.a": "skeleton", "T.b": "failed", "T.c": "proved"}
    assert tops["T.a"]["kind"] == "repair" and tops["T.a"]["skeleton"] == A_SKELETON
    assert tops["T.a"]["sorries_left"] == 1
    subs = [(t["kind"], t["depth"], t["outcome"], t["parent"]) for t in rep["targets"] if t["depth"]]
    assert subs == [("skeleton-sorry", 1, "proved", "T.a/repair/0"),
                    ("skeleton-sorry", 2, "proved", "T.a/skeleton-sorry/1"),
                    ("skeleton-sorry", 2, "failed", "T.a/skeleton-sorry/1"),
                    ("skeleton-sorry", 1, "skeleton", "T.a/repair/0")]
    # `early`'s own sorry was never searched: only repair targets and the skeleton's sorries were.
    assert not any("theorem early" in t.text.split("\n")[t.proof_span.start.line] for t in eng.searched)
    assert rep["totals"]["skeletons"] == 1 and rep["files"]["P/Fix.lean"]["status"] == "written"
    assert "1/3 declarations repaired, 1 skeleton (1 sorry left), 1 not repaired" in run.err
    assert "Skeleton sorries: 2 of 4 filled with verified proofs." in run.err
    assert "skeleton: T.a (P/Fix.lean:6:43): its broken proof is replaced by a verified skeleton, 1 sorry left" \
        in run.err
    assert "not repaired: T.b" in run.err and "not repaired: T.a" not in run.err


def test_a_skeleton_whose_sorries_are_all_filled_ends_repaired(file: Path) -> None:
    eng = engine(**{"-- R1": "rfl", "theorem b": "by\n  omega"})
    run = repair(["P/Fix.lean", "--skeletons", "--write", "--report", "r.json"], eng)
    assert run.code == 0, run.err
    tops = {t["declaration"]: t for t in report()["targets"] if not t["depth"]}
    a = tops["T.a"]
    assert a["outcome"] == "proved" and a["sorries_left"] == 0 and a["origin"] == "skeleton, sorries filled"
    # The filled proof of `a` was verified once more, as a whole, before it counted as repaired.
    (verified,) = [c for t, c in eng.verified if t.decl_name == "a"]
    assert verified.proof == a["proof"] and "cases n" in a["proof"] and "sorry" not in a["proof"].replace("-- ", "")
    written = file.read_text(encoding="utf-8")
    assert "  · rfl -- L\n  · cases n\n    · rfl -- R0\n    · rfl -- R1 -- R\n" in written
    assert written.count("sorry") == 1  # `early`'s, the user's own
    assert "3/3 declarations repaired, 0 not repaired" in run.err and "skeleton (" not in run.err


def test_depth_and_budget_limit_the_expansion(file: Path) -> None:
    run = repair(["P/Fix.lean", "--skeletons", "--skeleton-depth", "1", "--report", "r.json"], engine())
    assert run.code == 1, run.err
    recs = {(t["declaration"], t["kind"], t["ordinal"]): t for t in report()["targets"]}
    assert recs[("T.a", "skeleton-sorry", 1)]["outcome"] == "failed"  # R's own skeleton is past the depth
    assert recs[("T.a", "repair", 0)]["sorries_left"] == 1
    assert "+  · sorry -- R" in run.out and "cases n" not in run.out and "-  constructorr" in run.out
    assert file.read_text(encoding="utf-8") == TEXT  # diff mode
    run = repair(["P/Fix.lean", "--skeletons", "--skeleton-budget", "1", "--report", "r.json"], engine())
    recs = {(t["declaration"], t["kind"], t["ordinal"]): t for t in report()["targets"]}
    assert recs[("T.a", "skeleton-sorry", 1)]["reason"].startswith("not searched: the skeleton budget (1 sorries")
    assert recs[("T.a", "repair", 0)]["sorries_left"] == 1
    assert "1/3 declarations repaired, 1 skeleton (1 sorry left), 1 not repaired" in run.err


def test_without_the_flag_nothing_of_a_skeleton_is_written(file: Path) -> None:
    run = repair(["P/Fix.lean", "--write", "--report", "r.json"], engine())
    assert run.code == 1, run.err
    written = file.read_text(encoding="utf-8")
    assert assert_outside_a_untouched(written) == BROKEN_A  # the user's broken proof stays as it was
    assert written.count("sorry") == 1 and "· " not in run.out
    tops = {t["declaration"]: t for t in report()["targets"]}
    assert tops["T.a"]["outcome"] == "failed" and tops["T.a"]["skeleton"] is None
    assert "1/3 declarations repaired, 2 not repaired" in run.err


def test_sorries_the_broken_proof_held_go_with_it(project: Path) -> None:
    # The user's broken proof has a sorry of its own: it is replaced with the rest, not counted as a new target.
    path = project / "P" / "Held.lean"
    text = "theorem a (n : Nat) : n = n ∧ n + 0 = n := by\n  constructorr\n  sorry\n"
    path.write_text(text, encoding="utf-8")
    eng = SkeletonEngine(fills={"-- L": "rfl", "-- R": "simp"}, skeletons={"theorem a": A_SKELETON},
                         document_checker=CHECK)
    run = repair(["P/Held.lean", "--skeletons", "--write", "--report", "r.json"], eng)
    assert run.code == 0, run.err
    assert path.read_text(encoding="utf-8") == ("theorem a (n : Nat) : n = n ∧ n + 0 = n := by\n  constructor\n"
                                                "  · rfl -- L\n  · simp -- R\n")
    assert "1/1 declarations repaired, 0 not repaired" in run.err
