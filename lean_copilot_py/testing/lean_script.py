"""The script that tells the fake Lean server (fake_lean.py) what to answer.

A script is one JSON file; tests build it with the dataclasses below and ``write_script()``, then hand
``fake_lean_command(path)`` to the checker as ``LeanSettings.server_command``. The fake re-reads the file
whenever its mtime changes, so a test may rewrite it mid-run (chaos tests do).

How the fake decides what a declaration elaborates to (each `theorem`/`lemma`/`def`/`example`/... command
of every document, prefix declarations included):

1. ``rules`` in order; the first rule whose ``decl`` (if set) equals the declaration's name or full name
   and whose ``pattern`` (if set; a Python regex, ``re.search`` on the body after ``:=``) matches wins.
   A rule with ``max_hits`` stops matching after that many uses (counted per fake process).
2. No rule matched and the body holds ``exact?``/``apply?``: ``try_this[tactic]`` is a string -> info
   ``Try this: <text>`` at the tactic and the goal is closed; ``null`` -> the usual "could not close" error.
3. No rule matched and the body holds ``sorry``: warning ``declaration uses 'sorry'`` at the name.
4. Otherwise ``default`` applies to the kinds in ``default_kinds`` (theorem/lemma/example); any other
   declaration (a `def` in the user's prefix, ...) elaborates cleanly.
Before all of these, a declaration whose whole proof is an earlier declaration of the document (`:= @foo`,
the checker's statement check) elaborates like that one: no message, its axioms (unless a rule names it).
Commands before the first change of a new version are not judged again: Lean reuses them (while the
script file is unchanged).

What a rule does (all fields optional; an empty rule means "elaborates cleanly, proved"):
- ``diagnostics``: list of ``Diag`` placed at an anchor: ``match`` (the regex match; falls back to
  ``name`` when the rule has no pattern), ``name`` (declaration name), ``keyword``, ``by`` (the `by`
  token, else the body start), ``body``, ``decl`` (the whole command); ``code`` as Lean would send it
  (``"lean.unknownIdentifier"`` for unknown identifiers).
- ``unsolved``: add Lean's ``unsolved goals`` error (leanTag 1) at ``by`` listing ``goals``.
- ``goals``: goals left (for ``unsolved`` and for ``$/lean/plainGoal`` inside the body);
  default: the declaration's goal (``goals`` section below, else derived from its binders and type).
- ``axioms``: what ``#print axioms`` prints for it; default ``[]``, or ``["sorryAx"]`` when the
  declaration had an error or a `sorry`. ``no_audit``: ``#print axioms`` for it answers nothing at all.
- ``delay_s``: extra elaboration latency; ``hang``: this version never finishes (a newer didChange or
  didClose ends it); ``crash``: the worker crashes, as Lean's does (pending requests get -32902, a
  fatal ``$/lean/fileProgress``, no diagnostic; later requests wait unanswered until a didChange starts a
  new worker); ``exit_server``: the whole server process exits. SIGUSR1 to the fake kills every worker
  at once, busy or idle (an idle one shows only the fatal progress).
- ``stderr``: a line the fake writes to stderr when the rule fires.
A `sorry` in a body whose rule logged no error still adds the `sorry` warning, as Lean does.

Top level: ``delay_s`` (base latency per declaration), ``header_delay_s`` (import elaboration, paid
once per worker: on didOpen, after a crash, or when the import header changes), ``goals`` (declaration
name or full name -> pretty-printed goal), ``incremental`` (false: behave like Lean < 4.32 and always
send full replacement lists even when the client declared ``incrementalDiagnosticSupport``),
``audit_quote`` (``'`` or ``` ` ```, how `#print axioms` quotes the name; Lean 4.35 uses ``'``), ``try_this``.
``#print axioms`` lists a rule's ``axioms`` in Lean's order and wraps a list longer than a line.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

FAKE_LEAN = Path(__file__).with_name("fake_lean.py")


@dataclass
class Diag:
    message: str
    severity: int | str = "error"  # 1-4 or "error" / "warning" / "info" / "hint"
    lean_tags: list[int] = field(default_factory=list)
    at: str = "match"  # match | name | keyword | by | body | decl
    length: int | None = None  # characters from the anchor's start; default: the whole anchor
    code: str | None = None  # Lean's diagnostic code, e.g. "lean.unknownIdentifier"


@dataclass
class Rule:
    pattern: str | None = None
    decl: str | None = None
    diagnostics: list[Diag] = field(default_factory=list)
    unsolved: bool = False
    goals: list[str] | None = None
    axioms: list[str] | None = None
    no_audit: bool = False
    delay_s: float = 0.0
    hang: bool = False
    crash: bool = False
    exit_server: bool = False
    max_hits: int | None = None
    stderr: str | None = None


@dataclass
class Script:
    rules: list[Rule] = field(default_factory=list)
    default: Rule = field(default_factory=lambda: Rule(unsolved=True))
    default_kinds: list[str] = field(default_factory=lambda: ["theorem", "lemma", "example"])
    goals: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    header_delay_s: float = 0.0
    incremental: bool = True
    audit_quote: str = "'"
    try_this: dict[str, str | None] = field(default_factory=lambda: {"exact?": None, "apply?": None})


def proved(pattern: str | None = None, **kw: Any) -> Rule:
    """A rule under which matching declarations elaborate cleanly."""
    return Rule(pattern=pattern, **kw)


def error(pattern: str | None, message: str, **kw: Any) -> Rule:
    """A rule logging one error at the match."""
    return Rule(pattern=pattern, diagnostics=[Diag(message)], **kw)


def unsolved(pattern: str | None = None, goals: list[str] | None = None, **kw: Any) -> Rule:
    return Rule(pattern=pattern, unsolved=True, goals=goals, **kw)


def script_to_json(script: Script) -> dict[str, Any]:
    return asdict(script)


def _rule_from(data: dict[str, Any]) -> Rule:
    known = {f.name for f in fields(Rule)}
    kw = {k: v for k, v in data.items() if k in known}
    kw["diagnostics"] = [Diag(**d) for d in data.get("diagnostics", [])]
    return Rule(**kw)


def script_from_json(data: dict[str, Any]) -> Script:
    known = {f.name for f in fields(Script)}
    kw = {k: v for k, v in data.items() if k in known}
    kw["rules"] = [_rule_from(r) for r in data.get("rules", [])]
    if "default" in data:
        kw["default"] = _rule_from(data["default"])
    return Script(**kw)


def write_script(path: Path, script: Script) -> Path:
    """Write atomically (a reader never sees half a file) and bump the mtime so the fake reloads."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(script_to_json(script), indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    st = path.stat()
    # Two writes within the filesystem's mtime granularity would look unchanged to the fake.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    return path


def load_script(path: Path) -> Script:
    return script_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def fake_lean_command(script_path: Path, log_path: Path | None = None) -> list[str]:
    """The server command for the checker. ``log_path``: the fake appends one JSON line per message it
    receives from the client ({"method", "id", "params"}) and per response it gets to its own requests."""
    cmd = [sys.executable, str(FAKE_LEAN), "--script", str(script_path)]
    if log_path is not None:
        cmd += ["--log", str(log_path)]
    return cmd


def read_log(log_path: Path) -> list[dict[str, Any]]:
    try:
        lines = Path(log_path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(ln) for ln in lines if ln.strip()]
