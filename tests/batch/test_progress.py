"""The plain progress lines: a verified skeleton and a proof Lean accepts as it is are neither proofs nor
failures in the running count."""

from __future__ import annotations

import io

from lean_copilot_py.batch.progress import PlainProgress
from lean_copilot_py.batch.report import TargetRecord


def record(name: str, outcome: str, **kw: object) -> TargetRecord:
    return TargetRecord(file="A.lean", line=3, col=4, declaration=name, kind="declaration", ordinal=0,
                        outcome=outcome, **kw)  # type: ignore[arg-type]


def test_each_outcome_is_counted_as_what_it_is() -> None:
    out = io.StringIO()
    with PlainProgress(out, 3, verb="repairing") as progress:
        progress.finished(record("a", "proved", proof="Eq.refl", origin="model:attempt-1:final"))
        progress.finished(record("b", "skeleton", skeleton="And.intro Eq.refl sorry", sorries_left=1))
        progress.grow(1)
        progress.finished(record("c", "nothing-to-repair"))
        progress.finished(record("d", "failed", reason="every attempt failed"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "repairing 3 target(s)"
    assert lines[1].startswith("[1/3] proved   a (A.lean:3:4): by model:attempt-1:final")
    assert "verified skeleton written, 1 sorry left" in lines[2]
    assert lines[2].endswith("| proved 1, failed 0, skeletons 1, remaining 1, eta " + lines[2].rsplit(" ", 1)[1])
    assert lines[3].startswith("[3/4] nothing-to-repair c") and "accepted as is 1" in lines[3]
    assert lines[4].startswith("[4/4] failed")
    assert "| proved 1, failed 1, skeletons 1, accepted as is 1, remaining 0" in lines[4]
