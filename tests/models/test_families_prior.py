"""The prior turn of a repair (Problem.prior) in each family's own format, pinned byte for byte like the other
renderings (tests/models/golden/*_prior_*.txt; UPDATE_GOLDEN=1 rewrites them), plus what must hold whatever the
wording: StepFun's prompt is the plain prompt followed by the failing code as a sketch and the family's own REPL
feedback about it; the chat families' prompts extend the plain prompt (prefix-cache hits)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lean_copilot_py.core.protocols import PriorTurn, Problem
from lean_copilot_py.core.types import LeanMessage, Outcome, Pos, Severity, Span, Verdict
from lean_copilot_py.models.families import build_family
from lean_copilot_py.models.families.stepfun import REPAIR_LEAD_IN

from .test_families import check_golden

CODE = "theorem foo (n : N) : Eq (N.add n N.z) n := by\n  exact bar n\n  rfl"
PLAIN = Problem(header="import Mathlib\nopen Real\n\n", statement="theorem foo (n : N) : Eq (N.add n N.z) n := by")
FAILED = Verdict(
    Outcome.FAILED,
    messages=(  # in position order, as the checker sorts them
        LeanMessage(Severity.WARNING, Span(Pos(0, 8), Pos(0, 11)), "unused variable `n`"),
        LeanMessage(Severity.ERROR, Span(Pos(1, 8), Pos(1, 11)), "Unknown identifier `bar`"),
        LeanMessage(Severity.ERROR, Span(Pos(2, 2), Pos(2, 5)), "no goals to be proved"),
    ),
    reason="line 2: Unknown identifier `bar`",
    snippet=CODE,
)
PRIOR = PriorTurn(CODE, FAILED, 0.4)
TIMED_OUT = PriorTurn(CODE, Verdict(Outcome.TIMEOUT, reason="Lean did not finish within 60 s", snippet=CODE), 60.0)
FAMILIES = ["stepfun", "kimina", "goedel", "deepseek"]


def with_prior(prior: PriorTurn = PRIOR) -> Problem:
    return replace(PLAIN, prior=prior)


@pytest.mark.parametrize("family", FAMILIES)
def test_prior_prompt_golden(family, tiny_tokenizer):
    check_golden(f"{family}_prior_prompt.txt", build_family(family).initial_prompt(with_prior(), tiny_tokenizer))


@pytest.mark.parametrize("family", FAMILIES)
def test_prior_timeout_golden(family, tiny_tokenizer):
    text = build_family(family).initial_prompt(with_prior(TIMED_OUT), tiny_tokenizer)
    check_golden(f"{family}_prior_timeout.txt", text)
    assert "60 seconds" in text


def test_stepfun_prior_is_the_plain_prompt_plus_the_sketch_and_its_feedback(tiny_tokenizer):
    fam = build_family("stepfun")
    plain = fam.initial_prompt(PLAIN, tiny_tokenizer)
    feedback = fam.render_feedback(FAILED, 0.4, 0)
    # The tiny template opens the assistant turn without thinking: the prior opens it, as the model would.
    expected = plain + "<think>\n" + REPAIR_LEAD_IN + f"<sketch>\n{CODE}\n</sketch>" + feedback
    assert fam.initial_prompt(with_prior(), tiny_tokenizer) == expected
    assert expected.endswith("\n</REPL>")  # generation continues right after Lean's answer, as after any sketch
    # The REPL JSON points at the failing text of the code shown in the sketch.
    body = json.loads(feedback[len("\n<REPL>\n") : -len("\n</REPL>")])
    first = body["messages"][1]
    line = CODE.split("\n")[first["pos"]["line"] - 1]
    assert line[first["pos"]["column"] : first["endPos"]["column"]] == "bar"
    assert [m["severity"] for m in body["messages"]] == ["warning", "error", "error"]


class ThinkingTemplate:
    """The tiny tokenizer under a template whose generation prompt opens the thinking itself (as newer
    DeepSeek-R1-style templates do)."""

    def __init__(self, inner, opener: str) -> None:
        self.inner, self.opener = inner, opener
        self.eos_token_ids = inner.eos_token_ids
        self.exact_ids = inner.exact_ids

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def chat_prompt(self, messages):
        return self.inner.chat_prompt(messages) + self.opener


@pytest.mark.parametrize(("opener", "added"), [("<think>\n", ""), ("<think>", "\n")])
def test_stepfun_prior_opens_the_thinking_only_once(tiny_tokenizer, opener, added):
    tok = ThinkingTemplate(tiny_tokenizer, opener)
    fam = build_family("stepfun")
    plain = fam.initial_prompt(PLAIN, tok)
    assert plain.endswith(opener)
    text = fam.initial_prompt(with_prior(), tok)
    assert text == plain + added + REPAIR_LEAD_IN + f"<sketch>\n{CODE}\n</sketch>" + fam.render_feedback(FAILED, 0.4, 0)
    assert text.count("<think>") == 1


@pytest.mark.parametrize("family", ["stepfun", "kimina", "goedel"])
def test_the_prior_extends_the_plain_prompt_token_for_token(family, tiny_tokenizer):
    fam = build_family(family)
    plain = fam.initial_prompt(PLAIN, tiny_tokenizer)
    text = fam.initial_prompt(with_prior(), tiny_tokenizer)
    assert text.startswith(plain) and len(text) > len(plain)
    ids, plain_ids = tiny_tokenizer.encode(text), tiny_tokenizer.encode(plain)
    assert ids[: len(plain_ids)] == plain_ids  # the plain prompt's cached blocks serve a repair too


@pytest.mark.parametrize("family", ["kimina", "goedel"])
def test_chat_families_show_the_code_as_their_answer_and_the_feedback_as_the_next_user_turn(family, tiny_tokenizer):
    fam = build_family(family)
    messages_seen: list[list[dict[str, str]]] = []

    class Recording(ThinkingTemplate):
        def chat_prompt(self, messages):
            messages_seen.append(list(messages))
            return self.inner.chat_prompt(messages)

    text = fam.initial_prompt(with_prior(), Recording(tiny_tokenizer, ""))
    *_, assistant, user = messages_seen[-1]
    assert assistant == {"role": "assistant", "content": f"```lean4\n{CODE}\n```"}
    assert user["role"] == "user" and text.endswith("<|im_start|>assistant\n")
    if family == "kimina":
        assert user["content"].startswith("# Error 1:\nError message: \nUnknown identifier `bar`")
        assert "002 >|   exact bar n" in user["content"] and "# Error 3" not in user["content"]  # errors only
    else:
        assert user["content"].startswith("The proof (Round 0) is not correct.")
        assert "  exact <error>bar</error> n" in user["content"]


def test_deepseek_puts_the_failing_proof_and_lean_errors_in_its_one_prompt(tiny_tokenizer):
    fam = build_family("deepseek")
    plain = fam.user_prompt(PLAIN)
    text = fam.user_prompt(with_prior())
    code_block, plan = plain.split("```\n\n")  # the prior goes between the code to complete and the plan
    assert text.startswith(code_block + "```\n\n") and text.endswith(plan) and len(text) > len(plain)
    assert f"```lean4\n{CODE}\n```" in text
    assert "Line 2, column 8: Unknown identifier `bar`" in text and "Line 3, column 2: no goals to be proved" in text
    assert "unused variable" not in text  # errors only
    refused = PriorTurn(CODE, Verdict(Outcome.REFUSED, reason="refused: `#eval` is a command", snippet=CODE))
    assert "refused: `#eval` is a command" in fam.user_prompt(with_prior(refused))


def test_a_prior_from_a_real_scan_renders_where_lean_said(tiny_tokenizer):
    from lean_copilot_py.core.repair import prior_turn, scan_for_repairs
    from lean_copilot_py.core.search import problem_for
    from lean_copilot_py.core.types import offset_to_pos

    text = "import Mathlib\n\n" + CODE + "\n"
    start = text.index("bar")
    err = LeanMessage(Severity.ERROR, Span(offset_to_pos(text, start), offset_to_pos(text, start + 3)),
                      "Unknown identifier `bar`")
    (target,) = scan_for_repairs(Path("/p/Foo.lean"), text, [err]).targets
    problem = replace(problem_for(target), prior=prior_turn(target))
    assert problem.prior is not None and problem.prior.code == CODE
    prompt = build_family("stepfun").initial_prompt(problem, tiny_tokenizer)
    assert f"<sketch>\n{CODE}\n</sketch>\n<REPL>\n" in prompt
    body = json.loads(prompt.rsplit("\n<REPL>\n", 1)[1][: -len("\n</REPL>")])
    assert body["messages"][0]["pos"] == {"column": 8, "line": 2}
