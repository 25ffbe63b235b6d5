"""Scripted workloads both loops run: one theorem, N model conversations, Lean verdicts and check times by pattern.

A conversation (one script of the fake model server, one attempt) is a list of turns: free text then a
``<sketch>`` with the whole theorem, and finally a summary with the final answer in a ```lean4 block (what
StepFun-Prover does: the reference loop reads that final answer, ours stops at the first sketch Lean proves).
What Lean (lean_copilot_py/testing/fake_lean.py) does with a declaration is decided by the first rule whose
pattern occurs in its proof: proved, an error, unsolved goals, or never finishing (a TIMEOUT at
``check_timeout_s``), after ``delay_s``; a fresh worker first pays ``header_s`` for the import header.

Builders: ``uniform`` here (the original workload: every check 0.3 s); ``seed_story`` and ``heavy_tailed`` in
bench/heavy.py. Each names its time scale: ``time_scale`` < 1 shrinks every duration of the modelled reality
(token counts at the same decode rate, check times, the header, the 60 s timeout) by the same factor, which
keeps every ratio and lets the benchmark finish in minutes.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..testing.lean_script import Rule, Script, error, proved, unsolved, write_script

UNIFORM_THEOREM = "theorem bench_target (a b : Nat) (h : a ≤ b) : a + (b - a) = b := by"


@dataclass(frozen=True)
class LeanRule:
    pattern: str  # a regex searched in the declaration's proof
    outcome: str  # "proved" | "error" | "unsolved" | "timeout"
    delay_s: float = 0.0
    message: str = ""  # for "error"


@dataclass(frozen=True)
class Workload:
    name: str
    theorem: str  # the statement, ending in `:= by`
    conversations: tuple[tuple[str, ...], ...]  # per script: the texts of its turns
    rules: tuple[LeanRule, ...]
    default_outcome: str = "unsolved"
    default_delay_s: float = 0.3
    goals: tuple[str, ...] = ()  # what `unsolved goals` lists
    tok_per_s: float = 220.0  # per stream, the decode speed of a 7B model on a batching server
    header_s: float = 1.0  # Lean loading the import header in a fresh worker
    check_timeout_s: float = 60.0  # StepFun's REPL timeout (scaled like everything else)
    time_scale: float = 1.0
    description: str = ""
    expect: dict[str, Any] = field(default_factory=dict)  # facts about the script the smoke test checks

    @property
    def attempts(self) -> int:
        return len(self.conversations)

    @property
    def lean_file(self) -> str:
        return f"import Mathlib\n\n{self.theorem}\n  sorry\n"

    @property
    def formal_problem(self) -> str:
        """StepFun's problem: the header and the statement ending in `:= by`."""
        return f"import Mathlib\n\n{self.theorem}"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["attempts"] = self.attempts
        out["conversations"] = [len(c) for c in self.conversations]  # turn counts; the texts are in the code
        out["rules"] = len(self.rules)
        return out


def sketch(theorem: str, tactic: str) -> str:
    return f"\n<sketch>\n{theorem}\n{tactic}\n</sketch>"


def final(theorem: str, tactic: str, summary: str) -> str:
    return f"\n{summary}\n\n```lean4\n{theorem}\n{tactic}\n```"


_FILLER = (
    "We need to understand the statement before choosing a tactic. The hypotheses fix the structure, and the "
    "goal follows once the right identity is used; let me write a sketch and look at what Lean says about "
    "the remaining goals before committing to a full proof. "
)


