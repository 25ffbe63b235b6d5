"""`prove --skeletons` with the engine's double (tactic-level scenarios the prelude Lean cannot run): a failed
search's verified skeleton is written, its sorries become targets of the same run within the depth and budget
limits, a target whose sorries are all filled ends as a proof (verified once more), and the report and summary
count skeletons apart from proofs. Without --skeletons nothing of a skeleton is written."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lean_copilot_py.batch import skeletons as batch_skeletons
from lean_copilot_py.batch.command import run_prove
from lean_copilot_py.cli import SKELETON_BUDGET, SKELETON_DEPTH, _build_parser
from lean_copilot_py.core.events import SearchResult, SearchStatus
from lean_copilot_py.core.skeleton import Skeleton
from lean_copilot_py.core.types import Candidate, Outcome, Target, Verdict
from lean_copilot_py.engine.port import SearchOptions
from lean_copilot_py.testing.fake_engine import STATS, FakeEngine

from .conftest import Run

TEXT = """namespace T

theorem a (n : Nat) : n = n ∧ n + 0 = n := by
  sorry

theorem b (n : Nat) : 2 * n = n + n := by
  sorry

end T
"""
A_SKELETON = "by\n  constructor\n  · sorry -- L\n  · sorry -- R"
R_SKELETON = "cases n\n· sorry -- R0\n· sorry -- R1"  # a sorry in tactic position takes tactics


@dataclass
class SkeletonEngine(FakeEngine):
    """Answers by the line a target is on: a proof for a line holding a key of ``fills``, a failed search keeping
    a skeleton for one of ``skeletons``, a plain failure otherwise."""

    fills: dict[str, str] = field(default_factory=dict)
    skeletons: dict[str, str] = field(default_factory=dict)

    async def search(self, target: Target, options: SearchOptions | None = None) -> SearchResult:
        self.searched.append(target)
        line = target.text.split("\n")[target.proof_span.start.line]
        if target.kind.value == "declaration":
            line = target.text.split("\n")[target.decl_span.start.line]
        for key, proof in self.fills.items():
            if key in line:
                return SearchResult("s", SearchStatus.PROVED, proof=Candidate(proof, origin="fake"),
                                    verdict=Verdict(Outcome.PROVED), stats=STATS)
        for key, proof in self.skeletons.items():
            if key in line:
                sorries = proof.count("sorry")
                sk = Skeleton(Candidate(proof, origin="fake-skeleton"), Verdict(Outcome.INCOMPLETE), sorries)
                return SearchResult("s", SearchStatus.FAILED, reason="no verified proof", stats=STATS, skeleton=sk)
        return SearchResult("s", SearchStatus.FAILED, reason="no verified proof", stats=STATS)


@pytest.fixture
def file(project: Path) -> Path:
    path = project / "P" / "Skel.lean"
    path.write_text(TEXT, encoding="utf-8")
    return path


def prove(argv: list[str], engine: FakeEngine) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = run_prove(_build_parser().parse_args(["prove", *argv]), out, err, engine)
    return Run(code, out.getvalue(), err.getvalue())


def engine(**fills: str) -> SkeletonEngine:
    return SkeletonEngine(fills={"-- L": "rfl", "-- R0": "rfl", **fills},
                          skeletons={"theorem a": A_SKELETON, "-- R\n": R_SKELETON, "-- R": R_SKELETON})


def records(path: str = "r.json") -> dict[tuple[str, str, int], dict]:
    report = json.loads(Path(path).read_text())
    return {(t["declaration"], t["kind"], t["ordinal"]): t for t in report["targets"]}


def test_a_skeletons_sorries_become_targets_within_the_depth(file: Path) -> None:
    run = prove(["P/Skel.lean", "--skeletons", "--write", "--report", "r.json"], engine())
    assert run.code == 1, run.err
    written = file.read_text(encoding="utf-8")
    assert "  constructor\n  · rfl -- L\n  · cases n\n    · rfl -- R0\n    · sorry -- R1 -- R\n" in written
    recs = records()
    a = recs[("T.a", "declaration", 0)]
    assert a["outcome"] == "skeleton" and a["skeleton"] == A_SKELETON and a["sorries_left"] == 1
    subs = [t for t in json.loads(Path("r.json").read_text())["targets"] if t["depth"]]
    assert [(t["kind"], t["depth"], t["outcome"]) for t in subs] == [
        ("skeleton-sorry", 1, "proved"), ("skeleton-sorry", 2, "proved"), ("skeleton-sorry", 2, "failed"),
        ("skeleton-sorry", 1, "skeleton")]
    assert {t["parent"] for t in subs} == {"T.a/declaration/0", "T.a/skeleton-sorry/1"}
    report = json.loads(Path("r.json").read_text())
    assert report["totals"]["skeletons"] == 1 and report["totals"]["sorries_left"] == 1
    assert report["totals"]["proved"] == 0 and report["totals"]["failed"] == 1  # b
    assert "0/2 targets proved, 1 skeleton (1 sorry left), 1 not proved" in run.err
    assert "Skeleton sorries: 2 of 4 filled with verified proofs." in run.err
    assert report["files"]["P/Skel.lean"]["status"] == "written"


def test_depth_and_budget_limit_the_expansion(file: Path) -> None:
    run = prove(["P/Skel.lean", "--skeletons", "--skeleton-depth", "1", "--report", "r.json"], engine())
    assert run.code == 1, run.err
    recs = records()
    assert recs[("T.a", "skeleton-sorry", 1)]["outcome"] == "failed"  # R's own skeleton is past the depth
    assert recs[("T.a", "declaration", 0)]["sorries_left"] == 1
    assert "+  · sorry -- R" in run.out and "cases n" not in run.out  # diff mode shows the skeleton
    assert file.read_text(encoding="utf-8") == TEXT
    run = prove(["P/Skel.lean", "--skeletons", "--skeleton-budget", "1", "--report", "r.json"], engine())
    recs = records()
    assert recs[("T.a", "skeleton-sorry", 1)]["reason"].startswith("not searched: the skeleton budget (1 sorries")
    assert recs[("T.a", "declaration", 0)]["sorries_left"] == 1


def test_a_skeleton_whose_sorries_are_all_filled_ends_as_a_proof(file: Path) -> None:
    eng = engine(**{"-- R1": "rfl", "theorem b": "by\n  omega"})
    run = prove(["P/Skel.lean", "--skeletons", "--write", "--report", "r.json"], eng)
    assert run.code == 0, run.err
    recs = records()
    a = recs[("T.a", "declaration", 0)]
    assert a["outcome"] == "proved" and a["sorries_left"] == 0 and a["origin"] == "skeleton, sorries filled"
    assert recs[("T.a", "skeleton-sorry", 1)]["outcome"] == "proved"  # R: its own skeleton, all filled
    # The whole filled proof of `a` was verified once more before it counted as a proof.
    (verified,) = [(t, c) for t, c in eng.verified if t.decl_name == "a"]
    assert "cases n" in verified[1].proof and "sorry" not in verified[1].proof.replace("-- ", "")
    written = file.read_text(encoding="utf-8")
    assert "  constructor\n  · rfl -- L\n  · cases n\n    · rfl -- R0\n    · rfl -- R1 -- R\n" in written
    assert "omega" in written and "sorry" not in written
    assert "2/2 targets proved" in run.err


def test_without_skeletons_nothing_of_a_skeleton_is_written(file: Path) -> None:
    run = prove(["P/Skel.lean", "--write", "--report", "r.json"], engine())
    assert run.code == 1, run.err
    assert file.read_text(encoding="utf-8") == TEXT and run.out == ""
    assert records()[("T.a", "declaration", 0)]["outcome"] == "failed"


def test_a_skeleton_that_does_not_read_back_as_its_sorries_is_not_written(file: Path) -> None:
    # Its count says 1 sorry, but `sorry_lemma` is a name: the file would get no target to fill.
    eng = SkeletonEngine(skeletons={"theorem a": "by\n  exact sorry_lemma"})
    run = prove(["P/Skel.lean", "--skeletons", "--write"], eng)
    assert run.code == 1 and file.read_text(encoding="utf-8") == TEXT


def test_the_cli_defaults_are_the_documented_ones() -> None:
    assert (SKELETON_DEPTH, SKELETON_BUDGET) == (batch_skeletons.DEFAULT_DEPTH, batch_skeletons.DEFAULT_BUDGET)
    args = _build_parser().parse_args(["prove", "x.lean", "--skeletons"])
    assert (args.skeleton_depth, args.skeleton_budget) == (2, 8)
    with pytest.raises(SystemExit):
        _build_parser().parse_args(["prove", "x.lean", "--skeleton-depth", "0"])
