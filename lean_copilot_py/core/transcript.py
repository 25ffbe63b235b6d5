"""Every search leaves a transcript: markdown for the editor to open, JSON for tools. Written off the event
loop (a thread), never raising: a full disk must not turn a found proof into a failure.

A prompt holds the whole file before the target, so a transcript keeps a bounded excerpt of what was sent
(its start and its end, where the statement is); core/pruning.py keeps the folder itself bounded."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .attempt import AttemptResult, TurnRecord
from .automation import Tried
from .events import SearchResult
from .skeleton import Skeleton
from .types import LeanMessage, RepairContext, Target, Verdict

SENT_HEAD = 1500  # characters kept from the start of a long prompt / feedback ...
SENT_TAIL = 4500  # ... and from its end, where the statement being proved is


def excerpt(text: str, head: int = SENT_HEAD, tail: int = SENT_TAIL) -> str:
    """``text`` itself when short; else its start and end around a line saying how much was left out."""
    if len(text) <= head + tail + 200:  # not worth a marker
        return text
    omitted = len(text) - head - tail
    return f"{text[:head]}\n… [{omitted} characters left out of this transcript] …\n{text[-tail:]}"


@dataclass
class Transcript:
    search_id: str
    target: Target
    started: float = field(default_factory=time.time)
    automation: list[Tried] = field(default_factory=list)
    attempts: list[AttemptResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skeleton: Skeleton | None = None  # the best verified skeleton, when the search ended without a proof


def _verdict_json(v: Verdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "outcome": v.outcome.value,
        "reason": v.reason,
        "elapsed": round(v.elapsed, 3),
        "goals": list(v.goals),
        "axioms": list(v.axioms) if v.axioms is not None else None,
        "messages": [
            {"severity": m.severity.name.lower(), "line": m.span.start.line, "col": m.span.start.col, "text": m.text}
            for m in v.messages
        ],
    }


def _repair_json(r: RepairContext | None) -> dict[str, Any] | None:
    """A repair's starting point: the user's proof, Lean's messages about it in the file, the search's check."""
    if r is None:
        return None
    messages = [{"severity": m.severity.name.lower(), "line": m.span.start.line, "col": m.span.start.col,
                 "text": m.text} for m in r.messages]
    return {"original": r.original, "messages": messages, "checked": _verdict_json(r.verdict)}


def _skeleton_json(s: Skeleton | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"proof": s.candidate.proof, "helpers": s.candidate.helpers, "origin": s.candidate.origin,
            "sorries": s.sorries, "goals": list(s.goals), "summary": s.summary(), "verdict": _verdict_json(s.verdict)}


def _turn_json(t: TurnRecord) -> dict[str, Any]:
    return {
        "turn": t.index, "sent": excerpt(t.sent), "sent_chars": len(t.sent), "output": t.output,
        "sketch": t.sketch, "final": t.final,
        "verdict": _verdict_json(t.verdict), "feedback": t.feedback, "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens, "finish_reason": t.finish_reason,
        "model_seconds": round(t.model_seconds, 3), "lean_seconds": round(t.lean_seconds, 3), "note": t.note,
    }


def to_json(tr: Transcript, result: SearchResult) -> dict[str, Any]:
    t = tr.target
    return {
        "search_id": tr.search_id,
        "started": tr.started,
        "target": {"path": str(t.path), "kind": t.kind.value, "decl": t.full_name, "statement": t.statement,
                   "goal": t.goal, "line": t.proof_span.start.line + 1},
        "repair": _repair_json(t.repair),
        "skeleton": _skeleton_json(tr.skeleton),
        "status": result.status.value,
        "reason": result.reason,
        "from_cache": result.from_cache,
        "model_used": result.model_used,
        "proof": None if result.proof is None else {"proof": result.proof.proof, "helpers": result.proof.helpers,
                                                     "origin": result.proof.origin},
        "verdict": _verdict_json(result.verdict),
        "stats": vars(result.stats),
        "notes": tr.notes,
        "automation": [{"tactic": a.tactic, "verdict": _verdict_json(a.verdict),
                        "checked": a.candidate.proof if a.candidate else None} for a in tr.automation],
        "attempts": [{"attempt": a.attempt, "reason": a.reason, "proved": a.proof is not None,
                      "turns": [_turn_json(x) for x in a.turns]} for a in tr.attempts],
    }


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}\n"


def _verdict_md(v: Verdict | None) -> str:
    if v is None:
        return "_not checked_\n"
    head = f"**{v.outcome.value}** ({v.elapsed:.2f}s){' — ' + v.reason if v.reason else ''}\n"
    return head + _messages_md(v.messages)


def _messages_md(messages: tuple[LeanMessage, ...]) -> str:
    return "".join(f"- {m.severity.name.lower()} at {m.span.start.line + 1}:{m.span.start.col}: "
                   f"{m.text.splitlines()[0] if m.text else ''}\n" for m in messages[:12])


def _stats_line(result: SearchResult) -> str:
    items = vars(result.stats).items()
    return ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in items)


def to_markdown(tr: Transcript, result: SearchResult) -> str:
    t = tr.target
    out = [f"# Proof search `{tr.search_id}`: {t.full_name or t.decl_name}\n\n",
           f"- file: `{t.path}` line {t.proof_span.start.line + 1} ({t.kind.value})\n",
           f"- status: **{result.status.value}**{' (from cache)' if result.from_cache else ''}\n",
           f"- reason: {result.reason}\n", f"- model used: {result.model_used}\n",
           f"- stats: {_stats_line(result)}\n\n",
           "## Statement\n\n", _fence(t.statement, "lean")]
    if t.goal:
        out += ["\n## Goal\n\n", _fence(t.goal, "lean")]
    if t.repair is not None:
        out += ["\n## Repair: the proof in the file\n\n", _fence(t.repair.original.strip("\n"), "lean"),
                "\nLean's messages about it (lines counted from the declaration's first line):\n\n",
                _messages_md(t.repair.messages) or "_none_\n"]
        if t.repair.verdict is not None:
            out += ["\nChecked by this search under the pinned statement: ", _verdict_md(t.repair.verdict)]
    if result.proof is not None:
        out += [f"\n## Verified proof ({result.proof.origin})\n\n",
                _fence((result.proof.helpers + "\n\n" if result.proof.helpers else "") + result.proof.proof, "lean")]
    if tr.skeleton is not None:
        sk = tr.skeleton.candidate
        out += [f"\n## Verified skeleton ({sk.origin}): {tr.skeleton.summary()}\n\n",
                _fence((sk.helpers + "\n\n" if sk.helpers else "") + sk.proof, "lean")]
    for note in tr.notes:
        out.append(f"\n> {note}\n")
    if tr.automation:
        out.append("\n## Automation\n\n")
        for a in tr.automation:
            why = f" — {a.verdict.reason}" if a.verdict.reason else ""
            out.append(f"- `{a.tactic}`: {a.verdict.outcome.value}{why}\n")
    for a in tr.attempts:
        out.append(f"\n## Attempt {a.attempt}: {a.reason or 'unfinished'}\n")
        for turn in a.turns:
            out.append(f"\n### Turn {turn.index} ({turn.prompt_tokens} prompt + {turn.completion_tokens} "
                       f"completion tokens, model {turn.model_seconds:.2f}s, Lean {turn.lean_seconds:.2f}s"
                       f"{', ' + turn.finish_reason if turn.finish_reason else ''})\n\n")
            label = "Prompt" if turn.index == 0 else "Feedback sent"
            out += [f"<details><summary>{label}</summary>\n\n", _fence(excerpt(turn.sent)), "\n</details>\n\n",
                    "**Output**\n\n", _fence(turn.output)]
            if turn.sketch is not None:
                out += ["\n**Sketch**\n\n", _fence(turn.sketch, "lean")]
            if turn.final is not None:
                out += ["\n**Final code**\n\n", _fence(turn.final, "lean")]
            out += ["\n**Verdict**: ", _verdict_md(turn.verdict)]
            if turn.note:
                out.append(f"\n_{turn.note}_\n")
    return "".join(out)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "target"


def _write(directory: Path, stem: str, md: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    md_path = directory / f"{stem}.md"
    md_path.write_text(md, encoding="utf-8")
    (directory / f"{stem}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str),
                                            encoding="utf-8")
    return md_path


async def write_transcript(directory: Path, tr: Transcript, result: SearchResult) -> Path | None:
    """Write ``<dir>/<time>-<decl>-<id>.md`` and ``.json``; return the markdown path (None if it failed)."""
    stem = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(tr.started))}-{_slug(tr.target.full_name)}-{tr.search_id}"
    try:
        md, data = to_markdown(tr, result), to_json(tr, result)
        return await asyncio.to_thread(_write, directory, stem, md, data)
    except (OSError, ValueError, TypeError):
        return None
