"""Phrases that do not parse: each error names the token and where it starts."""

from __future__ import annotations

import pytest

from sealtrail.errors import PhraseSyntaxError
from sealtrail.query import MAX_PHRASE_LENGTH, parse_phrase


def error_of(phrase: str) -> PhraseSyntaxError:
    with pytest.raises(PhraseSyntaxError) as caught:
        parse_phrase(phrase)
    return caught.value


@pytest.mark.parametrize(
    ("phrase", "token", "position", "says"),
    [
        ("colour:red", "colour:red", 0, "unknown key 'colour'"),
        ("action:member.* colour:red", "colour:red", 16, "unknown key 'colour'"),
        ("  https://x.test", "https://x.test", 2, "in quotes"),
        ("action:", "action:", 0, "no value after action:"),
        ("foo   created:", "created:", 6, "no value after created:"),
        ('actor:""', 'actor:""', 0, "no value after actor:"),
        ('actor:"   "', 'actor:"   "', 0, "actor: is empty"),
        ('a "unterminated text', '"unterminated text', 2, "unterminated quote"),
        ('actor:"Ann', 'actor:"Ann', 0, "unterminated quote"),
        ('x "a\\"', '"a\\"', 2, "unterminated quote"),
        ("created:2026-02-30", "created:2026-02-30", 0, "not a real date"),
        ("created:>=yesterday", "created:>=yesterday", 0, "'yesterday' is not a date"),
        ("created:2026-03-01T10:00:00", "created:2026-03-01T10:00:00", 0, "no time zone"),
        ("created:2026-03-31..2026-03-01", "created:2026-03-31..2026-03-01", 0, "ends before"),
        ("created:2026-03-01..", "created:2026-03-01..", 0, "'' is not a date"),
        (
            "created:>=9999-12-31T23:59:59.9999999Z",
            "created:>=9999-12-31T23:59:59.9999999Z",
            0,
            "range",
        ),
        ("created:<=9999-12-31", "created:<=9999-12-31", 0, "range"),
        ("created:٢٠٢٦-03-01", "created:٢٠٢٦-03-01", 0, "not a date"),
        ("ok -created:2026-03-01", "-created:2026-03-01", 3, "cannot be negated"),
        ("ip:10.0.0.300", "ip:10.0.0.300", 0, "not an IP address"),
        ("ip:fe80::1%eth0", "ip:fe80::1%eth0", 0, "zone"),
        ("ip:10.0.0.0/33", "ip:10.0.0.0/33", 0, "not an IP address"),
        ("outcome:maybe", "outcome:maybe", 0, "'maybe' is not one of success, failure"),
        ("kind:destroy", "kind:destroy", 0, "is not one of create"),
        ("action:Member", "action:Member", 0, "is not an action"),
        ("action:*", "action:*", 0, "is not an action"),
        ("action:member.", "action:member.", 0, "is not an action"),
        ("resource:/ws_1", "resource:/ws_1", 0, "is not a resource"),
        ("resource:workspace/", "resource:workspace/", 0, "is not a resource"),
        ("a - b", "-", 2, "nothing to negate"),
        ('""', '""', 0, "empty quotes"),
        ('x -""', '-""', 2, "empty quotes"),
        ('"   "', '"   "', 0, "text: is empty"),
        ("a\x00b", "a\x00b", 0, "cannot be searched"),
        ("ok \ud800", "\ud800", 3, "cannot be searched"),
        ("x " + "y" * 1025, "y" * 1025, 2, "longer than 1024"),
    ],
)
def test_error_points_at_the_token(phrase: str, token: str, position: int, says: str) -> None:
    error = error_of(phrase)
    assert (error.token, error.position) == (token, position)
    assert says in error.message
    assert phrase[position:].startswith(token)
    assert f"at position {position}: " in error.message
    if len(token) <= 60:
        assert repr(token) in error.message


def test_the_first_bad_token_is_reported() -> None:
    assert error_of("ok colour:red outcome:maybe").token == "colour:red"


def test_overlong_phrase_is_refused_at_the_limit() -> None:
    error = error_of("a " * MAX_PHRASE_LENGTH)
    assert error.position == MAX_PHRASE_LENGTH
    assert "longer than" in error.message


def test_phrase_at_the_limit_is_accepted() -> None:
    assert len(parse_phrase("a " * (MAX_PHRASE_LENGTH // 2)).terms) == MAX_PHRASE_LENGTH // 2


def test_errors_are_invalid_input_with_a_stable_code() -> None:
    error = error_of("colour:red")
    assert error.code == "invalid_phrase"


def test_a_long_token_is_shortened_in_the_message_but_kept_whole_in_token() -> None:
    token = "colour:" + "r" * 100
    error = error_of(token)
    assert error.token == token
    assert repr(token[:57] + "...") in error.message
