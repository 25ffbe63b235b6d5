"""The scripted workload both loops run: one theorem, N model conversations, Lean verdicts by pattern.

Each conversation (one script of the fake model server, one attempt) writes some free text, then a
``<sketch>`` with a whole theorem; failing attempts try ``failing_turns`` sketches Lean rejects and then
give a final answer Lean rejects. The winning attempt's sketch number ``winner_turn`` is the first proof;
after it the model writes a short summary and the same proof as its final answer (what StepFun-Prover
does: the reference loop reads that final answer, ours stops at the first proving sketch).
Lean (the fake): a proof containing ``omega`` elaborates cleanly, ``linarith`` logs an error, anything else
leaves unsolved goals; every declaration costs ``check_s``, a fresh worker's import header ``header_s``.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .fakes import ensure_fakes

THEOREM = "theorem bench_target (a b : Nat) (h : a ≤ b) : a + (b - a) = b := by"
LEAN_FILE = f"import Mathlib\n\n{THEOREM}\n  sorry\n"
FORMAL_PROBLEM = f"import Mathlib\n\n{THEOREM}"  # StepFun's problem: header + statement ending in `:= by`
WINNING_TACTIC = "  have hb : a ≤ b := h\n  omega"
FAILING_TACTICS = (
    "  simp",
    "  linarith",
    "  nlinarith [h]",
    "  norm_num [Nat.sub_add_cancel]",
    "  induction a with\n  | zero => simp\n  | succ n ih => simp_all",
    "  rw [Nat.add_comm]\n  simp [h]",
)
_FILLER = (
    "We need a + (b - a) = b for natural numbers with a ≤ b. Truncated subtraction is the subtle part: "
    "b - a is only the real difference because a ≤ b, so the hypothesis h must be used somewhere. "
    "Let me try a tactic and look at what Lean says about the remaining goals. "
)


@dataclass(frozen=True)
class Workload:
    name: str
    tok_per_s: float = 220.0  # per stream, the decode speed of a 7B model on a batching server
    think_tokens: tuple[int, int] = (100, 250)  # free text before each sketch (uniform, seeded)
    summary_tokens: int = 60
    check_s: float = 0.3  # Lean elaboration of the checked declaration
    header_s: float = 1.0  # Lean loading the import header in a fresh worker
    attempts: int = 8
    winner: int = 3  # 1-based: the attempt (script) that finds the proof
    winner_turn: int = 3  # 1-based: its sketch that proves
    failing_turns: int = 3  # sketches a failing attempt writes before its (failing) final answer
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Workload("full")
SMOKE = Workload(
    "smoke", tok_per_s=4000.0, think_tokens=(20, 40), summary_tokens=10, check_s=0.02, header_s=0.05,
    attempts=3, winner=2, winner_turn=2, failing_turns=2,
)


def _think(rng: random.Random, attempt: int, turn: int, n: int) -> str:
    # The attempt/turn tag keeps every script's text distinct, which the fake server needs to keep a
    # continuation on its own script.
    head = f"[attempt {attempt}, step {turn}] "
    body = (_FILLER * (1 + n // len(_FILLER)))[rng.randrange(len(_FILLER)):]
    return (head + body)[: max(n, len(head))]


def _sketch(tactic: str) -> str:
    return f"\n<sketch>\n{THEOREM}\n{tactic}\n</sketch>"


def _final(tactic: str, summary: str) -> str:
    return f"\n{summary}\n\n```lean4\n{THEOREM}\n{tactic}\n```"


def conversation(w: Workload, attempt: int) -> list[str]:
    """The turns (texts up to and including `</sketch>`, or the final answer) of one attempt."""
    rng = random.Random(w.seed * 1000 + attempt)
    winning = attempt == w.winner
    n_sketches = w.winner_turn if winning else w.failing_turns
    turns = []
    for t in range(1, n_sketches + 1):
        failing = FAILING_TACTICS[(attempt + t) % len(FAILING_TACTICS)]
        tactic = WINNING_TACTIC if winning and t == w.winner_turn else failing
        turns.append(_think(rng, attempt, t, rng.randint(*w.think_tokens)) + _sketch(tactic))
    final = WINNING_TACTIC if winning else FAILING_TACTICS[attempt % len(FAILING_TACTICS)]
    turns.append(_final(final, _think(rng, attempt, n_sketches + 1, w.summary_tokens)))
    return turns


def model_script(w: Workload) -> dict[str, Any]:
    """The fake model server's script. Turns are counted by the feedback's opening tag on its own line
    (the system prompt mentions `<REPL>` too, inline)."""
    return {
        "model": "fake-stepfun",
        "latency_s": 1.0 / w.tok_per_s,
        "turn_marker": "\n<REPL>\n",
        "scripts": [{"turns": conversation(w, a)} for a in range(1, w.attempts + 1)],
    }


def write_lean_script(w: Workload, path: Path) -> Path:
    ensure_fakes()
    from tests.fakes.lean_script import Script, error, proved, unsolved, write_script

    script = Script(
        rules=[
            proved(r"\bomega\b"),
            error(r"linarith", "linarith failed to find a contradiction"),
        ],
        default=unsolved(goals=["a b : Nat\nh : a ≤ b\n⊢ a + (b - a) = b"]),
        delay_s=w.check_s,
        header_delay_s=w.header_s,
    )
    return write_script(path, script)
