"""Wall-clock faults injected while searches run through `lean-copilot serve`.

Each fault is ``async def fault(run) -> str`` returning a note for the failure report. ``run`` is the
current chaos run (session.py); faults only use the editor, the fake servers and the processes.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import psutil
from lsprotocol import types as lsp

from lean_copilot_py.testing.lean_script import write_script

if TYPE_CHECKING:
    from .session import Run

Fault = Callable[["Run"], Awaitable[str]]


def lean_processes(server_pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in children:
        try:
            if any("fake_lean.py" in part for part in p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


async def kill_lean_server(run: Run) -> str:
    """SIGKILL the whole fake `lake serve` (the checker must notice and start a new one)."""
    procs = lean_processes(run.session.server_pid)
    for p in procs:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass
    return f"killed lean {[p.pid for p in procs]}"


async def restart_model(run: Run) -> str:
    """Stop the model server (in-flight streams are cut), wait, start it again on the same port."""
    srv = run.session.model
    await srv.stop()
    down = run.rng.uniform(0.1, 1.0)
    await asyncio.sleep(down)
    await srv.start(port=run.session.model_port)
    return f"model down {down:.2f}s"


async def lean_slowdown(run: Run) -> str:
    """Rewrite the Lean script mid-run: every declaration takes longer, for a while."""
    delay = run.rng.uniform(0.2, 1.0)
    slow = run.script
    write_script(run.session.script_path, type(slow)(**{**slow.__dict__, "delay_s": delay}))
    await asyncio.sleep(1.0)
    write_script(run.session.script_path, slow)
    return f"lean slowdown {delay:.2f}s"


async def edit_comment(run: Run) -> str:
    """The user types at the end of a comment line between theorems (outside every proof)."""
    i = run.rng.randrange(run.k)
    run.type_at_line_end(f"-- note {i}", " x😀")
    return f"typed in note {i}"


async def edit_top(run: Run) -> str:
    """A new line at the top: every position below moves (targets must be relocated, not reused)."""
    run.insert_top("-- 𝔽 inserted\n")
    return "inserted a top line"


async def edit_statement(run: Run) -> str:
    """The user changes a theorem's statement: a proof of the old one must not be applied."""
    i = run.rng.randrange(run.k)
    run.type_before(f"theorem t{i} ", " :=", " ∧ True")
    return f"changed statement t{i}"


async def cancel_request(run: Run) -> str:
    """$/cancelRequest for one pending executeCommand."""
    live = [m for m, f in run.pending.items() if not f.done()]
    if not live:
        return "cancelRequest: nothing pending"
    msg_id = run.rng.choice(live)
    run.session.editor.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=msg_id))
    return f"cancelRequest {msg_id}"


def _open_tokens(run: Run) -> list[str]:
    reports = run.session.editor.client.progress_reports
    return [
        str(t)
        for t, items in reports.items()
        if str(t).startswith("lean-copilot/") and not any(isinstance(x, lsp.WorkDoneProgressEnd) for x in items)
    ]


async def progress_cancel(run: Run) -> str:
    """The user clicks "Cancel" on a progress notification (window/workDoneProgress/cancel)."""
    tokens = _open_tokens(run)
    if not tokens:
        return "progress cancel: no open progress"
    token = run.rng.choice(tokens)
    run.session.editor.client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=token))
    return f"progress cancel {token}"


async def copilot_cancel(run: Run) -> str:
    """The leanCopilot.cancel command, for one search or (no id) for all."""
    tokens = _open_tokens(run)
    arg = {"searchId": run.rng.choice(tokens).split("/", 1)[1]} if tokens and run.rng.random() < 0.7 else {}
    res = await asyncio.wait_for(run.session.editor.command("leanCopilot.cancel", arg), 5)
    return f"leanCopilot.cancel {arg} -> {res.get('cancelled') if isinstance(res, dict) else res}"


FAULTS: dict[str, Fault] = {
    "kill_lean_server": kill_lean_server,
    "restart_model": restart_model,
    "lean_slowdown": lean_slowdown,
    "edit_comment": edit_comment,
    "edit_top": edit_top,
    "edit_statement": edit_statement,
    "cancel_request": cancel_request,
    "progress_cancel": progress_cancel,
    "copilot_cancel": copilot_cancel,
}

