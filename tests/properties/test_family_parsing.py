"""Sketch/answer extraction of every prompt family on untrusted model output (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.protocols import Turn
from lean_copilot_py.models.families import build_family

FAMILIES = ["stepfun", "deepseek", "kimina", "goedel"]
MARKUP = st.sampled_from(
    ["<sketch>", "</sketch>", "<REPL>", "</REPL>", "<think>", "</think>", "```lean4\n", "```lean\n", "```",
     "\n", "import Mathlib\n", "<|endoftext|>", "<|im_end|>", "<｜end▁of▁sentence｜>", "sorry", "😀", "\r\n"]
)  # fmt: skip
OUTPUT = st.lists(st.one_of(MARKUP, st.text(max_size=8)), max_size=25).map("".join)
# Lean code that holds none of the markup above and no import line: it must come back unchanged.
CODE = (
    st.lists(st.sampled_from(["theorem", " a", " :", " True", " :=", " by", "\n  ", "simp", "ℕ", "⟨x, y⟩", "𝔽",
                              "-- c", "/- b -/", "\"s\"", "\t"]), min_size=1, max_size=12)
    .map("".join)
    .filter(lambda c: c.strip() and not c.startswith("\n") and not c.endswith(("\n", " ", "\t", "\n  ")))
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FAMILIES), OUTPUT, st.booleans())
def test_parse_never_raises_and_returns_text_or_none(family: str, output: str, finished: bool) -> None:
    turn = build_family(family).parse(output, finished)
    assert isinstance(turn, Turn)
    for part in (turn.sketch, turn.final):
        assert part is None or (isinstance(part, str) and part.strip())
    if not finished:
        assert turn.final is None  # an unfinished stream never yields a final answer


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40).filter(lambda s: "<sketch>" not in s and "```" not in s), CODE)
def test_stepfun_sketch_is_extracted_verbatim(prose: str, code: str) -> None:
    turn = build_family("stepfun").parse(f"{prose}<sketch>\n{code}\n</sketch>", finished=False)
    assert turn.sketch == code


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(FAMILIES), st.text(max_size=40).filter(lambda s: "```" not in s), CODE, CODE)
def test_final_answer_is_the_last_block_after_thinking(family: str, prose: str, early: str, code: str) -> None:
    output = f"<think>\n```lean4\n{early}\n```\n{prose}</think>\n{prose}\n```lean4\n{code}\n```\n<|im_end|>"
    assert build_family(family).parse(output, finished=True).final == code
