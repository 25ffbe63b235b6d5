"""The interpolated reading of a string literal (core/interpolation.py), as Lean's `interpolatedStrFn`."""

from __future__ import annotations

from lean_copilot_py.core.interpolation import InterpReader, interpolated_reading
from lean_copilot_py.core.lexer import Kind, significant, tokenize


def kinds(src: str) -> list[tuple[str, str]]:
    return [(t.kind.value, t.text) for t in tokenize(src) if t.kind is not Kind.WHITESPACE]


def test_strings_are_plain_literals_and_the_interpolated_reading_is_separate() -> None:
    # Lean's tokenizer reads a plain literal; only the syntax around it (`s!`, `dbg_trace`, ...) decides.
    src = 's!"a {by sorry} {"}"} b"'
    assert kinds(src)[1] == ("string", '"a {by sorry} {"')
    r = interpolated_reading(src, 2)
    assert r.end == len(src) and not r.error
    assert [(t.kind.value, t.text) for t in significant(r.holes)] == [
        ("keyword", "by"), ("keyword", "sorry"), ("string", '"}"'),
    ]  # fmt: skip


def test_interpolated_reading_follows_interpolatedStrFn() -> None:
    assert interpolated_reading('"\\{x}"', 0).holes == []  # `\{` is an escape there
    assert interpolated_reading('"{ {a} }"', 0).end == 9  # braces inside a hole nest
    unterminated = interpolated_reading('"{ -- }"', 0)  # a comment in a hole is code's comment
    assert unterminated.error and unterminated.end == 8
    nested = interpolated_reading('"{"{"}"}"', 0)
    assert nested.disagreements == [2]  # the inner literal reads differently both ways


def test_readings_are_shared_and_budgeted() -> None:
    src = 'dbg_trace "{' * 200 + '}"' * 200
    reader = InterpReader(src, budget=50)
    r = reader.read(10)
    assert reader.exhausted and r.error  # out of budget: an error, so the caller refuses
    assert reader.read(10) is r  # each literal is read once
