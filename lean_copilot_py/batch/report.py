"""The JSON report of a `prove` or `repair` run: one record per target, totals, a human summary.

It is rewritten atomically after every target, so a killed run leaves a complete, parseable report that
`--resume` continues from. Schema (``"schema": "lean-copilot/prove-report@1"``)::

    {
      "schema": str, "started_at": iso8601, "updated_at": iso8601, "finished": bool,
      "command": "prove" | "repair", "paths": [str], "use_model": bool, "write": bool,
      "model": {"backend": str, "name": str, "used": bool | null, "note": str},
      "files": {"<file>": {"sha256": str, "targets": int, "status": str, "detail": str}},
      "targets": [{
         "file": str, "line": int, "col": int,            # 1-based, in the file as it was read
         "declaration": str, "kind": "sorry" | "declaration" | "repair" | "skeleton-sorry",
         "ordinal": int,                                   # nth target of that declaration and kind
         "goal": str | null,
         "outcome": "proved" | "skeleton" | "nothing-to-repair" | "failed" | "timeout" | "error" | "cancelled",
         "proof": str | null, "helpers": str, "origin": str,
         "attempts": int, "sketches": int, "tokens": {"prompt": int, "completion": int},
         "time_s": float, "model_used": bool, "reason": str, "transcript": str | null, "resumed": bool,
         "skeleton": str | null, "sorries_left": int,     # outcome "skeleton": the verified skeleton written
         "depth": int, "parent": str                      # a skeleton's sorry: how deep, and whose ("" else)
      }],
      "unrepairable": [{"file": str, "line": int, "declaration": str, "reason": str}],   # repair: never tried
      "totals": {"targets": int, "proved": int, "skeletons": int, "sorries_left": int, "nothing_to_repair": int,
                 "failed": int, "remaining": int, "skeleton_sorries": int, "skeleton_sorries_filled": int,
                 "attempts": int, "tokens": {"prompt": int, "completion": int}, "time_s": float},
      "summary": str
    }

``targets``/``proved``/``skeletons``/``failed`` count the targets the files had (depth 0); the sorries of written
skeletons are counted apart (``skeleton_sorries``, of which ``skeleton_sorries_filled`` got a verified proof). The
skeleton counts appear only when not 0, ``nothing_to_repair`` only in a repair's report.

File ``status``: "pending" | "diff" (proofs shown, not written) | "written" | "unchanged" (nothing proved) |
"changed-on-disk" | "check-failed" (the edited file did not pass Lean as a whole) | "refused" (read-only, several
hard links, or a symbolic link out of the Lake project: see batch/writeback.py and batch/collect.py) | "error" |
"import-error" (repair: the file's imports failed, so its errors say nothing about its proofs; not repaired).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = "lean-copilot/prove-report@1"
# Totals that only skeleton runs and repairs have: left out of "totals" where they are 0 (and not a repair's).
_OPTIONAL = frozenset({"skeletons", "sorries_left", "nothing_to_repair", "skeleton_sorries", "skeleton_sorries_filled"})
NOT_WRITTEN_STATUSES = ("changed-on-disk", "check-failed", "refused", "error")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class TargetRecord:
    file: str
    line: int
    col: int
    declaration: str
    kind: str
    ordinal: int
    goal: str | None = None
    outcome: str = "failed"
    proof: str | None = None  # the verified candidate's proof text (Candidate.proof), not re-indented
    helpers: str = ""
    origin: str = ""
    attempts: int = 0
    sketches: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: {"prompt": 0, "completion": 0})
    time_s: float = 0.0
    model_used: bool = False
    reason: str = ""
    transcript: str | None = None
    resumed: bool = False
    skeleton: str | None = None  # outcome "skeleton": the verified skeleton's proof text, as written
    sorries_left: int = 0  # of that skeleton, after its sorries were tried as targets
    depth: int = 0  # 0: a target of the file; n: a sorry of a skeleton written at depth n - 1
    parent: str = ""  # a skeleton sorry's parent target ("declaration/kind/ordinal")

    @property
    def key(self) -> tuple[str, str, str, int]:
        """Identity across runs: positions move when earlier proofs land, declaration names don't."""
        return (self.file, self.declaration, self.kind, self.ordinal)

    @property
    def proved(self) -> bool:
        return self.outcome == "proved"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @property
    def label(self) -> str:
        """This target as a parent names it."""
        return f"{self.declaration}/{self.kind}/{self.ordinal}"


@dataclass
class FileRecord:
    sha256: str
    targets: int
    status: str = "pending"
    detail: str = ""


@dataclass
class Unrepaired:
    """A place with errors that `repair` does not try (a statement error, an error outside a declaration)."""

    file: str
    line: int  # 1-based
    declaration: str
    reason: str


