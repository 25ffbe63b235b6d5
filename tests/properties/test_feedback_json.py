"""Feedback rendering: whatever Lean says (unicode, control characters, quotes, braces), StepFun's
feedback is valid JSON between <REPL> tags and says exactly that; the other families never raise."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.types import LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Verdict
from lean_copilot_py.models.families import build_family

TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["\x00", "\x1b[31m", "\"}", "\\u0000", "</REPL>", "\u2028", "⊢ ∀ x : ℕ, x = x", "😀\r\n\t"])
POS = st.builds(Pos, st.integers(0, 50), st.integers(0, 80))
SPAN = st.builds(Span, POS, POS)
MESSAGE = st.builds(LeanMessage, st.sampled_from(list(Severity)), SPAN, TEXT, st.booleans())
VERDICT = st.builds(
    Verdict,
    st.sampled_from([o for o in Outcome if o is not Outcome.TIMEOUT]),
    messages=st.lists(MESSAGE, max_size=4).map(tuple),
    sorries=st.lists(st.builds(SorryGoal, SPAN, TEXT), max_size=2).map(tuple),
    reason=TEXT,
    snippet=TEXT,
)


def repl_body(feedback: str) -> str:
    assert feedback.startswith("\n<REPL>\n") and feedback.endswith("\n</REPL>")
    return feedback[len("\n<REPL>\n") : -len("\n</REPL>")]


@settings(max_examples=200, deadline=None)
@given(VERDICT, st.floats(0, 1000, allow_nan=False))
def test_stepfun_feedback_is_json_that_says_what_lean_said(verdict: Verdict, elapsed: float) -> None:
    data = json.loads(repl_body(build_family("stepfun").render_feedback(verdict, elapsed, 1)))
    assert isinstance(data, dict) and set(data) <= {"messages", "sorries"}
    said = [m["data"] for m in data.get("messages", [])]
    if verdict.messages:
        assert said == [m.text.strip() for m in verdict.messages]
    assert [s["goal"] for s in data.get("sorries", [])] == [s.goal for s in verdict.sorries]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["kimina", "goedel", "deepseek"]), VERDICT, st.integers(0, 10))
def test_other_families_render_any_verdict(family: str, verdict: Verdict, turn: int) -> None:
    assert isinstance(build_family(family).render_feedback(verdict, 1.0, turn), str)
