"""`lean-copilot prove PATH…` and `lean-copilot repair PATH…`: wires files, settings, the engine, progress, the
report and write-back (repair finds its targets with batch/repair.py; the rest is the same machinery).

Exit codes (documented in `--help` too):
  0  every target was proved (and, with --write, every edited file was written); also: nothing to prove.
     repair: every declaration with errors was repaired or Lean accepts it as it is
  1  the run finished but some targets were not proved (a verified skeleton is not a proof); repair: some
     declarations were not repaired, are unrepairable (statement errors), or a file's imports failed
  2  usage problem: a path that doesn't exist, --line without a single file or without a target there,
     an unreadable --resume report, files from several Lake projects
  3  Lean cannot be run here (no `lake`, or not a Lake project): doctor's explanation is printed
  4  at least one file was NOT written or not processed: it changed on disk, the edited file failed the
     whole-file Lean check, it is read-only or has several hard links (the diff is still printed), or it
     is a symbolic link to a file outside the Lake project; takes precedence over 1
  130 interrupted (Ctrl-C); the report written so far stays valid for --resume
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console

from ..core.targets import find_targets
from ..engine.port import EnginePort
from ..project import LeanProject, discover, find_lake_root, lake_on_path
from ..settings import Settings, load_settings, problem_lines
from .collect import Collected, PathProblem, collect, display_name, link_name
from .progress import PlainProgress, RichProgress
from .report import NOT_WRITTEN_STATUSES, FileRecord, Report, load_report, save_report
from .runner import BatchRunner, FileJob, FileResult, target_ids
from .skeletons import SkeletonPolicy
from .writeback import DocumentChecker, Snapshot, WriteRefused, checked_write, read_snapshot, unified_diff

EXIT_OK, EXIT_UNPROVED, EXIT_USAGE, EXIT_NO_LEAN, EXIT_NOT_WRITTEN = 0, 1, 2, 3, 4


def lean_ready(settings: Settings, project: LeanProject | None) -> bool:
    if settings.kimina.enabled or settings.lean.server_command:
        return True  # a remote Kimina server, or an explicitly configured Lean server command
    return project is not None and lake_on_path() is not None


def build_engine(settings: Settings) -> EnginePort:
    """The Engine, imported only now: `prove --help` and the no-Lean path stay cheap."""
    from ..engine.engine import Engine

    return Engine(settings)


def _explain_no_lean(path: Path, err: TextIO, command: str = "prove") -> None:
    from ..doctor import print_checks, run_checks

    err.write(f"lean-copilot {command} needs Lean to check every proof, and Lean cannot be run here:\n")
    print_checks([c for c in run_checks(path) if c.name != "model endpoint"], err)
    err.write(f"Fix the failing checks above (`lean-copilot doctor` re-checks), then run {command} again.\n")


def _command(args: argparse.Namespace) -> str:
    return "repair" if getattr(args, "command", None) == "repair" else "prove"


def run_prove(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None,
              engine: EnginePort | None = None) -> int:
    return asyncio.run(prove(args, out or sys.stdout, err or sys.stderr, engine))


def run_repair(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None,
               engine: EnginePort | None = None) -> int:
    return asyncio.run(prove(args, out or sys.stdout, err or sys.stderr, engine))


async def prove(args: argparse.Namespace, out: TextIO, err: TextIO, engine: EnginePort | None = None) -> int:
    """`prove` or `repair` (``args.command``); ``engine``: the EnginePort to prove with (None: an Engine built from
    the settings)."""
    command = _command(args)
    previous: Report | None = None
    report_path: Path | None = args.report
    if args.resume is not None:
        try:
            previous = load_report(args.resume)
        except (OSError, ValueError) as exc:
            err.write(f"cannot resume from {args.resume}: {exc}\n")
            return EXIT_USAGE
        if previous.command != command:
            err.write(f"cannot resume from {args.resume}: it is the report of a `{previous.command}` run\n")
            return EXIT_USAGE
        report_path = report_path or args.resume
    paths: list[Path] = list(args.paths) or ([Path(p) for p in previous.paths] if previous else [])
    if not paths:
        err.write("give at least one Lean file or folder (or --resume REPORT)\n")
        return EXIT_USAGE
    if getattr(args, "line", None) is not None and (len(paths) != 1 or not paths[0].is_file()):
        err.write("--line needs exactly one Lean FILE\n")
        return EXIT_USAGE
    try:
        found = collect(paths)
    except PathProblem as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    for link, why in found.refused:
        err.write(f"{link_name(link)}: {why}\n")
    files = found.files
    if not files:
        if found.refused:
            return EXIT_NOT_WRITTEN
        err.write(f"no .lean files under {', '.join(map(str, paths))}\n")
        return EXIT_USAGE
    roots = {find_lake_root(f) for f in files}
    if len(roots) > 1:
        err.write(f"these files belong to several Lake projects; run {command} once per project\n")
        return EXIT_USAGE
    project = discover(files[0])
    trusted_by = "--trust-project" if getattr(args, "trust_project", False) else None
    loaded = load_settings(project.root if project else None, trusted_by=trusted_by)
    for line in problem_lines(loaded.problems):
        err.write(f"settings: {line}\n")
    settings = loaded.settings
    if engine is None:
        if not lean_ready(settings, project):
            _explain_no_lean(files[0], err, command)
            return EXIT_NO_LEAN
        engine = build_engine(settings)
    try:
        return await _run(args, out, err, settings, found, engine, previous, report_path, paths)
    finally:
        await engine.aclose()


async def _run(args: argparse.Namespace, out: TextIO, err: TextIO, settings: Settings, found: Collected,
               engine: EnginePort, previous: Report | None, report_path: Path | None, paths: list[Path]) -> int:
    files = found.files
    command = _command(args)
    line = getattr(args, "line", None)
    use_model = not args.no_model and settings.model.backend != "none"
    note = "--no-model" if args.no_model else ("model.backend = \"none\"" if not use_model else "")
    report = Report(paths=[str(p) for p in paths], use_model=use_model, write=args.write, command=command,
                    model={"backend": settings.model.backend, "name": settings.model.name, "used": None, "note": note})
    snapshots = []
    for f in files:
        try:
            snapshots.append((read_snapshot(f), display_name(f, None)))
        except (OSError, UnicodeDecodeError) as exc:
            err.write(f"cannot read {f}: {exc}\n")
            return EXIT_USAGE
    if command == "repair":
        from .repair import repair_jobs

        jobs, keys = await repair_jobs(snapshots, engine, report, include_defs=args.include_defs, err=err)
    else:
        found_jobs = _prove_jobs(snapshots, line, err)
        if found_jobs is None:
            return EXIT_USAGE
        jobs, keys = found_jobs
    for link, why in found.refused:
        report.files[link_name(link)] = FileRecord(sha256="", targets=0, status="refused", detail=why)
    if previous is not None and line is None:
        report.targets = list(previous.targets)  # targets proved and written earlier no longer appear in the files
        keys.update(r.key for r in previous.targets if not r.depth)
    report.expected = len(keys)
    if report_path:
        save_report(report, report_path)

    # The bar goes to stderr so that stdout carries only the diff (a clean patch when redirected).
    tty = _isatty(out) and _isatty(err)
    verb = "repairing" if command == "repair" else "proving"
    progress = RichProgress(Console(file=err), len(keys)) if tty and line is None \
        else PlainProgress(err, len(keys), verb)
    skeletons = None
    if getattr(args, "skeletons", False):
        skeletons = SkeletonPolicy(depth=args.skeleton_depth, budget=args.skeleton_budget)
    runner = BatchRunner(engine, concurrency=settings.search.concurrency,
                         use_model=use_model, report=report, report_path=report_path, progress=progress,
                         previous=previous, retry_failed=getattr(args, "retry_failed", False), skeletons=skeletons)
    with progress:
        results = await runner.run(jobs)
    return await _finish(args, out, err, engine, found, report, report_path, previous, results, use_model, line)


def _prove_jobs(snapshots: list[tuple[Snapshot, str]], line: int | None,
                err: TextIO) -> tuple[list[FileJob], set[tuple[str, str, str, int]]] | None:
    """`prove`'s jobs: every file's sorries and open proofs (with --line, the one there); None: a usage problem."""
    jobs: list[FileJob] = []
    keys: set[tuple[str, str, str, int]] = set()
    for snap, display in snapshots:
        job = FileJob(snap, display)
        targets = find_targets(snap.path, snap.text)
        if line is not None:
            job.only_lines = {line - 1}
            chosen = [t for t in targets if BatchRunner._selected(t, job.only_lines)]
            if not chosen:
                err.write(f"{job.display}:{line}: no `sorry` or open proof on that line\n")
                return None
            targets = chosen
        keys.update((job.display, i.declaration, i.kind, i.ordinal) for i in target_ids(targets))
        jobs.append(job)
    return jobs, keys


async def _finish(args: argparse.Namespace, out: TextIO, err: TextIO, engine: EnginePort, found: Collected,
                  report: Report, report_path: Path | None, previous: Report | None, results: list[FileResult],
                  use_model: bool, line: int | None) -> int:
    """Write back (or print the diffs), complete the report, print the summary; the exit code."""
    diffs = await _write_back(results, report, args.write, engine.check_document, found.links)
    if previous is not None:
        for name, f in report.files.items():
            old = previous.files.get(name)
            if f.status == "unchanged" and old is not None and old.status == "written":
                f.status, f.detail = "written", "by the earlier run"
    searched = [r for r in report.targets if not r.resumed]
    if use_model and searched:
        report.model["used"] = any(r.model_used for r in searched)
        if not report.model["used"]:
            report.model["note"] = "no model endpoint was configured or reachable; see `lean-copilot doctor`"
    report.finished = True
    if report_path:
        save_report(report, report_path)

    if line is not None:
        _print_single(results[0], out, diffs)
    elif diffs:
        out.write("".join(diffs))
    err.write("\n" + report.summary() + "\n")
    if report_path:
        err.write(f"report: {report_path}\n")
    return _exit_code(report)


async def _write_back(results: list[FileResult], report: Report, write: bool,
                      check: DocumentChecker, links: dict[Path, Path] | None = None) -> list[str]:
    diffs: list[str] = []
    for res in results:
        snap, name = res.job.snapshot, res.job.display
        link = (links or {}).get(snap.path)
        rec = FileRecord(sha256=snap.sha256, targets=len(res.records))
        report.files[name] = rec
        if res.text == snap.text:
            rec.status = "unchanged"
            continue
        diffs.append(unified_diff(name, snap.text, res.text))
        if not write:
            rec.status = "diff"
            continue
        try:
            await checked_write(snap, res.text, check)
            rec.status = "written"
            if link is not None:
                rec.detail = f"through the symbolic link {link_name(link)}, which still points to it"
        except WriteRefused as exc:
            rec.status, rec.detail = exc.status, exc.detail
        except OSError as exc:
            rec.status, rec.detail = "error", str(exc)
    return diffs


def _print_single(res: FileResult, out: TextIO, diffs: list[str]) -> None:
    for rec in res.records:
        if rec.proved:
            out.write(f"proved {rec.declaration} at {rec.where} ({rec.origin or 'search'}), verified by Lean:\n")
            if rec.helpers.strip():
                out.write(rec.helpers.strip("\n") + "\n\n")
            out.write((rec.proof or "").strip("\n") + "\n")
        else:
            out.write(f"no proof for {rec.declaration} at {rec.where}: {rec.reason or rec.outcome}\n")
        if rec.transcript:
            out.write(f"transcript: {rec.transcript}\n")
    if diffs:
        out.write("".join(diffs))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _exit_code(report: Report) -> int:
    if any(f.status in NOT_WRITTEN_STATUSES for f in report.files.values()):
        return EXIT_NOT_WRITTEN
    totals = report.counts()
    if report.command == "repair":
        unhappy = report.unrepairable or any(f.status == "import-error" for f in report.files.values())
        done = totals["proved"] + totals["nothing_to_repair"] == totals["targets"]
        return EXIT_OK if done and not unhappy else EXIT_UNPROVED
    return EXIT_OK if totals["proved"] == totals["targets"] else EXIT_UNPROVED
