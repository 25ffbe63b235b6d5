"""Screening on hostile text: a forbidden construct is found whatever well-formed comments and strings
surround it, and the same words inside a real comment or string are not findings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.screen import screen

FORBIDDEN = {
    "#eval IO.println 1": "#eval",
    "run_cmd pure ()": "run_cmd",
    "sorry": "sorry",
    "axiom cheat : False": "axiom",
    "exact?": "search",
    "set_option debug.skipKernelTC true in": "set_option",
    "@[implemented_by foo] def x := 1": "attribute",
}
INNER = st.text(st.characters(blacklist_characters="-/\"\\{}\n\r", codec="utf-8"), max_size=15)
LINE_COMMENT = INNER.map(lambda s: f"-- {s}\n")
BLOCK_COMMENT = st.lists(INNER, min_size=1, max_size=3).map(lambda parts: "/- " + " /- ".join(parts)
                                                          + " -/" * len(parts) + " ")
STRING = INNER.map(lambda s: f'"{s}" ')
NOISE = st.lists(st.one_of(LINE_COMMENT, BLOCK_COMMENT, STRING, st.sampled_from(["by ", "simp ", "\n", "  "])),
                 max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(NOISE, st.sampled_from(sorted(FORBIDDEN)), NOISE)
def test_forbidden_construct_is_found_between_any_comments_and_strings(before: str, bad: str, after: str) -> None:
    src = f"{before}\n{bad}\n{after}"
    rules = {f.rule for f in screen(src)}
    want = FORBIDDEN[bad]
    assert want in rules or (want == "attribute" and "implemented_by" in rules), (src, rules)


@settings(max_examples=200, deadline=None)
@given(NOISE, st.sampled_from(sorted(FORBIDDEN)), st.sampled_from(["line", "block", "doc"]), NOISE)
def test_forbidden_words_inside_comments_are_not_findings(before: str, bad: str, how: str, after: str) -> None:
    wrapped = {"line": f"-- {bad}\n", "block": f"/- {bad} -/ ", "doc": f"/-- {bad} -/ "}[how]
    assert screen(f"{before}\n{wrapped}\n{after}") == []


@settings(max_examples=100, deadline=None)
@given(NOISE, st.sampled_from([b for b in sorted(FORBIDDEN) if '"' not in b and "{" not in b]), NOISE)
def test_forbidden_words_inside_plain_strings_are_not_findings(before: str, bad: str, after: str) -> None:
    assert screen(f'{before}\nexact "{bad}"\n{after}') == []


# Ways to make Lean read on as code where a plain lexer sees a string (issue 16): a literal that only an
# interpolated reading closes, and malformed literals that Lean's parse-error recovery resumes inside.
HIDERS = [
    ('dbg_trace "{"\\""}"; rfl\n', ' --"'),
    ('s!"{"\\""}"\n', ' --"'),
    ('exact "\\q ', '"'),
    ('exact "\\{ ', ' }"'),
    ("exact '\\q' ", ""),
    ("exact 1.5e ", ""),
    ('exact dbg_trace "{)} ', '"; rfl'),
    ('exact "unterminated ', None),  # None: nothing may follow (the literal must stay open)
    ("exact «unterminated ", None),
]
EXEC = {k: v for k, v in FORBIDDEN.items() if v in ("#eval", "run_cmd", "attribute")}


@settings(max_examples=150, deadline=None)
@given(NOISE, st.sampled_from(HIDERS), st.sampled_from(sorted(EXEC)), NOISE)
def test_code_hidden_where_only_lean_reads_it_is_found(before: str, hider: tuple[str, str | None], bad: str,
                                                       after: str) -> None:
    opener, closer = hider
    src = f"{before}\n{opener}{bad}" + (f"{closer}\n{after}" if closer is not None else "")
    rules = {f.rule for f in screen(src, allow_sorry=True, allow_search_tactics=True)}
    assert EXEC[bad] in rules, (src, rules)  # the hidden construct itself, not only the malformed literal
