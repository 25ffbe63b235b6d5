"""`lean-copilot serve | prove | doctor | bench`: wires settings to the layers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__


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
    prove.add_argument("--write", action="store_true",
                       help="apply verified proofs to the files (default: print a diff)")
    prove.add_argument("--report", type=Path, help="write a JSON report here")
    prove.add_argument("--resume", type=Path, help="continue from an earlier JSON report")
    prove.add_argument("--no-model", action="store_true", help="run the automation portfolio only")
    prove.add_argument("--retry-failed", action="store_true",
                       help="with --resume: search again for targets the earlier run failed on (default: keep them)")
    prove.add_argument("--trust-project", action="store_true",
                       help="take the project's .lean-copilot.toml whole for this run, the keys that run programs or "
                       "route keys included (lean.server_command, model.endpoint, ...); to trust it for good, list it "
                       "in trust.projects of ~/.config/lean-copilot/config.toml")

    doctor = sub.add_parser("doctor", help="check the toolchain, the Lake project and the model endpoint")
    doctor.add_argument("path", nargs="?", type=Path, default=Path("."), help="a Lean file or project folder")

    bench = sub.add_parser("bench", help="measure the search pipeline and the server's responsiveness")
    bench.add_argument("--smoke", action="store_true", help="a short run (as in CI)")
    bench.add_argument("--json", type=Path, help="write results as JSON here")
    bench.add_argument("--only", choices=["pipeline", "serve", "responsiveness", "gpu"], action="append")
    return parser


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
