"""The axiom audit (lean/audit.py): reading `#print axioms` answers in every spelling Lean uses, and judging the
axioms a proof depends on against what the settings allow."""

from __future__ import annotations

import pytest

from lean_copilot_py.lean.audit import AuditResult, allowed_axioms, judge_axioms, parse_axioms_answer
from lean_copilot_py.settings import LeanSettings


@pytest.mark.parametrize(
    ("text", "name", "axioms"),
    [
        (
            "'Foo.bar' depends on axioms: [propext, Classical.choice, Quot.sound]",
            "Foo.bar",
            ("propext", "Classical.choice", "Quot.sound"),
        ),
        ("`Foo.bar` depends on axioms: [sorryAx]", "Foo.bar", ("sorryAx",)),
        ("'x' does not depend on any axioms", "x", ()),
        ("`x` Does Not Depend On Any Axioms", "x", ()),
        ("'x' DEPENDS ON AXIOMS: [propext,\n  Quot.sound]", "x", ("propext", "Quot.sound")),
    ],
)
def test_parse_axioms_answer(text, name, axioms):
    answer = parse_axioms_answer(text)
    assert answer is not None
    assert answer.name == name and answer.axioms == axioms


def test_parse_axioms_answer_rejects_other_text():
    assert parse_axioms_answer("unknown constant 'x'") is None
    assert parse_axioms_answer("Try this: exact foo") is None


def test_judge_axioms():
    allowed = allowed_axioms(LeanSettings())
    assert judge_axioms(("propext", "Quot.sound"), allowed, tolerate_sorry=False).result is AuditResult.OK
    assert judge_axioms((), allowed, tolerate_sorry=False).result is AuditResult.OK
    assert judge_axioms(None, allowed, tolerate_sorry=False).result is AuditResult.MISSING
    assert judge_axioms(("sorryAx",), allowed, tolerate_sorry=False).result is AuditResult.SORRY
    assert judge_axioms(("sorryAx",), allowed, tolerate_sorry=True).result is AuditResult.OK
    bad = judge_axioms(("sorryAx", "evil"), allowed, tolerate_sorry=True)
    assert bad.result is AuditResult.DISALLOWED and "evil" in bad.reason
    assert judge_axioms(("Lean.ofReduceBool",), allowed, tolerate_sorry=False).result is AuditResult.DISALLOWED
    native = allowed_axioms(LeanSettings(allow_native_decide=True))
    assert judge_axioms(("Lean.ofReduceBool",), native, tolerate_sorry=False).result is AuditResult.OK
