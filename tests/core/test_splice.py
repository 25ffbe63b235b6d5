"""Splicing a candidate into the user's text (core/splice.py): every byte outside the replaced span stays, whatever
the proof text. The hostile-document version (CRLF, tabs, emoji, comments) is tests/properties/test_splice.py."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.splice import spliced_document
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate, TargetKind, pos_to_offset
from tests.core.test_pinning import SRC

# One target of each shape (test_pinning.py's text): a whole proof that is `sorry`, a sorry in tactic position, a
# sorry in a term.
TARGETS = find_targets(Path("T.lean"), SRC)


def test_the_document_has_one_target_of_each_shape() -> None:
    assert [t.kind for t in TARGETS] == [TargetKind.DECLARATION, TargetKind.SORRY, TargetKind.SORRY]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=2),
    st.text(alphabet=st.sampled_from(list("abc xyz\n()⟨⟩ℕ∀😀:=")), max_size=40),
)
def test_splice_round_trip_keeps_every_byte_outside_the_replaced_span(i: int, proof: str) -> None:
    t = TARGETS[i]
    cand = Candidate(proof=proof or "rfl")
    doc = spliced_document(t, cand)
    text = t.text
    before = text[: pos_to_offset(text, t.proof_span.start)]
    after = text[pos_to_offset(text, t.proof_span.end) :]
    assert doc.startswith(before) and doc.endswith(after)
