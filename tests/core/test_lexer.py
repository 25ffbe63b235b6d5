"""The lexer: lossless tiling, Lean's comment/string/identifier rules, never raising."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lean_copilot_py.core.lexer import Kind, significant, tokenize

LEAN_BITS = st.sampled_from(
    ["/-", "-/", "/--", "/-!", "--", "\"", "\\", "'", "«", "»", "r#\"", "\"#", "s!\"", "{", "}", "#eval", "@[",
     "\n", "\r\n", "\t", " ", "sorry", "by", ":=", "x₁", "ℕ", "😀", "`", "0x", "1.5e", "theorem"]
)  # fmt: skip


def kinds(src: str) -> list[tuple[str, str]]:
    return [(t.kind.value, t.text) for t in tokenize(src) if t.kind is not Kind.WHITESPACE]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(LEAN_BITS, st.text(max_size=4)), max_size=30).map("".join))
def test_tokens_tile_the_input_and_never_raise(src: str) -> None:
    toks = tokenize(src)
    assert "".join(t.text for t in toks) == src
    pos = 0
    for t in toks:
        assert t.start == pos and t.end > t.start and src[t.start : t.end] == t.text
        pos = t.end
    assert pos == len(src)


def test_nested_block_comments_close_where_lean_closes_them() -> None:
    assert kinds("/- a /- b -/ #eval 1 -/ rfl") == [("block_comment", "/- a /- b -/ #eval 1 -/"), ("ident", "rfl")]
    # Lean skips the character right after a plain `/-`, so `/-/-/` is one comment.
    assert kinds("/-/-/ x") == [("block_comment", "/-/-/"), ("ident", "x")]


def test_doc_and_module_comments() -> None:
    assert [k for k, _ in kinds("/-- doc -/ /-! mod -/ -- line")] == ["doc_comment", "module_doc", "line_comment"]


def test_unterminated_comment_and_string_run_to_the_end_flagged() -> None:
    for src in ["/- open /- -/ #eval", '"abc #eval', 'r#"abc"', 's!"a{x']:
        toks = tokenize(src)
        assert any(t.error for t in toks), src
        assert not any(t.kind is Kind.COMMAND for t in toks), src


def test_line_comment_inside_string_is_string() -> None:
    assert kinds('"-- not a comment" #eval') == [("string", '"-- not a comment"'), ("command", "#eval")]


def test_identifiers_follow_lean() -> None:
    src = "h' x₁ ℕ α.β «#eval» «a.b».c exact? simp?! Nat.succ_le_iff f!"
    assert kinds(src) == [("ident", w) for w in src.split()]
    assert tokenize("«a.b».c")[0].name == "a.b.c"


def test_keywords_and_commands() -> None:
    assert kinds("theorem foo := by sorry #check x") == [
        ("keyword", "theorem"), ("ident", "foo"), ("symbol", ":="), ("keyword", "by"), ("keyword", "sorry"),
        ("command", "#check"), ("ident", "x"),
    ]  # fmt: skip


def test_literals() -> None:
    assert [k for k, _ in kinds("'a' '\\n' '\\x41' 0x1F 2.5e3 `foo ``Bar r##\"a\"#b\"## \"e\\\"q\"")] == [
        "char", "char", "char", "number", "number", "name_lit", "name_lit", "string", "string",
    ]  # fmt: skip
    assert kinds("f '' s") == [("ident", "f"), ("symbol", "''"), ("ident", "s")]


def test_escapes_and_their_error_positions_follow_lean() -> None:
    ok = [r'"\\ \" \' \r \n \t \x41 \u00e9"', '"gap \\\n   here"', r"'\''", r"'\x41'"]
    for src in ok:
        (t,) = tokenize(src)
        assert not t.error, src
    # Where Lean reports the error is where its recovery resumes reading (measured on Lean 4.35).
    bad = {r'"\q #print"': 2, r'"\{"': 2, r'"\x4"': 4, '"a\\\n\n b"': 4, r"'\q'": 2, "'ab": 3}
    for src, at in bad.items():
        t = tokenize(src)[0]
        assert t.error and t.error_at == at, (src, t)


def test_numbers_follow_lean() -> None:
    assert [t.text for t in tokenize("0x1F 1_000 2.5e3 1. 0b101")[::2]] == ["0x1F", "1_000", "2.5e3", "1.", "0b101"]
    for src, at in {"0x": 2, "1_ ": 2, "1.5e x": 3, "2e": 1}.items():
        t = tokenize(src)[0]
        assert t.kind is Kind.NUMBER and t.error and t.error_at == at, (src, t)


def test_unterminated_literals_report_where_lean_resumes() -> None:
    assert tokenize('"abc')[0].error_at == 0
    assert tokenize("«abc")[0].error_at == 1  # after the `«`, like Lean's identFnAux
    assert tokenize("/- x")[0].error_at == 4


def test_offsets_are_code_points_with_astral_characters() -> None:
    src = "😀 theorem"
    t = significant(tokenize(src))[1]
    assert (t.start, t.end) == (2, 9)


def test_non_string_input_does_not_raise() -> None:
    assert tokenize(None) == []  # type: ignore[arg-type]
