"""Part: the seed story through `lean-copilot serve`, as an editor drives it (the issue's own measurement).

The server runs as a subprocess over stdio with default settings except ``search.attempts`` (1, then 8) and
the fakes of lean_copilot_py/testing/: Lean (fake_lean.py) scripted by the seed-story workload (bench/heavy.py:
the `interval_cases` sketch never finishes, the factorisation proof checks), the model (fake_openai.py with the
tiny BPE tokenizer the server loads). One `leanCopilot.prove` at the `sorry`; timed until the
server's `workspace/applyEdit` with the proof arrives. ``LEAN_COPILOT_BENCH_SERVER_ROOT`` runs the server
from another checkout (bench/fakes.py: a before/after comparison with the same driver).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..testing.lean_script import fake_lean_command
from .fakes import FakeModelServer, make_project, server_root
from .heavy import seed_story
from .lsp_client import LspClient
from .responsiveness import _build_tokenizer
from .workload import model_script, write_lean_script


@dataclass(frozen=True)
class ServeSeedConfig:
    time_scale: float = 0.1
    attempts: tuple[int, ...] = (1, 8)
    slots: int = 4


async def _one(attempts: int, work: Path, tok_dir: Path, cfg: ServeSeedConfig) -> dict[str, Any]:
    w = seed_story(attempts=8, time_scale=cfg.time_scale)
    run = work / f"attempts-{attempts}"
    path = make_project(run / "proj", w.lean_file)
    lean_script = write_lean_script(w, run / "lean.json")
    async with FakeModelServer(model_script(w), run, tokenizer_dir=tok_dir) as srv:
        options: dict[str, Any] = {
            "lean": {"server_command": fake_lean_command(lean_script), "slots": cfg.slots,
                     "check_timeout_s": w.check_timeout_s},
            "search": {"attempts": attempts, "cache": False},
            "paths": {"cache_dir": str(run / "cache"), "transcript_dir": str(run / "transcripts")},
            "model": {"backend": "openai", "endpoint": srv.url, "name": "fake-stepfun", "tokenizer": str(tok_dir),
                      "family": "stepfun"},
        }
        root = server_root()
        pythonpath = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, XDG_CONFIG_HOME=str(run / "xdg"), PYTHONPATH=pythonpath)
        client = LspClient([sys.executable, "-m", "lean_copilot_py", "serve"], env=env, cwd=str(run))
        await client.start()
        try:
            await client.request("initialize", {"processId": os.getpid(), "rootUri": (run / "proj").as_uri(),
                                                "capabilities": {"window": {"workDoneProgress": True}},
                                                "initializationOptions": options}, timeout=120)
            client.notify("initialized", {})
            uri = path.as_uri()
            client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "lean4", "version": 1,
                                                                    "text": w.lean_file}})
            line = w.lean_file.split("\n").index("  sorry")
            began = time.monotonic()
            result = await client.request("workspace/executeCommand", {
                "command": "leanCopilot.prove", "arguments": [{"uri": uri, "line": line, "character": 2}]},
                timeout=600)
            done = time.monotonic()
            applied = [t for t, m in client.server_request_times if m == "workspace/applyEdit" and t >= began]
        finally:
            await client.stop()
        requests = await srv.requests()
    return {"attempts": attempts, "status": (result or {}).get("status"),
            "proof_applied_after_s": round(applied[0] - began, 3) if applied else None,
            "command_answered_after_s": round(done - began, 3), "model_requests": len(requests),
            "server_root": str(root)}


async def run_seed_serve(cfg: ServeSeedConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lean-copilot-bench-serve-") as tmp:
        work = Path(tmp)
        tok_dir = _build_tokenizer(work / "tokenizer")
        runs = [await _one(n, work, tok_dir, cfg) for n in cfg.attempts]
    by = {r["attempts"]: r for r in runs}
    one, many = by.get(1), by.get(max(cfg.attempts))
    ratio = None
    if one and many and one["proof_applied_after_s"] and many["proof_applied_after_s"]:
        ratio = round(many["proof_applied_after_s"] / one["proof_applied_after_s"], 3)
    return {"config": asdict(cfg), "runs": runs, "ratio_n_over_one": ratio, "target_ratio_max": 1.1}


def seed_serve_table(r: dict[str, Any]) -> str:
    c = r["config"]
    lines = [f"Seed story through `lean-copilot serve` (time scale {c['time_scale']:g}: the 60 s timeout lasts "
             f"{60 * c['time_scale']:g} s; {c['slots']} slots, default automation):"]
    for run in r["runs"]:
        lines.append(f"  {run['attempts']} attempt(s): {run['status']}, proof applied after "
                     f"{run['proof_applied_after_s']} s ({run['model_requests']} model requests)")
    lines.append(f"  ratio {max(c['attempts'])} attempts / 1 attempt: {r['ratio_n_over_one']} "
                 f"(target <= {r['target_ratio_max']:g})")
    return "\n".join(lines)
