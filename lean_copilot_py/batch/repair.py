"""`lean-copilot repair PATH…`: the targets are the declarations whose proofs Lean rejects, found from one
whole-document check per file (core/repair.py ``scan_for_repairs``); everything after that is `prove`'s machinery
(batch/command.py, runner.py, writeback.py): the same progress bar, report, --resume, diff and safe --write.

What is never "repaired": a declaration whose statement has an error (statements are pinned), an error outside any
declaration, errors in declarations that are not proofs (unless --include-defs), and every error of a file whose
imports failed (its other errors say nothing; the file is reported as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from ..core.outline import DECL_KEYWORDS
from ..core.repair import PROOF_KEYWORDS, scan_for_repairs
from ..core.types import Outcome
from ..engine.port import EnginePort
from .report import FileRecord, Report, Unrepaired
from .runner import FileJob, target_ids
from .writeback import Snapshot


def repair_keywords(include_defs: bool) -> frozenset[str]:
    return frozenset(DECL_KEYWORDS) if include_defs else PROOF_KEYWORDS


async def repair_jobs(
    snapshots: Sequence[tuple[Snapshot, str]], engine: EnginePort, report: Report, *, include_defs: bool, err: TextIO
) -> tuple[list[FileJob], set[tuple[str, str, str, int]]]:
    """One whole-document check per file, its messages sorted into repair targets (earliest first), unrepairable
    places and import problems (recorded in ``report``); the jobs and the targets' report keys."""
    jobs: list[FileJob] = []
    keys: set[tuple[str, str, str, int]] = set()
    keywords = repair_keywords(include_defs)
    for snap, display in snapshots:
        try:
            verdict = await engine.check_document(snap.path, snap.text)
        except Exception as exc:  # Lean's failure modes are many: this file is not repaired, the others are
            verdict = None
            why = f"the whole-file Lean check could not run: {type(exc).__name__}: {exc}"
        else:
            why = f"the whole-file Lean check could not run: {verdict.reason or verdict.outcome.value}"
        if verdict is None or verdict.outcome in (Outcome.TIMEOUT, Outcome.CRASHED):
            report.files[display] = FileRecord(sha256=snap.sha256, targets=0, status="error", detail=why)
            err.write(f"{display}: {why}\n")
            continue
        scan = scan_for_repairs(snap.path, snap.text, verdict.messages, keywords=keywords)
        if scan.import_problem is not None:
            report.files[display] = FileRecord(sha256=snap.sha256, targets=0, status="import-error",
                                               detail=scan.import_problem)
            continue
        for u in scan.unrepairable:
            report.unrepairable.append(Unrepaired(display, u.span.start.line + 1, u.decl_name, u.reason))
        keys.update((display, i.declaration, i.kind, i.ordinal) for i in target_ids(scan.targets))
        jobs.append(FileJob(snap, display, targets=list(scan.targets)))
    return jobs, keys


def repair_summary_head(report: Report, t: dict[str, Any]) -> list[str]:
    """The summary's first lines for `repair`: repaired / skeletons (--skeletons) / not repaired and why /
    unrepairable."""
    skeletons = ""
    if t["skeletons"]:
        s, left = t["skeletons"], t["sorries_left"]
        skeletons = (f", {s} {'skeleton' if s == 1 else 'skeletons'} ({left} "
                     f"{'sorry' if left == 1 else 'sorries'} left)")
    head = (f"{t['proved']}/{t['targets']} declarations repaired{skeletons}, {t['failed']} not repaired"
            + (f", {t['nothing_to_repair']} accepted by Lean as they are (nothing to repair)"
               if t["nothing_to_repair"] else "")
            + (f", {t['remaining']} not attempted" if t["remaining"] else "")
            + (f", {len(report.unrepairable)} unrepairable" if report.unrepairable else "")
            + f" ({t['time_s']:.1f}s of search).")
    lines = [head]
    if t["skeleton_sorries"]:
        lines.append(f"Skeleton sorries: {t['skeleton_sorries_filled']} of {t['skeleton_sorries']} filled "
                     "with verified proofs.")
    for r in report.targets:
        if r.depth:
            continue
        if r.outcome == "skeleton":
            left = f"{r.sorries_left} {'sorry' if r.sorries_left == 1 else 'sorries'} left"
            lines.append(f"  skeleton: {r.declaration} ({r.where}): its broken proof is replaced by a verified "
                         f"skeleton, {left}")
        elif r.outcome not in ("proved", "nothing-to-repair"):
            lines.append(f"  not repaired: {r.declaration} ({r.where}): {r.reason or r.outcome}")
    for u in report.unrepairable:
        name = f"{u.declaration} " if u.declaration else ""
        lines.append(f"  unrepairable: {name}({u.file}:{u.line}): {u.reason}")
    return lines
