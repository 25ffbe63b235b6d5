"""What the fake Lean server was really asked to check, rebuilt from its message log, and judged again.

An applied proof must be one that Lean checked: some document the checker sent (didOpen/didChange, as the
fake received it) holds exactly that declaration text followed by its `#print axioms` audit (of the
declaration, or of lean-copilot's statement check that stands for it), and the
script's rules judge that declaration proved (no error, no `sorry`, allowed axioms only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lean_copilot_py.lean.shadow import CHECK_NAME
from lean_copilot_py.testing.lean_judge import Judge
from lean_copilot_py.testing.lean_text import analyse, offset_of

ALLOWED = {"propext", "Classical.choice", "Quot.sound"}


class LeanLog:
    """Incremental reader of one fake-Lean log file (every fake process of a session appends to it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pos = 0
        self._docs: dict[str, str] = {}
        self.texts: list[str] = []  # every full document text the fake elaborated, in order

    def poll(self) -> None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._pos)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1  # a line being written is read next time
        self._pos += end
        for raw in data[:end].splitlines():
            if raw.strip():
                self._apply(json.loads(raw))

    def _apply(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params") or {}
        if method == "textDocument/didOpen":
            td = params["textDocument"]
            self._docs[td["uri"]] = td["text"]
        elif method == "textDocument/didChange":
            uri = params["textDocument"]["uri"]
            text = self._docs.get(uri, "")
            for change in params.get("contentChanges", []):
                if "range" in change:
                    s = offset_of(text, change["range"]["start"])
                    e = offset_of(text, change["range"]["end"])
                    text = text[:s] + change["text"] + text[e:]
                else:
                    text = change["text"]
            self._docs[uri] = text
        else:
            return
        self.texts.append(self._docs[params["textDocument"]["uri"]])

    def mark(self) -> int:
        self.poll()
        return len(self.texts)


def proved_in(text: str, decl_text: str, name: str, judge: Any) -> bool:
    """Does ``text`` hold ``decl_text`` as a declaration, audited, that the script judges proved?"""
    audited = False
    found = None
    audit_names = {name}
    for cmd in analyse(text):
        if cmd.decl is not None and cmd.decl.name == name and text[cmd.decl.start : cmd.decl.end] == decl_text:
            found = cmd.decl
        elif found is not None and cmd.decl is not None and cmd.decl.name == CHECK_NAME:
            if cmd.text.rstrip().endswith(f"@{name}"):
                audit_names.add(CHECK_NAME)  # the check constant stands for the declaration
        elif found is not None and cmd.audit_of in audit_names:
            audited = True
    if found is None or not audited:
        return False
    out = judge.judge(text, found)
    rule = out.rule
    if rule is not None and (rule.crash or rule.hang or rule.exit_server):
        return False
    return out.closed and not out.had_sorry and set(out.axioms or []) <= ALLOWED and out.axioms is not None


def lean_checked(log: LeanLog, since: int, decl_text: str, name: str, script_path: Path) -> bool:
    log.poll()
    judge = Judge(script_path)
    judge.current()
    return any(proved_in(t, decl_text, name, judge) for t in log.texts[since:] if decl_text in t)


def explain(log: LeanLog, since: int, decl_text: str, name: str, script_path: Path) -> str:
    """For a failure report: each checked document that holds the declaration's header, and its verdict."""
    judge = Judge(script_path)
    script = judge.current()
    header = decl_text.split(":=", 1)[0]
    log.poll()
    lines = [f"script rules: {[(r.pattern, r.decl) for r in script.rules]}"]
    for t in log.texts[since:]:
        if header not in t:
            continue
        for cmd in analyse(t):
            if cmd.decl is not None and cmd.decl.name == name:
                out = judge.judge(t, cmd.decl)
                lines.append(f"checked {t[cmd.decl.start:cmd.decl.end]!r}: closed={out.closed} sorry={out.had_sorry}"
                             f" axioms={out.axioms}")
    return "\n".join(lines[-12:])
