"""What a declaration elaborates to in the fake Lean server: the test's script (lean_script.py)
applied to one declaration of a document."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .lean_script import Rule, Script, load_script
from .lean_text import Decl, derive_goal

SEVERITIES = {"error": 1, "warning": 2, "info": 3, "information": 3, "hint": 4}


@dataclass
class Outcome:
    diags: list[dict[str, Any]]  # (start, end, severity, message, tags, code) in offsets, turned into LSP later
    had_error: bool
    had_sorry: bool
    goals: list[str]
    closed: bool  # no goals left at the end of the body
    axioms: list[str] | None
    rule: Rule | None


class Judge:
    def __init__(self, script_path: Path) -> None:
        self.path = script_path
        self.mtime = -1
        self.script = Script()
        self.hits: dict[int, int] = {}

    def current(self) -> Script:
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError:
            return self.script
        if mtime != self.mtime:
            try:
                self.script = load_script(self.path)
                self.mtime = mtime
                self.hits = {}
            except (OSError, ValueError, TypeError) as exc:  # half-written by a test: keep the old one
                print(f"fake-lean: bad script {self.path}: {exc}", file=sys.stderr)
        return self.script

    def goal_of(self, d: Decl) -> str:
        return self.script.goals.get(d.full_name) or self.script.goals.get(d.name) or derive_goal(d.signature)

    def pick(self, d: Decl, body: str) -> tuple[Rule | None, re.Match[str] | None]:
        for i, rule in enumerate(self.script.rules):
            if rule.decl is not None and rule.decl not in (d.name, d.full_name):
                continue
            m = None
            if rule.pattern is not None:
                m = re.search(rule.pattern, body, re.M)
                if m is None:
                    continue
            if rule.max_hits is not None and self.hits.get(i, 0) >= rule.max_hits:
                continue
            self.hits[i] = self.hits.get(i, 0) + 1
            return rule, m
        return None, None

    def judge(self, text: str, d: Decl, known: dict[str, Outcome] | None = None) -> Outcome:
        """``known``: the outcomes of the document's earlier declarations, by name and full name."""
        body_off = d.body_start if d.body_start >= 0 else d.end
        body = text[body_off : d.end]
        same = self.alias(d, body, known or {})
        if same is not None:
            return same
        rule, m = self.pick(d, body)
        diags: list[dict[str, Any]] = []
        goal = self.goal_of(d)

        def anchor(at: str) -> tuple[int, int]:
            if at == "match" and m is not None:
                return body_off + m.start(), body_off + m.end()
            return {
                "name": d.name_span,
                "keyword": d.keyword,
                "decl": (d.start, d.end),
                "body": (body_off, d.end),
                "by": d.by_span or (body_off, body_off),
            }.get(at, d.name_span)

        def add(
            start: int, end: int, severity: int | str, message: str, tags: list[int] | None = None,
            code: str | None = None,
        ) -> None:
            sev = SEVERITIES.get(str(severity).lower(), severity) if isinstance(severity, str) else severity
            diags.append(
                {"start": start, "end": end, "severity": int(sev), "message": message, "tags": tags or [], "code": code}
            )

        searches = [(mm.start(), mm.group(0)) for mm in re.finditer(r"\b(?:exact|apply)\?", body)]
        closed = True
        if rule is None and searches:
            rule = Rule()
            for pos, tac in searches:
                suggestion = self.script.try_this.get(tac)
                if suggestion:
                    add(body_off + pos, body_off + pos + len(tac), "info", f"Try this: {suggestion}")
                else:
                    add(
                        body_off + pos,
                        body_off + pos + len(tac),
                        "error",
                        f"`{tac}` could not close the goal. Try `apply?` to see partial suggestions.",
                    )
        elif rule is None and d.kind in self.script.default_kinds and not re.search(r"\bsorry\b", body):
            rule = self.script.default
        elif rule is None:
            rule = Rule()
        for diag in rule.diagnostics:
            s, e = anchor(diag.at)
            if diag.length is not None:
                e = s + diag.length
            add(s, e, diag.severity, diag.message, diag.lean_tags, diag.code)
        goals = rule.goals if rule.goals is not None else [goal]
        if rule.unsolved:
            s, e = anchor("by")
            add(s, e, "error", "unsolved goals\n" + "\n\n".join(goals), [1])
            closed = False
        had_error = any(x["severity"] == 1 for x in diags)
        has_sorry = re.search(r"\bsorry\b", body) is not None
        if has_sorry and not had_error:
            add(*d.name_span, "warning", "declaration uses 'sorry'")
        axioms = rule.axioms
        if axioms is None:
            axioms = ["sorryAx"] if (had_error or has_sorry) else []
        if rule.no_audit:
            axioms = None
        return Outcome(diags, had_error, has_sorry, goals, closed and not had_error, axioms, rule)

    def alias(self, d: Decl, body: str, known: dict[str, Outcome]) -> Outcome | None:
        """A declaration whose whole proof is an earlier one (`:= @foo`, as the checker's statement check
        writes it) elaborates like Lean would: no message of its own, the other one's axioms (`sorryAx` when
        that one had an error). A rule naming the declaration still wins."""
        m = re.fullmatch(r"\s*(\(\s*)?@?([\w.']+)(?(1)\s*\))\s*", body)
        if m is None or any(r.decl in (d.name, d.full_name) for r in self.script.rules if r.decl is not None):
            return None
        if m.group(2) not in known:
            if not body.lstrip().startswith("@"):
                return None  # a plain term (`trivial`, `rfl`): the script's rules judge it
            # `@name` of nothing declared: Lean 4.35 answers at the name and the declaration stays unproved.
            start = d.body_start + body.index("@") + 1
            diag = {"start": start, "end": start + len(m.group(2)), "severity": 1,
                    "message": f"Unknown identifier `{m.group(2)}`", "tags": [], "code": "lean.unknownIdentifier"}
            return Outcome([diag], True, False, [], False, ["sorryAx"], None)
        src = known[m.group(2)]
        return Outcome([], False, False, [], True, src.axioms, None)

