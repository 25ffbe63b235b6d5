"""A double of leanprover-community/repl whose answers come from the real prelude `lean` (tests/real_lean.py).

The Kimina Lean Server starts it as `lake env <this>` in its project directory (tests/kimina_server.py
writes the `lake` shim and the wrapper script), so it speaks the REPL's stdin/stdout protocol
(REPL/Main.lean, REPL/JSON.lean):

- a request is JSON text up to a blank line; lines starting with `#` or `--` are skipped; EOF ends it;
- ``{"cmd": text}`` elaborates ``text`` as a new file (its header may `import`); ``{"cmd": text, "env": n}``
  elaborates ``text`` as commands after environment ``n``; an unknown ``n`` answers
  ``{"message": "Unknown environment."}``; other fields (``gc``, ``infotree``) are ignored, as Lean's
  derived FromJson ignores them;
- the answer is ``{"env", "messages"?, "sorries"?}`` (empty lists left out) then a blank line; a message is
  ``{"pos": {"line" 1-based, "column" 0-based}, "endPos"?, "severity": info|warning|error, "data"}``; a sorry is
  ``{"goal", "proofState", "pos", "endPos"}``.

How it is computed, per command, with the real `lean --json FILE` (LEAN_PATH as `lake env` set it):
- environment ``n`` is the text of the commands that built it; a command after ``n`` is elaborated as that text,
  then an empty module doc `/-! -/`, then the command, and only the messages inside the command are kept, with
  lines counted from the command's first line (the REPL parses each command with a fresh input context, so
  positions are command-relative). The module doc is a command: it ends the import header, so an `import` in
  the command fails as it does in the REPL, which parses commands only ("invalid 'import' command, it must
  be used in the beginning of the file");
- `sorry` goals: Lean's `lean --json` reports no goals, so the command is elaborated once more with every
  `sorry` of the command replaced by the synthetic hole `?_` (padded to the same width): Lean's
  "don't know how to synthesize placeholder" error at that position carries the hole's context and goal,
  which is what the REPL prints for a term-mode sorry (``hyps\\n⊢ goal``).

Where it differs from the real REPL: no tactic mode (prelude Lean has none), no proof states to run tactics
in (``proofState`` is only a counter), no pickling or infotrees; a request it cannot serve gets an
``{"message": …}`` answer that says so.

Usage: ``fake_repl.py --lean PATH [--log FILE]``; ``--log`` appends every request as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SORRY = re.compile(r"(?<![\w.'?!])sorry(?![\w'?!])")
_HOLE = "?_   "  # as wide as `sorry`, so no other position moves
_PLACEHOLDER = "don't know how to synthesize placeholder"
_SEVERITY = {"information": "info", "warning": "warning", "error": "error"}


def blank_comments(text: str) -> str:
    """``text`` with comments and string literals replaced by spaces (newlines kept), so `sorry` inside them
    is not taken for a term."""
    out = list(text)
    i, n, depth = 0, len(text), 0
    while i < n:
        if depth:
            if text.startswith("/-", i):
                depth += 1
                out[i] = out[i + 1] = " "
                i += 2
            elif text.startswith("-/", i):
                depth -= 1
                out[i] = out[i + 1] = " "
                i += 2
            else:
                out[i] = out[i] if text[i] == "\n" else " "
                i += 1
        elif text.startswith("/-", i):
            depth = 1
            out[i] = out[i + 1] = " "
            i += 2
        elif text.startswith("--", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            for k in range(i, min(j + 1, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


@dataclass
class Repl:
    lean: str
    envs: list[str] = field(default_factory=list)  # env n -> the text that built it
    proof_states: int = 0
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fake-repl-")))

    def run_lean(self, text: str) -> list[dict[str, Any]]:
        path = self.workdir / "Command.lean"
        path.write_text(text, encoding="utf-8")
        done = subprocess.run([self.lean, "--json", str(path)], capture_output=True, text=True, check=False)
        messages = []
        for line in done.stdout.splitlines():
            try:
                m = json.loads(line)
            except json.JSONDecodeError:
                continue  # Lean prints only JSON with --json; anything else is not a message
            if isinstance(m, dict) and "pos" in m:
                messages.append(m)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"lean exited with {done.returncode}: {done.stderr.strip()[-500:]}")
        return messages

    def command(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = req.get("cmd")
        if not isinstance(cmd, str):
            return {"message": "fake REPL: only {\"cmd\": …} requests are served (no tactics, pickles or files)"}
        env = req.get("env")
        if env is None:
            base = ""
        elif isinstance(env, int) and 0 <= env < len(self.envs):
            base = self.envs[env] + "\n/-! -/\n"
        else:
            return {"message": "Unknown environment."}
        shift = base.count("\n")
        text = base + cmd
        messages = [self._message(m, shift) for m in self.run_lean(text) if m["pos"]["line"] > shift]
        sorries = self._sorries(base, cmd, shift)
        self.envs.append(text)
        out: dict[str, Any] = {"env": len(self.envs) - 1}
        if messages:
            out["messages"] = messages
        if sorries:
            out["sorries"] = sorries
        return out

    @staticmethod
    def _message(m: dict[str, Any], shift: int) -> dict[str, Any]:
        out: dict[str, Any] = {"pos": {"line": m["pos"]["line"] - shift, "column": m["pos"]["column"]}}
        end = m.get("endPos")
        if isinstance(end, dict):
            out["endPos"] = {"line": end["line"] - shift, "column": end["column"]}
        out["severity"] = _SEVERITY.get(str(m.get("severity")), "error")
        out["data"] = str(m.get("data", "")).strip()
        return out

    def _sorries(self, base: str, cmd: str, shift: int) -> list[dict[str, Any]]:
        found = list(_SORRY.finditer(blank_comments(cmd)))
        if not found:
            return []
        holed = list(cmd)
        for m in found:
            holed[m.start() : m.end()] = _HOLE
        goals: dict[tuple[int, int], str] = {}
        for m in self.run_lean(base + "".join(holed)):
            data = str(m.get("data", ""))
            if m.get("severity") == "error" and data.startswith(_PLACEHOLDER):
                goal = data.split("context:\n", 1)[1] if "context:\n" in data else data
                goals[(m["pos"]["line"] - shift, m["pos"]["column"])] = goal.strip()
        out = []
        for m in found:
            line = cmd.count("\n", 0, m.start()) + 1
            col = m.start() - (cmd.rfind("\n", 0, m.start()) + 1)
            goal = goals.get((line, col))
            if goal is None:
                continue  # Lean never reached this sorry (its declaration failed to parse)
            out.append({"goal": goal, "proofState": self.proof_states, "pos": {"line": line, "column": col},
                        "endPos": {"line": line, "column": col + len("sorry")}})
            self.proof_states += 1
        return out


def read_request(stdin: Any) -> str | None:
    """REPL/Main.lean's getLines: lines (right-trimmed) up to a blank one; None at EOF."""
    parts: list[str] = []
    while True:
        line = stdin.readline()
        if line == "":
            return "".join(parts) if parts else None
        if not line.strip():
            if parts:
                return "".join(parts)
            return ""
        parts.append(line.rstrip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--lean", required=True)
    ap.add_argument("--log")
    args = ap.parse_args(argv)
    repl = Repl(args.lean)
    while True:
        query = read_request(sys.stdin)
        if query is None or query == "":
            return 0
        if query.startswith(("#", "--")):
            continue
        if args.log:
            with open(args.log, "a", encoding="utf-8") as log:
                log.write(json.dumps({"pid": os.getpid(), "request": query}, ensure_ascii=False) + "\n")
        try:
            req = json.loads(query)
        except json.JSONDecodeError as exc:
            # The real REPL throws here and exits: the caller sees EOF.
            print(json.dumps({"message": f"Could not parse JSON:\n{exc}"}), file=sys.stderr)
            return 1
        answer = repl.command(req) if isinstance(req, dict) else {"message": "Could not parse as a valid JSON command"}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False, indent=1) + "\n\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
