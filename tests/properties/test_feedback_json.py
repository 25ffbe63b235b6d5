"""Feedback rendering: whatever Lean says (unicode, control characters, quotes, braces), StepFun's
feedback is valid JSON between <REPL> tags and says exactly that; Kimina's and Goedel's feedback carries each of
Lean's errors in the family's own layout; DeepSeek (whole proofs) gives none."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.types import LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Verdict
from lean_copilot_py.models.families import build_family, goedel, kimina

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


# Where each feedback family puts Lean's i-th error (1-based) and its text, and how many errors it shows at most.
ERROR_BLOCKS = {
    "goedel": ("\nError {i}:\n", "\nError Message: {text}\n", goedel.MAX_ERRORS),
    "kimina": ("# Error {i}:\n", "Error message: \n{text}\n", kimina.MAX_ERRORS),
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(ERROR_BLOCKS)), VERDICT, st.integers(0, 10))
def test_other_families_render_any_verdict(family: str, verdict: Verdict, turn: int) -> None:
    """Kimina's and Goedel's feedback tells the model each of Lean's errors (up to the family's limit), in order,
    in the family's own layout; with no error at all, why the proof was not accepted."""
    text = build_family(family).render_feedback(verdict, 1.0, turn)
    header, body, limit = ERROR_BLOCKS[family]
    errors = [m for m in verdict.messages if m.severity is Severity.ERROR]
    at = 0
    for i, err in enumerate(errors[:limit], 1):
        at = text.index(header.format(i=i), at)
        at = text.index(body.format(text=err.text.strip()), at)
    if not errors:
        default = {"goedel": "The proof was not accepted.", "kimina": "the proof was not accepted"}[family]
        assert (verdict.reason or default).strip() in text
    if family == "goedel":
        assert text.startswith(f"The proof (Round {turn}) is not correct.")
        if len(errors) > limit:
            assert f"[Omitted {len(errors) - limit} more errors]" in text


@settings(max_examples=50, deadline=None)
@given(VERDICT, st.integers(0, 10))
def test_a_whole_proof_family_gives_no_feedback(verdict: Verdict, turn: int) -> None:
    family = build_family("deepseek")
    assert not family.uses_feedback and family.render_feedback(verdict, 1.0, turn) == ""
