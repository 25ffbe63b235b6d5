"""Live progress of a batch run: a rich bar on a terminal, one plain line per finished target otherwise."""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

from ..core.events import SearchEvent
from .report import TargetRecord


def _fmt_s(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def outcome_line(rec: TargetRecord) -> str:
    head = f"{rec.outcome:<8} {rec.declaration} ({rec.where})"
    if rec.proved:
        tail = f"by {rec.origin or 'search'}"
    elif rec.outcome == "skeleton":
        left = rec.sorries_left
        tail = f"verified skeleton written, {left} {'sorry' if left == 1 else 'sorries'} left"
    else:
        tail = rec.reason or "no proof"
    extra = " [from the earlier report]" if rec.resumed else f" in {rec.time_s:.1f}s"
    return f"{head}: {tail}{extra}"


class _Counts:
    def __init__(self, total: int) -> None:
        self.total = total
        self.proved = 0
        self.failed = 0
        self.skeletons = 0  # verified skeletons written: not proofs, and not failures either
        self.accepted = 0  # repairs Lean needed none of (the user's proof checks as it is)
        self.t0 = time.monotonic()

    def add(self, rec: TargetRecord) -> None:
        if rec.proved:
            self.proved += 1
        elif rec.outcome == "skeleton":
            self.skeletons += 1
        elif rec.outcome == "nothing-to-repair":
            self.accepted += 1
        else:
            self.failed += 1

    def tally(self) -> str:
        parts = [f"proved {self.proved}", f"failed {self.failed}"]
        if self.skeletons:
            parts.append(f"skeletons {self.skeletons}")
        if self.accepted:
            parts.append(f"accepted as is {self.accepted}")
        return ", ".join(parts)

    @property
    def done(self) -> int:
        return self.proved + self.failed + self.skeletons + self.accepted

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done)

    def eta(self) -> str:
        if not self.done or not self.remaining:
            return "?" if self.remaining else "0s"
        return _fmt_s((time.monotonic() - self.t0) / self.done * self.remaining)


class PlainProgress:
    """For logs and pipes: no cursor tricks, one line per finished target, on stderr so that the diff on
    stdout stays a clean patch."""

    def __init__(self, out: TextIO, total: int, verb: str = "proving") -> None:
        self.out = out
        self.counts = _Counts(total)
        self.verb = verb

    def __enter__(self) -> PlainProgress:
        self.out.write(f"{self.verb} {self.counts.total} target(s)\n")
        self.out.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def started(self, display: str, rec: TargetRecord) -> None:
        return None

    def event(self, display: str, rec: TargetRecord, event: SearchEvent) -> None:
        return None

    def grow(self, n: int) -> None:
        self.counts.total += n

    def finished(self, rec: TargetRecord) -> None:
        c = self.counts
        c.add(rec)
        self.out.write(f"[{c.done}/{c.total}] {outcome_line(rec)} | {c.tally()}, remaining {c.remaining}, "
                       f"eta {c.eta()}\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.out.write(text + "\n")


class RichProgress:
    """A live bar (proved / failed / remaining, ETA) with the latest search event of a running target,
    and a permanent line per finished target printed above it."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.counts = _Counts(total)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", style="cyan"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]{task.fields[proved]} proved[/] [red]{task.fields[failed]} failed[/] "
                       "{task.fields[remaining]} remaining"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("starting", total=total, proved=0, failed=0, remaining=total)

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def started(self, display: str, rec: TargetRecord) -> None:
        self.bar.update(self.task, description=escape(f"{rec.declaration}: searching"))

    def event(self, display: str, rec: TargetRecord, event: SearchEvent) -> None:
        self.bar.update(self.task, description=escape(f"{rec.declaration}: {event.summary()}"[:70]))

    def grow(self, n: int) -> None:
        self.counts.total += n
        self.bar.update(self.task, total=self.counts.total, remaining=self.counts.remaining)

    def finished(self, rec: TargetRecord) -> None:
        c = self.counts
        c.add(rec)
        style = "green" if rec.proved else "red"
        self.bar.console.print(f"[{style}]{escape(outcome_line(rec))}[/]", markup=True, highlight=False)
        self.bar.update(self.task, completed=c.done, proved=c.proved, failed=c.failed, remaining=c.remaining)

    def note(self, text: str) -> None:
        self.bar.console.print(text, markup=False, highlight=False)
