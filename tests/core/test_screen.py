"""Screening: every refused construct, hiding tricks, and innocent words left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core import Finding, screen

REFUSED = {
    "#eval 1": "#eval", "#exit": "#exit", "#print axioms foo": "#print", "#check Nat": "#check",
    "run_cmd pure ()": "run_cmd", "by run_tac pure ()": "run_tac", "run_elab pure ()": "run_elab",
    "run_meta pure ()": "run_meta", "by_elab pure ()": "by_elab", "elab \"x\" : tactic => pure ()": "elab",
    "elab_rules : tactic | _ => pure ()": "elab_rules", "macro \"x\" : tactic => `(tactic| rfl)": "macro",
    "macro_rules | `(x) => `(y)": "macro_rules", "syntax \"x\" : tactic": "syntax",
    "notation \"⊤⊤\" => True": "notation", "infixl:65 \" +++ \" => f": "infixl", "infix:50 \" ~ \" => f": "infix",
    "initialize foo : IO.Ref Nat ← IO.mkRef 0": "initialize", "builtin_initialize pure ()": "builtin_initialize",
    "axiom cheat : False": "axiom", "opaque x : Nat": "opaque", "unsafe def f := 1": "unsafe",
    "@[implemented_by g] def f := 1": "attribute", "@[extern \"c\"] def f := 1": "attribute",
    "@[simp, command_elab foo] def f := 1": "attribute", "import Mathlib": "import",
    "attribute [simp] foo": "attribute", "set_option debug.skipKernelTC true in rfl": "set_option",
    "set_option kernel.x 1": "set_option", "set_option trace.Meta.synthInstance true": "set_option",
    "by sorry": "sorry", "by admit": "sorry", "exact sorryAx _": "sorryAx", "by native_decide": "native_decide",
    "Lean.ofReduceBool a b h": "native_decide", "by decide +native": "native_decide", "by exact?": "search",
    "by apply?": "search", "by rw?": "search", "by simp?": "search", "by aesop?": "search", "by hint": "search",
    "by simp_all?": "search", "variable (h : False)": "variable", "namespace Foo": "namespace",
    "/- unterminated": "lexical", '"unterminated': "lexical", "x //- -/ rfl": "comment",
}  # fmt: skip


@pytest.mark.parametrize(("src", "rule"), sorted(REFUSED.items()))
def test_each_rule_refuses(src: str, rule: str) -> None:
    found = screen(src)
    assert rule in {f.rule for f in found}, found
    assert all(isinstance(f, Finding) and f.message for f in found)


# Each trick with the rule that must catch it and where that finding must point (the start of ``needle``).
HIDDEN = [
    ("/- -/ #eval 1", "#eval", "#eval"),
    ("/- /- -/ -/ #eval 1", "#eval", "#eval"),
    ("/- /- nested -/ still comment -/ run_cmd pure ()", "run_cmd", "run_cmd"),
    ('"-- in a string" #eval 1', "#eval", "#eval"),
    ('"/- in a string" #eval 1 -- -/', "#eval", "#eval"),
    ("set_option  /- c -/  debug.skipKernelTC true in rfl", "set_option", "debug.skipKernelTC"),
    ("set_option «debug».skipKernelTC true in rfl", "set_option", "«debug»"),
    ('throwError "{by run_tac pure ()}"', "run_tac", "run_tac"),
    ('s!"{(by sorry : True)}"', "sorry", "sorry"),
    ("exact «sorryAx» _", "sorryAx", "«sorryAx»"),
    ("rfl\n#exit", "#exit", "#exit"),
    ('r#""# #eval 1', "#eval", "#eval"),
    # Issue 16: `dbg_trace` (any syntax using `interpolatedStr`) reads `"{"\""}"` as one literal.
    ('theorem t_ok : True := dbg_trace "{"\\""}"; True.intro\n#print "HIDDEN" --"', "#print", "#print \"HIDDEN\""),
    ('by exact (println! "{"\\""}"); trivial\n#eval IO.println 1 --"', "#eval", "#eval IO"),
    ('trace[x] "{"}"; rfl\nrun_cmd pure () --"', "run_cmd", "run_cmd"),
    # Lean's recovery after a parse error resumes inside the literal (measured on Lean 4.35).
    ('theorem x : True := "\\q #print Eq"', "#print", "#print"),
    ("theorem x : True := '\\q' #print Eq", "#print", "#print"),
    ("theorem x : True := 1.5e #print Eq", "#print", "#print"),
    ("theorem x : True := 0x #print Eq", "#print", "#print"),
    (")\n«#print Eq", "#print", "#print"),
    (')\n"#print Eq', "#print", "#print"),
    ('theorem x : True := dbg_trace "{)}#print Eq"; True.intro', "#print", "#print"),
    ('theorem x : True := "\\{ #eval 1 }"', "#eval", "#eval"),
    ("exact (h : lean_copilot_pinned_statement)", "reserved", "lean_copilot_pinned_statement"),
    ("exact _lean_copilot_pinned_statement", "reserved", "_lean_copilot_pinned_statement"),
    ("exact «lean_copilot_statement_check»", "reserved", "«lean_copilot_statement_check»"),
    ("@[instance] theorem i : True := trivial", "attribute", "instance"),
    ("by\n  exact x\nwhere @[instance] inst : Inhabited Nat := ⟨5⟩", "attribute", "instance]"),
    ("'\t' #eval 1", "#eval", "#eval"),
]


@pytest.mark.parametrize(("src", "rule", "needle"), HIDDEN)
def test_tricks_do_not_slip_through(src: str, rule: str, needle: str) -> None:
    found = screen(src)
    assert any(f.rule == rule and src[f.offset :].startswith(needle) for f in found), found


INNOCENT = [
    "by\n  simp -- no sorry needed, no #eval\n  omega",
    "by\n  /- we avoid native_decide and #exit here -/\n  decide",
    'theorem t : "sorry #eval" = "sorry #eval" := rfl',
    "by exact (xs.find? p).isSome",
    "«#eval»",
    "set_option maxHeartbeats 400000 in\nby simp",
    "@[simp] theorem foo : 1 + 1 = 2 := rfl",
    "by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp [ih]; omega",
    "fun ⟨a, b⟩ => ⟨b, a⟩",
    "by decide",
    "#v[1, 2]",
    'by exact (dbg_trace "{x} and {y + 1}"; rfl)',
    'by exact s!"{n} ≠ {n + 1}"',
    'exact "the #eval in a plain string is text"',
    "exact ⟨_, h.lean_copilot⟩",
]


@pytest.mark.parametrize("src", INNOCENT)
def test_good_proofs_are_admissible(src: str) -> None:
    assert screen(src) == []


def test_flags_relax_only_their_rule() -> None:
    assert screen("by sorry", allow_sorry=True) == []
    assert screen("by exact?", allow_search_tactics=True) == []
    assert screen("by native_decide", allow_native_decide=True) == []
    assert screen("by sorry\n#eval 1", allow_sorry=True)[0].rule == "#eval"


def test_offsets_point_at_the_offender() -> None:
    src = "by\n  simp\n  sorry"
    (f,) = screen(src)
    assert src[f.offset :].startswith("sorry") and f.pos(src).line == 2


# Fragments that reach every part of the screen (comments, literals, interpolation, commands, attributes, flags).
FRAGMENTS = st.sampled_from(
    ["#eval", "#print", "#exit", " ", "\n", "\r\n", "\t", "/-", "-/", "--", '"', "'", "\\", "{", "}", "«", "»", 'r#"',
     '"#', "sorry", "admit", "by", "exact", "exact?", "rfl", "run_cmd", "set_option", "debug.x", "in", "dbg_trace",
     "s!", "@[", "]", "instance", "theorem", "x", ":=", "(", ")", "native_decide", "import", "axiom", "0x", "1.5e", "⟨",
     "⟩", "😀"]
)  # fmt: skip
LEANISH = st.lists(FRAGMENTS | st.text(max_size=3), max_size=25).map("".join)
FLAGS = ("allow_sorry", "allow_search_tactics", "allow_native_decide")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60) | LEANISH)
def test_never_raises(src: str) -> None:
    """Any text is screened without a fault of the screen's own ("internal" is how a screening bug refuses), and
    every finding is a real one: in the text, in text order, a command finding at that command; a flag only ever
    takes findings away; the same text gets the same findings."""
    found = screen(src)
    assert found == sorted(found, key=lambda f: f.offset)
    for f in found:
        assert isinstance(f, Finding) and f.rule not in ("internal", "input") and f.message, f
        assert 0 <= f.offset <= len(src), f
        if f.rule.startswith("#"):
            assert src[f.offset :].startswith(f.rule), f
    for flag in FLAGS:
        assert set(screen(src, **{flag: True})) <= set(found), flag
    assert screen(src) == found


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="-/\"\\'«`{}r"), max_size=30))
def test_eval_after_any_innocent_prefix_is_seen(prefix: str) -> None:
    assert any(f.rule == "#eval" for f in screen(prefix + "\n#eval 1"))


def test_ambiguous_literal_message_says_what_to_do() -> None:
    (f, *rest) = screen('theorem t_ok : True := dbg_trace "{"\\""}"; True.intro\n#print "HIDDEN" --"')
    assert f.rule == "ambiguous-string" and "interpolated" in f.message and "without `{`" in f.message
    assert any(g.rule == "#print" and "parse error" in g.message for g in rest)


def test_hidden_commands_found_in_other_readings_point_at_them() -> None:
    src = 'theorem x : True := "\\q #print Eq"'
    found = {f.rule: f for f in screen(src)}
    assert src[found["#print"].offset :].startswith("#print")
