"""server.check_documents with the real Engine over the scripted fake Lean server: the server's own whole-file
check finds Lean's error in a proof, the menu offers "Repair this proof" from it (no Lean call while the menu
opens), and the repaired proof is the one Lean accepted. The fake Lean's messages and positions are shown to be
the real server's shapes in tests/lean/test_fake_matches_real.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lean_copilot_py.testing.lean_script import Diag, Rule, Script, proved

from .conftest import Start
from .test_lsp_real_engine import REPO, SERVE, options
from .test_repair_actions import REPAIR_TITLE, actions_at, titled

BROKEN = "theorem swap (a b : Nat) : a + b = b + a := by\n  exact Nat.add_comm b a\n"
MISMATCH = "type mismatch\n  Nat.add_comm b a\nhas type\n  b + a = a + b : Prop"


async def test_the_servers_check_offers_repair_and_only_the_proof_is_replaced(
    start: Start, lean_file, tmp_path: Path
) -> None:
    script = Script(rules=[Rule(pattern=r"Nat\.add_comm b a", diagnostics=[Diag(MISMATCH)]), proved(r"\bomega\b")],
                    default=Rule(unsolved=True))
    uri = lean_file(BROKEN)
    init = options(tmp_path, script)
    init["leanCopilot"]["server"] = {"check_documents": True, "check_delay_s": 0.05}
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": REPO}
    editor = await start(init_options=init, command=SERVE, env=env)
    editor.open(uri, BROKEN)
    action = None
    for _ in range(200):
        action = titled(await actions_at(editor, uri, 1, 4), REPAIR_TITLE)
        if action is not None:
            break
        await asyncio.sleep(0.1)
    assert action is not None, "the server's check never offered the repair"
    result = await asyncio.wait_for(editor.command("leanCopilot.repair", *action["command"]["arguments"]), 60)
    assert result["status"] == "proved", result
    assert editor.texts[uri] == "theorem swap (a b : Nat) : a + b = b + a := by\n  omega\n"
