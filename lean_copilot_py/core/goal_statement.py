"""A `sorry`'s goal as a standalone theorem statement, for the model's prompt.

Asked to fill one `sorry` deep inside a proof, a prover model does best with the goal as its own theorem:
`theorem t (k : Nat) (ih : P k) : P (k + 1) := by`. The hypotheses keep their names, so the tactics the
model writes for that theorem are the tactics for the sorry (pinning takes them back out by the name).
A goal that doesn't read back as Lean syntax (let-bound hypotheses, several goals) gives None, and the
prompt falls back to the enclosing declaration.
"""

from __future__ import annotations

import re

_INACCESSIBLE = re.compile(r"✝(\d*)")


def _hypothesis_lines(lines: list[str]) -> list[str]:
    """Join continuation lines (indented) to the hypothesis they belong to."""
    hyps: list[str] = []
    for line in lines:
        if line.startswith((" ", "\t")) and hyps:
            hyps[-1] += " " + line.strip()
        elif line.strip():
            hyps.append(line.strip())
    return hyps


def _binder(hyp: str) -> str | None:
    names, sep, typ = hyp.partition(" : ")
    if not sep or not names.strip() or not typ.strip():
        return None
    if ":=" in typ:  # a `let` in context: its value would be lost
        return None
    names = names.strip()
    if all(n.startswith("inst✝") for n in names.split()):
        return f"[{typ.strip()}]"
    # `h✝` can't be named in source; a tactic proof can't refer to it by name either, so any name serves.
    names = _INACCESSIBLE.sub(lambda m: f"_inaccessible{m.group(1)}", names)
    return f"({names} : {typ.strip()})"


def goal_statement(name: str, goal: str) -> str | None:
    """``theorem <name> <binders> : <target> := by`` for a single pretty-printed goal, or None."""
    text = goal.strip("\n")
    if not text or "\n\n" in text:  # no goal, or several goals
        return None
    lines = text.split("\n")
    if lines[0].startswith("case "):
        lines = lines[1:]
    turnstile = next((i for i, ln in enumerate(lines) if ln.startswith("⊢ ")), None)
    if turnstile is None:
        return None
    conclusion = " ".join([lines[turnstile][2:].strip(), *(ln.strip() for ln in lines[turnstile + 1 :])]).strip()
    hyps = _hypothesis_lines(lines[:turnstile])
    if not conclusion:
        return None
    binders: list[str] = []
    for hyp in hyps:
        b = _binder(hyp)
        if b is None:
            return None
        binders.append(b)
    head = " ".join([f"theorem {name}", *binders])
    return f"{head} : {conclusion} := by"
