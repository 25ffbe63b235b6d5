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


def test_interpolated_string_terms_are_code() -> None:
    got = kinds('s!"a {by sorry} {"}"} b"')
    assert ("keyword", "sorry") in got and ("string", '"}"') in got and got[-1] == ("string", '} b"')


def test_offsets_are_code_points_with_astral_characters() -> None:
    src = "😀 theorem"
    t = significant(tokenize(src))[1]
    assert (t.start, t.end) == (2, 9)


def test_non_string_input_does_not_raise() -> None:
    assert tokenize(None) == []  # type: ignore[arg-type]