def think(rng: random.Random, tag: str, n: int) -> str:
    """About ``n`` tokens (characters, with the fake server's tokenizer) of free text. The tag keeps every
    script's text distinct, which the fake server needs to keep a continuation on its own script."""
    head = f"[{tag}] "
    body = (_FILLER * (2 + n // len(_FILLER)))[rng.randrange(len(_FILLER)):]
    return (head + body)[: max(n, len(head))]


def model_script(w: Workload) -> dict[str, Any]:
    """The fake model server's script. Turns are counted by the feedback's opening tag on its own line
    (the system prompt mentions `<REPL>` too, inline)."""
    return {
        "model": "fake-stepfun",
        "latency_s": 1.0 / w.tok_per_s,
        "turn_marker": "\n<REPL>\n",
        "scripts": [{"turns": list(c)} for c in w.conversations],
    }


def write_lean_script(w: Workload, path: Path) -> Path:
    goals = list(w.goals) or None

    def rule(r: LeanRule | None, pattern: str | None, outcome: str, delay: float) -> Rule:
        if outcome == "proved":
            return proved(pattern, delay_s=delay)
        if outcome == "error":
            return error(pattern, (r.message if r else "") or "linarith failed to find a contradiction", delay_s=delay)
        if outcome == "timeout":
            return Rule(pattern=pattern, hang=True, delay_s=delay)
        return unsolved(pattern, goals=goals, delay_s=delay)

    script = Script(
        rules=[rule(r, r.pattern, r.outcome, r.delay_s) for r in w.rules],
        default=rule(None, None, w.default_outcome, w.default_delay_s),
        header_delay_s=w.header_s,
    )
    return write_script(path, script)


# --- the uniform workload (every check takes the same time) ------------------------------------------------

WINNING_TACTIC = "  have hb : a ≤ b := h\n  omega"
FAILING_TACTICS = (
    "  simp",
    "  linarith",
    "  nlinarith [h]",
    "  norm_num [Nat.sub_add_cancel]",
    "  induction a with\n  | zero => simp\n  | succ n ih => simp_all",
    "  rw [Nat.add_comm]\n  simp [h]",
)


def uniform(name: str, *, tok_per_s: float = 220.0, think_tokens: tuple[int, int] = (100, 250),
            summary_tokens: int = 60, check_s: float = 0.3, header_s: float = 1.0, attempts: int = 8,
            winner: int = 3, winner_turn: int = 3, failing_turns: int = 3, seed: int = 0) -> Workload:
    """Attempts other than ``winner`` write ``failing_turns`` sketches Lean rejects and a failing final answer;
    the winner's sketch ``winner_turn`` is the proof. Every check takes ``check_s`` (not a distribution of
    real check times: the heavy-tailed workload is that)."""
    convs = []
    for attempt in range(1, attempts + 1):
        rng = random.Random(seed * 1000 + attempt)
        winning = attempt == winner
        n_sketches = winner_turn if winning else failing_turns
        turns = []
        for t in range(1, n_sketches + 1):
            failing = FAILING_TACTICS[(attempt + t) % len(FAILING_TACTICS)]
            tactic = WINNING_TACTIC if winning and t == winner_turn else failing
            turns.append(think(rng, f"attempt {attempt}, step {t}", rng.randint(*think_tokens))
                         + sketch(UNIFORM_THEOREM, tactic))
        last = WINNING_TACTIC if winning else FAILING_TACTICS[attempt % len(FAILING_TACTICS)]
        turns.append(final(UNIFORM_THEOREM, last, think(rng, f"attempt {attempt}, summary", summary_tokens)))
        convs.append(tuple(turns))
    return Workload(
        name=name, theorem=UNIFORM_THEOREM, conversations=tuple(convs),
        rules=(LeanRule(r"\bomega\b", "proved", check_s),
               LeanRule(r"linarith", "error", check_s, "linarith failed to find a contradiction")),
        default_outcome="unsolved", default_delay_s=check_s, goals=("a b : Nat\nh : a ≤ b\n⊢ a + (b - a) = b",),
        tok_per_s=tok_per_s, header_s=header_s,
        description=(f"{attempts} scripted attempts; attempt {winner}'s sketch {winner_turn} is the proof, the others "
                     f"write {failing_turns} failing sketches; every check {check_s:g} s, header {header_s:g} s"),
        expect={"winner": winner, "winner_turn": winner_turn, "ours_1_proves": winner == 1},
    )


FULL = uniform("uniform")
SMOKE = uniform("uniform-smoke", tok_per_s=4000.0, think_tokens=(20, 40), summary_tokens=10, check_s=0.02,
                header_s=0.05, attempts=3, winner=2, winner_turn=2, failing_turns=2)
