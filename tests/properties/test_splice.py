"""Statement pinning + splice on hostile documents: whatever surrounds the target (CRLF, tabs, emoji,
comments, other sorries) and whatever the proof text is, the spliced document keeps every character
outside the replaced span, and pinning never lets a different statement through."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.pinning import pin
from lean_copilot_py.core.splice import spliced_document
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate, TargetKind, pos_to_offset

NOISE = st.lists(st.sampled_from([*"ab \tℕ→😀𝔽", "\r\n", "\n"]), max_size=30).map("".join)
PROOF = st.lists(st.sampled_from([*"abc xyz\n\t()⟨⟩ℕ∀😀:=", "\r\n", "by", "sorry"]), max_size=40).map("".join)
STATEMENT = "theorem t (n : Nat) : n + 0 = n"


def document(before: str, after: str, body: str) -> str:
    # Noise lives in comments so the document stays one the target finder can read.
    return f"/- {before} -/\n{STATEMENT} := by\n{body}\n\n-- {after.replace(chr(10), ' ').replace(chr(13), ' ')}\n"


@settings(max_examples=150, deadline=None)
@given(NOISE, NOISE, st.sampled_from(["  sorry", "  simp\n  sorry", "  constructor\n  · sorry\n  · sorry"]), PROOF)
def test_splice_keeps_everything_outside_the_span(before: str, after: str, body: str, proof: str) -> None:
    text = document(before, after, body)
    targets = find_targets(Path("/p/T.lean"), text)
    assert targets, text
    for t in targets:
        doc = spliced_document(t, Candidate(proof=proof or "rfl"))
        a = pos_to_offset(text, t.proof_span.start)
        b = pos_to_offset(text, t.proof_span.end)
        assert doc.startswith(text[:a]) and doc.endswith(text[b:]), (t.kind, text, doc)
        if t.kind is TargetKind.SORRY:
            assert text[a:b] == "sorry"


@settings(max_examples=150, deadline=None)
@given(NOISE, st.sampled_from(["n + 0 = n", "n = n", "True", "n + 0 = n ∧ True", "0 + n = n"]), PROOF)
def test_pinning_refuses_any_other_statement(noise: str, claim: str, proof: str) -> None:
    text = document(noise, "", "  sorry")
    (target,) = [t for t in find_targets(Path("/p/T.lean"), text) if t.kind is TargetKind.DECLARATION]
    res = pin(target, f"theorem t (n : Nat) : {claim} := by\n  {proof or 'rfl'}")
    if claim != "n + 0 = n":
        assert not res.ok, (claim, res)
