"""Prompt families: every rendering pinned byte for byte (set UPDATE_GOLDEN=1 to rewrite the files after
checking the difference by eye), plus parsing of well-formed and malformed outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lean_copilot_py.core.protocols import Problem, Turn
from lean_copilot_py.core.types import LeanMessage, Outcome, Pos, Severity, SorryGoal, Span, Verdict
from lean_copilot_py.models.families import build_family

GOLDEN = Path(__file__).parent / "golden"
PROBLEM = Problem(header="import Mathlib\nopen Real\n\n", statement="theorem foo (x : ℝ) (h : 0 < x) : 0 < x ^ 2 := by")
SKETCH = "theorem foo (x : ℝ) (h : 0 < x) : 0 < x ^ 2 := by\n  have hx : x ≠ 0 := by\n    linarith\n  sorry\n  simp"

ERRORS = Verdict(
    Outcome.FAILED,
    messages=(
        LeanMessage(Severity.ERROR, Span(Pos(2, 4), Pos(2, 12)), "linarith failed to find a contradiction\n"),
        LeanMessage(Severity.WARNING, Span(Pos(0, 8), Pos(0, 11)), "declaration uses 'sorry'"),
        LeanMessage(Severity.ERROR, Span(Pos(4, 2), Pos(4, 6)), "simp made no progress"),
    ),
    sorries=(SorryGoal(Span(Pos(3, 2), Pos(3, 7)), "x : ℝ\nh : 0 < x\nhx : x ≠ 0\n⊢ 0 < x ^ 2"),),
    snippet=SKETCH,
)
CLEAN = Verdict(Outcome.PROVED, snippet=SKETCH)
TIMEOUT = Verdict(Outcome.TIMEOUT, elapsed=60.0, snippet=SKETCH)
REFUSED = Verdict(Outcome.REFUSED, reason="`#eval` is not allowed in a proof", snippet=SKETCH)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8", newline="")
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"golden file {name} was missing and has been written: check it and rerun")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("family", ["stepfun", "deepseek", "kimina", "goedel"])
def test_initial_prompt_golden(family, tiny_tokenizer):
    check_golden(f"{family}_prompt.txt", build_family(family).initial_prompt(PROBLEM, tiny_tokenizer))


@pytest.mark.parametrize("family", ["stepfun", "kimina", "goedel"])
@pytest.mark.parametrize(("case", "verdict"), [("errors", ERRORS), ("clean", CLEAN), ("timeout", TIMEOUT),
                                                ("refused", REFUSED)])
def test_feedback_golden(family, case, verdict, tiny_tokenizer):
    fam = build_family(family)
    fam.initial_prompt(PROBLEM, tiny_tokenizer)
    check_golden(f"{family}_feedback_{case}.txt", fam.render_feedback(verdict, verdict.elapsed or 1.5, 1))


def test_stepfun_feedback_is_repl_json():
    text = build_family("stepfun").render_feedback(ERRORS, 1.0, 0)
    assert text.startswith("\n<REPL>\n") and text.endswith("\n</REPL>")
    obj = json.loads(text[len("\n<REPL>\n") : -len("\n</REPL>")])
    assert list(obj) == ["messages", "sorries"] and "env" not in obj
    first = obj["messages"][0]
    assert list(first) == ["data", "endPos", "pos", "severity"]
    assert first["pos"] == {"column": 4, "line": 3} and first["severity"] == "error"
    assert obj["sorries"][0]["goal"].endswith("⊢ 0 < x ^ 2")
    assert "ℝ" in text  # ensure_ascii=False


def test_stepfun_sampling(tiny_tokenizer):
    s = build_family("stepfun").sampling(tiny_tokenizer)
    assert (s.temperature, s.top_p, s.max_tokens) == (0.999, 0.95, 16384)
    assert s.stop_token_ids == (tiny_tokenizer.eos_token_ids[0], tiny_tokenizer.token_id("</sketch>"))
    assert s.stop == ()


def test_stepfun_sampling_falls_back_to_stop_string():
    from lean_copilot_py.testing.char_tokenizer import CharTokenizer

    class NoSketch:
        eos_token_ids = (7,)

        def token_id(self, token):
            return None

    s = build_family("stepfun").sampling(NoSketch())  # type: ignore[arg-type]
    assert s.stop == ("</sketch>",) and s.stop_token_ids == (7,)
    # ... while a vocabulary with the tag as one token stops on its id (the character tokenizer's is 4)
    s = build_family("stepfun").sampling(CharTokenizer())
    assert s.stop == () and s.stop_token_ids == (0, 4)


STEPFUN = build_family("stepfun")


@pytest.mark.parametrize(
    ("output", "finished", "expected"),
    [
        ("think\n<sketch>\nimport Mathlib\ntheorem a : True := by\n  trivial\n</sketch>", False,
         Turn("theorem a : True := by\n  trivial", None)),
        ("<sketch>old</sketch>\n<REPL>\n{}\n</REPL>\nagain <sketch>\nnew\n</sketch>", False, Turn("new", None)),
        ("<sketch>\nimport Mathlib\n\n</sketch>", False, Turn(None, None)),  # empty sketch
        ("</sketch>", False, Turn(None, None)),  # closing tag without an opening one
        ("<sketch>\nunfinished", False, Turn(None, None)),
        ("done\n```lean4\nimport Mathlib\ntheorem a : True := by\n  trivial\n```<|endoftext|>", True,
         Turn(None, "theorem a : True := by\n  trivial")),
        ("<think>\n```lean4\nwrong\n```\n</think>\n```lean\nright\n```\n<|im_end|>", True, Turn(None, "right")),
        ("no code at all<|endoftext|>", True, Turn(None, None)),
        ("```lean4\nunclosed block", True, Turn(None, None)),
        ("<sketch>x</sketch>\n<REPL>\n{}\n</REPL>\n```lean4\nfinal\n```", True, Turn(None, "final")),
    ],
)
def test_stepfun_parse(output, finished, expected):
    assert STEPFUN.parse(output, finished) == expected


@pytest.mark.parametrize("family", ["deepseek", "kimina", "goedel"])
def test_whole_proof_families_parse(family):
    fam = build_family(family)
    out = "plan...\n```lean4\nimport Mathlib\ntheorem a : True := by\n  trivial\n```<|im_end|>"
    assert fam.parse(out, True) == Turn(None, "theorem a : True := by\n  trivial")
    assert fam.parse(out, False) == Turn(None, None)
    assert fam.parse("plan without code", True) == Turn(None, None)
    assert fam.uses_feedback is (family != "deepseek")


def test_goedel_caps_errors_at_8_and_kimina_at_3():
    many = Verdict(
        Outcome.FAILED,
        messages=tuple(LeanMessage(Severity.ERROR, Span(Pos(i, 0), Pos(i, 1)), f"err{i}") for i in range(10)),
        snippet="\n".join(f"line{i}" for i in range(10)),
    )
    g = build_family("goedel").render_feedback(many, 1.0, 0)
    assert "Error 8:" in g and "Error 9:" not in g and "[Omitted 2 more errors]" in g
    k = build_family("kimina").render_feedback(many, 1.0, 0)
    assert "# Error 3:" in k and "# Error 4:" not in k


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown prompt family"):
        build_family("nope")
