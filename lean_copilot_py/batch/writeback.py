"""Safe write-back: diffs of verified proofs, a whole-file Lean check, and atomic writes that refuse to
overwrite a file someone changed since we read it.

A write is a temp file renamed over the original: crash-safe (the file is the old text or the new text,
never half of one), but it makes a new inode. So we refuse, with status "refused" and the diff still
printed, what that would silently get wrong:
- a read-only file (no write permission bit, or not writable by us): the user said "don't write this";
  renaming over it would succeed anyway, since that only needs the folder to be writable;
- a file with several hard links: the rename would leave the other names with the old text. Writing in
  place instead would keep the link but is not crash-safe (a crash mid-write truncates the user's file), and
  never losing the user's text wins over convenience;
- a path that is no longer a regular file (replaced by a symlink, a fifo… since we read it).
Symbolic links are decided earlier (batch/collect.py): a link to a file of the same Lake project is
followed and the target is written in place of the link (the link stays a link); any other is refused.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.types import LeanMessage, Outcome, Severity, Verdict

# Checks a whole document (the edited file as it would be saved): EnginePort.check_document. Raising, TIMEOUT
# or CRASHED mean "could not check", which refuses the write like a failed check does.
DocumentChecker = Callable[[Path, str], Awaitable[Verdict]]


async def document_messages(check: DocumentChecker, path: Path, text: str) -> Sequence[LeanMessage]:
    result = await check(path, text)
    if result.outcome in (Outcome.TIMEOUT, Outcome.CRASHED):
        raise RuntimeError(result.reason or result.outcome.value)
    return result.messages


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


NOT_WRITTEN = "the diff above has the proofs"


def unsafe_to_replace(path: Path) -> str | None:
    """Why replacing ``path`` by rename would do something the user did not ask for, or None."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "the file was deleted"
    if stat.S_ISLNK(st.st_mode):
        return "the file was replaced by a symbolic link since it was read"
    if not stat.S_ISREG(st.st_mode):
        return "the path is no longer a regular file"
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        # The permission bits, not only access(): root may write anything, but a 0444 file says "don't".
        return f"the file is read-only (mode {stat.S_IMODE(st.st_mode):04o}); {NOT_WRITTEN}"
    if st.st_nlink > 1:
        return (f"the file has {st.st_nlink} hard links, and replacing it would leave the other names with the "
                f"old text; {NOT_WRITTEN}")
    return None


def refuse_unless_replaceable(snap: Snapshot) -> None:
    """Raise WriteRefused when the file changed since ``snap`` or cannot be replaced safely."""
    why = changed_on_disk(snap)
    if why:
        raise WriteRefused("changed-on-disk", why)
    unsafe = unsafe_to_replace(snap.path)
    if unsafe:
        raise WriteRefused("refused", unsafe)


def atomic_replace(snap: Snapshot, new_text: str) -> None:
    """Write ``new_text`` over ``snap.path`` via temp file + rename, keeping the file's mode (and, where
    we may, its owner); refuse if the file changed since ``snap`` was taken or cannot be replaced safely
    (both checked again right before the rename)."""
    refuse_unless_replaceable(snap)
    path = snap.path
    st = path.stat()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new_text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)  # e.g. root fixing a user's file keeps it the user's
            except OSError:
                pass  # not ours to give away: the file becomes ours, its text and mode are kept
        refuse_unless_replaceable(snap)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def checked_write(snap: Snapshot, new_text: str, check: DocumentChecker) -> None:
    """Check the edited file as a whole (no new errors vs the original), then write it atomically.
    Raises WriteRefused when anything is off; the file is then untouched."""
    refuse_unless_replaceable(snap)  # before the whole-file check: no Lean time for a file we will not write
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