@dataclass
class Report:
    paths: list[str]
    use_model: bool
    write: bool
    model: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)
    targets: list[TargetRecord] = field(default_factory=list)
    command: str = "prove"
    unrepairable: list[Unrepaired] = field(default_factory=list)
    started_at: str = field(default_factory=_now)
    finished: bool = False
    expected: int = 0  # targets found in all files (for "remaining")

    # -- queries ---------------------------------------------------------------------------

    def find(self, key: tuple[str, str, str, int]) -> TargetRecord | None:
        for rec in self.targets:
            if rec.key == key:
                return rec
        return None

    def upsert(self, rec: TargetRecord) -> None:
        for i, old in enumerate(self.targets):
            if old.key == rec.key:
                self.targets[i] = rec
                return
        self.targets.append(rec)

    def totals(self) -> dict[str, Any]:
        """The report's "totals": the counts every run has, and those of skeletons and repairs where they apply."""
        counts = self.counts()
        return {k: v for k, v in counts.items()
                if k not in _OPTIONAL or v or (k == "nothing_to_repair" and self.command == "repair")}

    def counts(self) -> dict[str, Any]:
        top = [r for r in self.targets if not r.depth]
        subs = [r for r in self.targets if r.depth]
        proved = sum(r.proved for r in top)
        skeletons = [r for r in top if r.outcome == "skeleton"]
        accepted = sum(r.outcome == "nothing-to-repair" for r in top)
        return {
            "targets": max(self.expected, len(top)),
            "proved": proved,
            "skeletons": len(skeletons),
            "sorries_left": sum(r.sorries_left for r in skeletons),
            "nothing_to_repair": accepted,
            "failed": len(top) - proved - len(skeletons) - accepted,
            "remaining": max(0, self.expected - len(top)),
            "skeleton_sorries": len(subs),
            "skeleton_sorries_filled": sum(r.proved for r in subs),
            "attempts": sum(r.attempts for r in self.targets),
            "tokens": {
                "prompt": sum(r.tokens.get("prompt", 0) for r in self.targets),
                "completion": sum(r.tokens.get("completion", 0) for r in self.targets),
            },
            "time_s": round(sum(r.time_s for r in self.targets), 3),
        }

    def summary(self) -> str:
        t = self.counts()
        if self.command == "repair":
            from .repair import repair_summary_head  # the repair command's own wording

            lines = repair_summary_head(self, t)
        else:
            skeletons = ""
            if t["skeletons"]:
                s, left = t["skeletons"], t["sorries_left"]
                skeletons = (f", {s} {'skeleton' if s == 1 else 'skeletons'} ({left} "
                             f"{'sorry' if left == 1 else 'sorries'} left)")
            lines = [f"{t['proved']}/{t['targets']} targets proved{skeletons}, {t['failed']} not proved"
                     + (f", {t['remaining']} not attempted" if t["remaining"] else "")
                     + f" ({t['time_s']:.1f}s of search)."]
            if t["skeleton_sorries"]:
                lines.append(f"Skeleton sorries: {t['skeleton_sorries_filled']} of {t['skeleton_sorries']} filled "
                             "with verified proofs.")
        used = self.model.get("used")
        if not self.use_model:
            lines.append(f"Model: not used ({self.model.get('note') or 'not requested'}): automation only.")
        elif used is False:
            note = self.model.get("note") or "no model endpoint was configured or reachable"
            lines.append(f"Model: not used ({note}): automation only.")
        elif used:
            tok = t["tokens"]
            lines.append(f"Model: {self.model.get('name', '?')}, {t['attempts']} attempts, "
                         f"{tok['prompt']} prompt + {tok['completion']} completion tokens.")
        for name, f in sorted(self.files.items()):
            if f.status == "import-error":
                lines.append(f"{name}: its imports failed ({f.detail}); reported as such, not repaired.")
            elif f.status in NOT_WRITTEN_STATUSES:
                lines.append(f"{name}: NOT written ({f.status}): {f.detail}")
            elif f.status == "written":
                lines.append(f"{name}: written ({f.detail})." if f.detail else f"{name}: written.")
        return "\n".join(lines)

    # -- (de)serialisation ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "command": self.command,
            "started_at": self.started_at,
            "updated_at": _now(),
            "finished": self.finished,
            "paths": self.paths,
            "use_model": self.use_model,
            "write": self.write,
            "model": self.model,
            "files": {k: asdict(v) for k, v in self.files.items()},
            "targets": [asdict(r) for r in self.targets],
            "unrepairable": [asdict(u) for u in self.unrepairable],
            "totals": self.totals(),
            "summary": self.summary(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a lean-copilot prove report (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        known = set(TargetRecord.__dataclass_fields__)
        rep = cls(paths=list(data.get("paths", [])), use_model=bool(data.get("use_model", True)),
                  write=bool(data.get("write", False)), model=dict(data.get("model", {})),
                  started_at=data.get("started_at", _now()), command=str(data.get("command", "prove")))
        rep.files = {k: FileRecord(**v) for k, v in data.get("files", {}).items()}
        rep.targets = [TargetRecord(**{k: v for k, v in t.items() if k in known}) for t in data.get("targets", [])]
        rep.unrepairable = [Unrepaired(**u) for u in data.get("unrepairable", [])]
        rep.expected = int(data.get("totals", {}).get("targets", len(rep.targets)))
        return rep


def load_report(path: Path) -> Report:
    """Raises OSError / ValueError (json.JSONDecodeError is one) with a message fit for the user."""
    return Report.from_json(json.loads(path.read_text(encoding="utf-8")))


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_report(report: Report, path: Path) -> None:
    atomic_write_text(path, json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
