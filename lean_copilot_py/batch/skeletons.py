"""`prove --skeletons` and `repair --skeletons`: a failed search's verified skeleton is written in place of the
target's proof (for `repair`: of the user's broken proof), and its `sorry`s become targets of the same run, proved
right after it (so that targets later in the file are found as they always are: every sorry left in the text
before them counts as a target left in place).

Limits: ``depth`` levels of skeletons (1: the sorries of a target's skeleton are searched, but a failed search of
one of them writes no skeleton of its own), and ``budget`` sorries searched per target of the file, across all
levels; sorries past it stay as they are. A target whose skeleton's sorries are all filled ends as a proof: for a
whole declaration its complete proof is verified once more (the engine's final verification). Nothing here writes
a file: the text is the run's, and `--write` checks the whole file before saving it (batch/writeback.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.geometry import location
from ..core.outline import outline
from ..core.skeleton import Skeleton
from ..core.splice import spliced_document
from ..core.targets import enclosing_declaration, find_targets
from ..core.types import Candidate, Target, TargetKind, pos_to_offset
from .report import TargetRecord

if TYPE_CHECKING:
    from .runner import BatchRunner, FileJob, FileResult

DEFAULT_DEPTH = 2
DEFAULT_BUDGET = 8
SUB_KIND = "skeleton-sorry"


@dataclass(frozen=True)
class SkeletonPolicy:
    depth: int = DEFAULT_DEPTH  # levels of skeletons written per target of the file
    budget: int = DEFAULT_BUDGET  # skeleton sorries searched per target of the file, all levels together


@dataclass
class _Spend:
    """One file target's expansion: what is left of its budget."""

    left: int


def _written(target: Target, skeleton: Skeleton, text: str) -> tuple[str, int] | None:
    """The text with the skeleton in place of the target's proof, and how many new targets it brings; None when
    they are not exactly the skeleton's sorries (the finder reads the new text differently: not written)."""
    if target.text != text:
        return None
    before = find_targets(target.path, text)
    # The targets the replaced proof held go with it: the sorry being proved, or (a repair's broken proof) any
    # sorries the user had left in it.
    inside = sum(_within(t, target) for t in before)
    new_text = spliced_document(target, skeleton.candidate)
    new = len(find_targets(target.path, new_text)) - len(before) + inside
    if new != skeleton.sorries or new <= 0:
        return None
    return new_text, new


def _within(t: Target, target: Target) -> bool:
    return target.proof_span.start <= t.proof_span.start and t.proof_span.end <= target.proof_span.end


def targets_before(target: Target) -> int:
    """How many targets of its text lie before ``target``'s proof (for a target that did not come from the text's
    own targets in order, e.g. `repair`'s): the index its skeleton's first sorry will have."""
    return sum(t.proof_span.start < target.proof_span.start and not _within(t, target)
               for t in find_targets(target.path, target.text))


def _declaration_now(target: Target, text: str) -> Target | None:
    """The target's declaration in ``text`` (helpers of filled sorries may have moved it): the declaration of the
    same name nearest to where it was."""
    o = outline(text)
    same = [d for d in o.decls if d.name == target.decl_name]
    if not same:
        return None
    anchor = len(target.prefix)
    d = min(same, key=lambda d: abs(d.start - anchor))
    return enclosing_declaration(target.path, text, o.lines.pos(d.start), o=o)


async def _finish_whole(runner: BatchRunner, target: Target, text: str, rec: TargetRecord) -> None:
    """Every sorry of a whole declaration's skeleton is filled: its complete proof, verified once more."""
    now = _declaration_now(target, text)
    if now is None:
        rec.reason = "every sorry of the skeleton was filled; the declaration could not be read back to verify it"
        return
    start, end = pos_to_offset(now.text, now.proof_span.start), pos_to_offset(now.text, now.proof_span.end)
    proof = Candidate(now.text[start:end].strip(), origin="skeleton, sorries filled")
    async with runner.sem:
        try:
            verdict = await runner.engine.verify(now, proof)
        except Exception as exc:  # a failed check leaves the record a skeleton
            rec.reason = f"the filled skeleton's final check could not run: {exc}"
            return
    if verdict.proved:
        rec.outcome, rec.proof, rec.helpers, rec.origin = "proved", proof.proof, "", proof.origin
        rec.reason = "proved: a verified skeleton whose sorries were all filled with verified proofs"
    else:
        rec.reason = f"the filled skeleton failed its final check: {verdict.reason or verdict.outcome.value}"


async def expand_skeleton(runner: BatchRunner, job: FileJob, result: FileResult, target: Target,
                          rec: TargetRecord, skeleton: Skeleton, *, before: int, depth: int = 0,
                          spend: _Spend | None = None) -> int | None:
    """Write ``skeleton`` for ``target`` into ``result.text`` and prove its sorries; how many targets it leaves in
    the text (0: all filled), or None when it was not written. ``before``: targets left in the text before it."""
    policy = runner.skeletons
    assert policy is not None
    if depth >= policy.depth:
        return None
    spend = spend if spend is not None else _Spend(policy.budget)
    written = _written(target, skeleton, result.text)
    if written is None:
        return None
    result.text, holes = written
    rec.outcome = "skeleton"
    cand = skeleton.candidate
    rec.skeleton, rec.helpers, rec.origin = cand.proof, cand.helpers, cand.origin
    rec.reason = f"verified skeleton written: {skeleton.summary()}"
    runner.progress.grow(holes)
    left = 0
    for n in range(holes):
        current = find_targets(job.snapshot.path, result.text)
        index = before + left
        sub = current[index] if index < len(current) else None
        sub_rec = _sub_record(job, result, rec, sub or target, depth + 1)
        if sub is None or sub.kind is not TargetKind.SORRY:
            sub_rec.outcome, sub_rec.reason = "error", "the skeleton's sorries could not be re-read"
            await runner._record(job, result, sub_rec)
            runner.progress.grow(-(holes - n - 1))  # the rest are not tried: one record says why
            left += holes - n
            break
        if spend.left <= 0:
            sub_rec.reason = f"not searched: the skeleton budget ({policy.budget} sorries per target) is spent"
            await runner._record(job, result, sub_rec)
            left += 1
            continue
        spend.left -= 1
        found = await runner._prove(job, sub, sub_rec)
        if found.proof is not None:
            result.text = spliced_document(sub, found.proof)
        elif found.skeleton is not None:
            deeper = await expand_skeleton(runner, job, result, sub, sub_rec, found.skeleton, before=index,
                                           depth=depth + 1, spend=spend)
            left += 1 if deeper is None else deeper
        else:
            left += 1
        await runner._record(job, result, sub_rec)
    rec.sorries_left = left
    if left == 0:
        if target.kind is TargetKind.DECLARATION:
            await _finish_whole(runner, target, result.text, rec)
        else:
            # Each sorry's proof was checked in the declaration with the rest in place: the last of them was the
            # check of this sorry's whole filled skeleton.
            rec.outcome = "proved"
            rec.proof, rec.origin = None, "skeleton, sorries filled"
            rec.reason = "proved: a verified skeleton whose sorries were all filled with verified proofs"
    return left


def _sub_record(job: FileJob, result: FileResult, parent: TargetRecord, sub: Target, depth: int) -> TargetRecord:
    loc = location(sub)
    ordinal = result.sub_ordinals[parent.declaration]
    result.sub_ordinals[parent.declaration] += 1
    return TargetRecord(file=job.display, line=loc.line + 1, col=loc.col + 1, declaration=parent.declaration,
                        kind=SUB_KIND, ordinal=ordinal, goal=sub.goal, depth=depth, parent=parent.label)
