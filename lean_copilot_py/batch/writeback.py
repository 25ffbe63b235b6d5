"""Safe write-back: diffs of verified proofs, a whole-file Lean check, and atomic writes that refuse to
overwrite a file someone changed since we read it."""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.types import LeanMessage, Outcome, Severity, Verdict

# Checks a whole document (the edited file as it would be saved): LeanChecker.check_document's Verdict, or
# the list of every message Lean logged. Raising, TIMEOUT or CRASHED mean "could not check", which refuses
# the write like a failed check does.
DocumentChecker = Callable[[Path, str], Awaitable[Verdict | Sequence[LeanMessage]]]


async def document_messages(check: DocumentChecker, path: Path, text: str) -> Sequence[LeanMessage]:
    result = await check(path, text)
    if isinstance(result, Verdict):
        if result.outcome in (Outcome.TIMEOUT, Outcome.CRASHED):
            raise RuntimeError(result.reason or result.outcome.value)
        return result.messages
    return result


@dataclass(frozen=True)
class Snapshot:
    """A file as we read it. Text is decoded from the exact bytes: CRLF and a missing final newline survive."""

    path: Path
    text: str
    mtime_ns: int
    size: int
    sha256: str


def read_snapshot(path: Path) -> Snapshot:
    data = path.read_bytes()
    st = path.stat()
    return Snapshot(path, data.decode("utf-8"), st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())


def changed_on_disk(snap: Snapshot) -> str | None:
    """Why the file no longer is what we read, or None. mtime alone can miss a same-second edit and a
    hash alone costs a read; stat first, then the hash to be sure."""
    try:
        st = snap.path.stat()
    except FileNotFoundError:
        return "the file was deleted"
    if st.st_mtime_ns != snap.mtime_ns or st.st_size != snap.size:
        try:
            digest = hashlib.sha256(snap.path.read_bytes()).hexdigest()
        except OSError as exc:
            return f"the file cannot be read back ({exc})"
        if digest != snap.sha256:
            return "the file changed on disk since it was read"
        return None
    digest = hashlib.sha256(snap.path.read_bytes()).hexdigest()
    return None if digest == snap.sha256 else "the file changed on disk since it was read"


def unified_diff(display: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{display}", tofile=f"b/{display}"))


def new_errors(before: Sequence[LeanMessage], after: Sequence[LeanMessage]) -> list[LeanMessage]:
    """Errors of the edited file that the original did not have. Positions move when proofs grow, so
    errors are matched by text, as a multiset (two identical errors before allow two after)."""
    budget = Counter(m.text.strip() for m in before if m.severity is Severity.ERROR)
    fresh: list[LeanMessage] = []
    for m in after:
        if m.severity is not Severity.ERROR:
            continue
        key = m.text.strip()
        if budget[key] > 0:
            budget[key] -= 1
        else:
            fresh.append(m)
    return fresh


class WriteRefused(Exception):
    """The file was not written; the message says why (for the report and the summary)."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def atomic_replace(snap: Snapshot, new_text: str) -> None:
    """Write ``new_text`` over ``snap.path`` via temp file + rename, keeping the file's mode; refuse if the
    file changed since ``snap`` was taken (checked again right before the rename)."""
    why = changed_on_disk(snap)
    if why:
        raise WriteRefused("changed-on-disk", why)
    path = snap.path
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new_text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        why = changed_on_disk(snap)
        if why:
            raise WriteRefused("changed-on-disk", why)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def checked_write(snap: Snapshot, new_text: str, check: DocumentChecker | None) -> None:
    """Check the edited file as a whole (no new errors vs the original), then write it atomically.
    Raises WriteRefused when anything is off; the file is then untouched."""
    why = changed_on_disk(snap)
    if why:
        raise WriteRefused("changed-on-disk", why)
    if check is None:
        raise WriteRefused("check-failed", "no whole-file Lean check is available, so nothing is written")
    try:
        before = await document_messages(check, snap.path, snap.text)
        after = await document_messages(check, snap.path, new_text)
    except Exception as exc:  # the checker's failure modes are many; any of them means "not verified"
        raise WriteRefused("check-failed", f"the whole-file Lean check could not run: {exc}") from exc
    fresh = new_errors(before, after)
    if fresh:
        first = fresh[0]
        raise WriteRefused("check-failed", f"the edited file has {len(fresh)} new Lean error(s), first at line "
                           f"{first.span.start.line + 1}: {first.text.splitlines()[0] if first.text else ''}")
    atomic_replace(snap, new_text)
