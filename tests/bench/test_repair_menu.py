"""The repair-menu benchmark runs end to end (its numbers are for benchmarks/RESULTS.md, not asserted here): every
request it times was answered with "Repair this proof", over the wire and in process."""

from __future__ import annotations

import asyncio

from lean_copilot_py.bench.repair_menu import RepairMenuConfig, repair_menu_table, run_repair_menu


def test_repair_menu_bench_runs() -> None:
    cfg = RepairMenuConfig("test", size_bytes=30_000, requests=5, many=20)
    r = asyncio.run(run_repair_menu(cfg))
    assert r["declarations"] > 300
    assert r["wire"]["line"]["n"] == r["wire"]["many"]["n"] == r["in_process"]["n"] == 5
    assert r["wire"]["many"]["diagnostics_per_request"] == 20
    assert r["in_process"]["server_known_errors"] == r["declarations"]
    assert "Repair menu:" in repair_menu_table(r)
