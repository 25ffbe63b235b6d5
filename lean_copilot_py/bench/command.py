"""`lean-copilot bench [--smoke] [--json FILE] [--only pipeline|responsiveness|gpu]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from .machine import load_average, machine_info

PARTS = ("pipeline", "serve", "responsiveness", "gpu")


def collect(parts: list[str], smoke: bool, *, progress: bool = True) -> dict[str, Any]:
    """Run the chosen parts; returns the JSON-ready results (machine included)."""

    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    out: dict[str, Any] = {"smoke": smoke, "machine": machine_info(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if "pipeline" in parts:
        from .pipeline import run_pipeline
        from .suites import full_set, smoke_set

        say("bench: pipeline (per workload: reference loop, ours with 1 attempt, ours with N) ...")
        out["pipeline"] = asyncio.run(run_pipeline(smoke_set() if smoke else full_set(),
                                                   extra_workers=None if smoke else 8))
    if "serve" in parts:
        from .seed_serve import ServeSeedConfig, run_seed_serve

        say("bench: serve (the seed story through `lean-copilot serve`, 1 attempt then 8) ...")
        out["serve"] = asyncio.run(run_seed_serve(ServeSeedConfig()))
    if "responsiveness" in parts:
        from .large_document import FULL_LARGE, SMOKE_LARGE, run_large_document
        from .responsiveness import FULL_RESP, SMOKE_RESP, run_responsiveness

        say("bench: responsiveness (lean-copilot serve under load) ...")
        out["responsiveness"] = asyncio.run(run_responsiveness(SMOKE_RESP if smoke else FULL_RESP))
        say("bench: responsiveness (a large document, exit with work queued) ...")
        out["responsiveness"]["large_document"] = asyncio.run(run_large_document(SMOKE_LARGE if smoke else FULL_LARGE))
        from .repair_menu import FULL_REPAIR_MENU, SMOKE_REPAIR_MENU, run_repair_menu

        say("bench: responsiveness (the repair menu on a large document full of errors) ...")
        menu = SMOKE_REPAIR_MENU if smoke else FULL_REPAIR_MENU
        out["responsiveness"]["repair_menu"] = asyncio.run(run_repair_menu(menu))
    if "gpu" in parts:
        from .gpu import run_gpu

        say("bench: gpu ...")
        out["gpu"] = run_gpu(smoke)
    out["machine"]["load_average_after"] = load_average()
    return out


def render(results: dict[str, Any]) -> str:
    from .report import machine_line, pipeline_table, responsiveness_table

    parts = [machine_line(results["machine"])]
    if "pipeline" in results:
        parts.append(pipeline_table(results["pipeline"], smoke=bool(results.get("smoke"))))
    if "serve" in results:
        from .seed_serve import seed_serve_table

        parts.append(seed_serve_table(results["serve"]))
    if "responsiveness" in results:
        parts.append(responsiveness_table(results["responsiveness"]))
        if "large_document" in results["responsiveness"]:
            from .large_document import large_document_table

            parts.append(large_document_table(results["responsiveness"]["large_document"]))
        if "repair_menu" in results["responsiveness"]:
            from .repair_menu import repair_menu_table

            parts.append(repair_menu_table(results["responsiveness"]["repair_menu"]))
    if "gpu" in results:
        g = results["gpu"]
        if g.get("ran"):
            parts.append("GPU: " + json.dumps(g["results"], indent=2))
        else:
            parts.append(f"GPU: not run: {g['reason']}." + (f" Measured numbers: {g['measured_results']}."
                                                             if g.get("measured_results") else ""))
    return "\n\n".join(parts)


def run_bench(args: argparse.Namespace) -> int:
    # The smoke run (CI) leaves the GPU part out unless asked: finding out whether CUDA is here costs a torch import.
    default = ["pipeline", "responsiveness"] if args.smoke else list(PARTS)
    parts = list(dict.fromkeys(args.only)) if args.only else default
    results = collect(parts, bool(args.smoke))
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nresults written to {args.json}")
    return 0
