"""Transcripts (core/transcript.py) keep only an excerpt of a long prompt: its start and its end, with how much was
left out, so a search over a huge file writes a small transcript."""

from __future__ import annotations

import json
from pathlib import Path

from lean_copilot_py.core.attempt import AttemptResult, TurnRecord
from lean_copilot_py.core.events import SearchResult, SearchStatus
from lean_copilot_py.core.transcript import Transcript, excerpt, write_transcript
from tests.helpers import make_target


def test_excerpt_keeps_the_start_and_the_end() -> None:
    assert excerpt("short") == "short"
    text = "HEAD" + "x" * 100_000 + "theorem the_statement : True := by"
    cut = excerpt(text)
    assert len(cut) < 6100 and cut.startswith("HEAD") and cut.endswith("theorem the_statement : True := by")
    assert f"[{len(text) - 6000} characters left out of this transcript]" in cut


async def test_a_transcript_of_a_huge_prompt_stays_small(tmp_path: Path) -> None:
    prefix = "-- a long file\n" * 200_000  # 3 MB before the target, all of it in the prompt
    turn = TurnRecord(index=0, sent=prefix + "theorem t : True := by", output="<sketch>trivial</sketch>")
    tr = Transcript("s1", make_target(path=tmp_path / "Foo.lean"), attempts=[AttemptResult(1, turns=[turn])])
    path = await write_transcript(tmp_path, tr, SearchResult("s1", SearchStatus.FAILED, reason="no"))
    assert path is not None
    md, data = path.read_text(), json.loads(path.with_suffix(".json").read_text())
    assert path.stat().st_size < 20_000 and path.with_suffix(".json").stat().st_size < 20_000
    assert "theorem t : True := by" in md and "characters left out" in md
    sent = data["attempts"][0]["turns"][0]
    assert sent["sent_chars"] == len(turn.sent) and sent["sent"].endswith("theorem t : True := by")
