"""`lean-copilot serve | prove | repair | doctor | bench`: wires settings to the layers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

# `prove` and `repair` --skeletons limits (batch/skeletons.py holds the same numbers; a test checks they agree).
SKELETON_DEPTH, SKELETON_BUDGET = 2, 8
TRUST_HELP = ("take the project's .lean-copilot.toml whole for this run, the keys that run programs or route keys "
              "included (lean.server_command, model.endpoint, ...); to trust it for good, list it in trust.projects "
              "of ~/.config/lean-copilot/config.toml")


def _batch_options(cmd: argparse.ArgumentParser, what: str) -> None:
    """What `prove` and `repair` share: the same write-back, report and resume machinery."""
    cmd.add_argument("--write", action="store_true",
                     help=f"apply verified {what} to the files after a whole-file Lean check (default: print a diff)")
    cmd.add_argument("--report", type=Path, help="write a JSON report here")
    cmd.add_argument("--resume", type=Path, help="continue from an earlier JSON report")
    cmd.add_argument("--no-model", action="store_true", help="run the automation portfolio only")
    cmd.add_argument("--retry-failed", action="store_true",
                     help="with --resume: search again for targets the earlier run failed on (default: keep them)")
    cmd.add_argument("--trust-project", action="store_true", help=TRUST_HELP)


def _skeleton_options(cmd: argparse.ArgumentParser, where: str) -> None:
    """`--skeletons` and its limits: the same meaning and defaults for `prove` and `repair`."""
    cmd.add_argument("--skeletons", action="store_true",
                     help="when a search finds no proof but Lean verified a skeleton (a proof with `sorry`s left, no "
                     f"error), {where}, and prove its sorries as targets of the same run (without --write the diff "
                     "shows it); the report and summary count skeletons apart from proofs")
    cmd.add_argument("--skeleton-depth", type=_positive, default=SKELETON_DEPTH, metavar="N",
                     help=f"with --skeletons: levels of skeletons per target (default {SKELETON_DEPTH}: a sorry of "
                     "a skeleton may get a skeleton of its own, whose sorries are not expanded again)")
    cmd.add_argument("--skeleton-budget", type=_positive, default=SKELETON_BUDGET, metavar="M",
                     help=f"with --skeletons: at most M skeleton sorries searched per target, all levels together "
                     f"(default {SKELETON_BUDGET}); the rest stay as sorries")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lean-copilot",
        description="An AI proof assistant for Lean 4 that only offers proofs Lean has checked.",
    )
    parser.add_argument("--version", action="version", version=f"lean-copilot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the language server over stdio (started by the editor plugin)")
    serve.add_argument("--log-file", type=Path, help="write the server's log here")

    prove = sub.add_parser(
        "prove", help="prove every sorry in Lean files or folders (or one target with --line)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 all proved (and written with --write); 1 some not proved; 2 usage problem;\n"
        "3 Lean cannot be run here (doctor's explanation is printed); 4 a file was not written (changed on\n"
        "disk or failed the whole-file Lean check); 130 interrupted (the report stays valid for --resume)",
    )
    prove.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="Lean files or folders of one Lake project (default with --resume: the report's)")
    prove.add_argument("--line", type=int, help="prove only the target on this 1-based line of the single FILE")
    _batch_options(prove, "proofs")
    _skeleton_options(prove, "write the skeleton in place of the target's proof")
    repair = sub.add_parser(
        "repair", help="repair the proofs Lean rejects in Lean files or folders",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check each file as a whole with Lean; every theorem, lemma or example whose proof has errors is "
        "searched again, starting from its own proof and Lean's errors (its statement is kept as written). A "
        "declaration whose statement has an error, an error outside any declaration, and every error of a file "
        "whose imports failed are reported, never repaired; a proof Lean accepts as it is is left alone.",
        epilog="exit codes: 0 every declaration with errors repaired (or accepted by Lean as it is); 1 some not\n"
        "repaired, unrepairable (statement errors) or a file's imports failed; 2 usage problem; 3 Lean cannot be\n"
        "run here; 4 a file was not written (changed on disk or failed the whole-file Lean check); 130 interrupted",
    )
    repair.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="Lean files or folders of one Lake project (default with --resume: the report's)")
    _batch_options(repair, "repairs")
    repair.add_argument("--include-defs", action="store_true",
                        help="repair every declaration kind (def, instance, abbrev, ...), not only theorem, lemma and "
                        "example: a def's body is what it computes, so its repair may change its meaning")
    _skeleton_options(repair, "REPLACE your broken proof by the skeleton (your proof's text is then gone; "
                      "Lean accepts the new one but for its sorries)")

    doctor = sub.add_parser("doctor", help="check the toolchain, the Lake project and the model endpoint")
    doctor.add_argument("path", nargs="?", type=Path, default=Path("."), help="a Lean file or project folder")

    bench = sub.add_parser("bench", help="measure the search pipeline and the server's responsiveness")
    bench.add_argument("--smoke", action="store_true", help="a short run (as in CI)")
    bench.add_argument("--json", type=Path, help="write results as JSON here")
    bench.add_argument("--only", choices=["pipeline", "serve", "responsiveness", "gpu"], action="append")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "doctor":
            from .doctor import run_doctor

            return run_doctor(args.path)
        if args.command == "serve":
            from .server.main import run_server

            return run_server(log_file=args.log_file)
        if args.command == "prove":
            from .batch.command import run_prove

            return run_prove(args)
        if args.command == "repair":
            from .batch.command import run_repair

            return run_repair(args)
        if args.command == "bench":
            from .bench.command import run_bench

            return run_bench(args)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("lean_copilot_py"):
            msg = f"lean-copilot {args.command}: this installation lacks {exc.name}; reinstall lean-copilot-py."
            print(msg, file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return 2
