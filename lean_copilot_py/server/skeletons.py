"""Verified skeletons a failed search kept (SearchResult.skeleton), offered apart from proofs: in the failure message
("Insert verified skeleton (k sorries left)") and as a code action on their declaration, and inserted by
leanCopilot.insertSkeleton.

A skeleton was verified (statement pinned, screened, audited apart from `sorryAx`) against the text its search
started from. It still applies while everything up to the end of its declaration is that text, byte for byte, and the
declaration still ends there (text typed onto its last line, or a new tactic line under it, makes it a declaration
Lean never checked): what follows the declaration cannot change how it elaborates. Anything else refuses the
insert, as a proof is refused when its text changed (a skeleton is not re-verified, so there is no "changed but
re-checked" path: the search has to run again).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.outline import Outline
from ..core.skeleton import Skeleton
from ..core.targets import enclosing_declaration
from ..core.types import Pos, Target, pos_to_offset
from .edits import ApplyOutcome, send_edit
from .indexing import DocumentIndex

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

MAX_KEPT = 64  # skeletons remembered per session (each holds its document's text)


def skeleton_title(skeleton: Skeleton) -> str:
    n = skeleton.sorries
    return f"Insert verified skeleton ({n} {'sorry' if n == 1 else 'sorries'} left)"


@dataclass(frozen=True)
class KeptSkeleton:
    id: str
    uri: str
    target: Target  # the target the search ran for (its text is the one the skeleton was verified against)
    skeleton: Skeleton
    label: str  # "`foo`", as the messages name the target
    upto: str  # target.text up to the end of the declaration: what must be unchanged for it to apply

    @property
    def title(self) -> str:
        return skeleton_title(self.skeleton)

    def applies(self, index: DocumentIndex) -> Target | None:
        """The target in the indexed text when the skeleton still applies there, else None."""
        text = index.text
        if text is self.target.text or text == self.target.text:
            return dataclasses.replace(self.target, version=index.version)
        if text.startswith(self.upto) and self._same_end(index.outline, text):
            return dataclasses.replace(self.target, text=text, version=index.version)
        return None

    def _same_end(self, o: Outline, text: str) -> bool:
        now = enclosing_declaration(self.target.path, text, self.target.decl_span.start, o=o)
        return now is not None and now.decl_span == self.target.decl_span

    def covers(self, pos: Pos) -> bool:
        return self.target.decl_span.start.line <= pos.line <= self.target.decl_span.end.line


class SkeletonStore:
    def __init__(self) -> None:
        self._kept: OrderedDict[str, KeptSkeleton] = OrderedDict()
        self._ids = itertools.count(1)

    def keep(self, uri: str, target: Target, skeleton: Skeleton, label: str) -> KeptSkeleton:
        """Remember ``skeleton`` for ``target`` (replacing an older one for the same declaration)."""
        for old in [k for k in self._kept.values() if k.uri == uri and k.target.decl_span == target.decl_span]:
            del self._kept[old.id]
        upto = target.text[: pos_to_offset(target.text, target.decl_span.end)]
        kept = KeptSkeleton(f"k{next(self._ids)}", uri, target, skeleton, label, upto)
        self._kept[kept.id] = kept
        while len(self._kept) > MAX_KEPT:
            self._kept.popitem(last=False)
        return kept

    def get(self, skeleton_id: str) -> KeptSkeleton | None:
        return self._kept.get(skeleton_id)

    def at(self, uri: str, index: DocumentIndex, pos: Pos) -> KeptSkeleton | None:
        """The newest skeleton of ``uri`` for the declaration at ``pos`` that still applies to ``index``'s text."""
        for kept in reversed(self._kept.values()):
            if kept.uri == uri and kept.covers(pos) and kept.applies(index) is not None:
                return kept
        return None

    def newest(self, uri: str, index: DocumentIndex) -> KeptSkeleton | None:
        """The newest skeleton of ``uri`` that still applies (for a command given no position)."""
        for kept in reversed(self._kept.values()):
            if kept.uri == uri and kept.applies(index) is not None:
                return kept
        return None

    def drop(self, skeleton_id: str) -> None:
        self._kept.pop(skeleton_id, None)


async def insert_skeleton(server: CopilotServer, kept: KeptSkeleton) -> ApplyOutcome:
    """Put ``kept`` into its document, if it still applies there; never re-verified (it was), never forced."""
    what = f"the verified skeleton of {kept.label}"
    # The newest text's index (built off the loop for a large file): whether the declaration still ends where it did.
    index = await server.docs.current_index(kept.uri)
    doc = server.docs.get(kept.uri)
    if index is None or doc is None:
        return ApplyOutcome("changed", f"lean-copilot: {kept.label}: the file was closed; {what} was not inserted.")
    target = kept.applies(index) if doc.text is index.text else None
    if target is None:
        return ApplyOutcome(
            "changed",
            f"lean-copilot: {kept.label} (or the text before it) changed since its skeleton was verified; "
            "not inserted (run the search again).",
        )
    outcome = await send_edit(server, doc, target, kept.skeleton.candidate, f"skeleton of {kept.label}", what)
    if outcome.status != "proved":
        return outcome
    server.skeletons.drop(kept.id)
    message = f"lean-copilot: inserted {what}: {kept.skeleton.summary()}"
    return ApplyOutcome("skeleton", message)
