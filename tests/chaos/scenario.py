"""Random (seeded) behaviour for one chaos run: what the fake Lean and the fake model will do.

Faults that belong to a *moment in a conversation* are triggered by tokens in the model's sketches (a
sketch holding `lean_crash` crashes its Lean worker, ...), so where they land depends on the random
latency and turn order; faults that belong to *wall-clock moments* are injected by the test (faults.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from lean_copilot_py.testing.lean_script import Rule, Script, proved

# Sketch tokens -> what the fake Lean does with a declaration holding them.
TRIGGERS: dict[str, Rule] = {
    "lean_crash": Rule(pattern=r"\blean_crash\b", crash=True),
    "lean_exit": Rule(pattern=r"\blean_exit\b", exit_server=True),
    "lean_hang": Rule(pattern=r"\blean_hang\b", hang=True),
    "lean_slow": Rule(pattern=r"\blean_slow\b", delay_s=1.5, unsolved=True),
}
MODEL_FAILS = ["drop", "garbage", "non_utf8", "http500", "hang"]


def base_script(omega_proves: set[int]) -> Script:
    """The verdicts: `good_I` proves theorem tI; automation's `omega` proves the theorems in ``omega_proves``;
    everything else leaves the goal unsolved."""
    rules = [*TRIGGERS.values()]
    rules += [proved(r"\bomega\b", decl=f"t{i}") for i in sorted(omega_proves)]
    rules += [proved(r"\bgood_\d+\b")]
    return Script(rules=rules, default=Rule(unsolved=True))


def statement(i: int) -> str:
    return f"theorem t{i} (n : Nat) : n + {i} = {i} + n"


@dataclass
class ModelPlan:
    scripts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _final(i: int, kind: str) -> str:
    body = {
        "good": f"exact good_{i}",
        "bad": f"exact bad_{i}",
        # Tries to slip an unverified proof past us: each must be refused before or by Lean.
        "sorry": f"exact good_{i}\n  sorry",
        "weaker": None,
        "eval": f"exact good_{i}\n#eval IO.println 1",
    }[kind]
    if body is None:  # a different (weaker) statement with a "proving" body
        return f"```lean4\ntheorem t{i} (n : Nat) : True := by\n  exact good_{i}\n```"
    return f"```lean4\n{statement(i)} := by\n  {body}\n```"


def model_plan(rng: random.Random, k: int) -> ModelPlan:
    plan = ModelPlan()
    for i in range(k):
        for _attempt in range(2):
            trigger = rng.choice([None, None, *TRIGGERS])
            sketch_body = f"{trigger} -- try" if trigger else "skip"
            sketch = f"Let me check.\n<sketch>\n{statement(i)} := by\n  {sketch_body}\n</sketch>"
            final = "</think>\nSo:\n" + _final(i, rng.choice(["good", "good", "bad", "sorry", "weaker", "eval"]))
            turns: list[dict[str, Any]] = [{"text": sketch}, {"text": final}]
            for t in turns:
                t["latency_s"] = rng.choice([0.0, 0.002, 0.01, 0.03])
            if rng.random() < 0.3:
                bad = rng.randrange(len(turns))
                turns[bad]["fail"] = rng.choice(MODEL_FAILS)
                turns[bad]["after"] = rng.randrange(0, 20)
                plan.notes.append(f"t{i}: turn {bad} {turns[bad]['fail']}")
            if trigger:
                plan.notes.append(f"t{i}: sketch {trigger}")
            plan.scripts.append({"match": rf"theorem t{i} \(", "turns": turns})
    return plan
