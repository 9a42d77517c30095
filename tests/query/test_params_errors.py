"""query_from_params refuses bad input with InvalidQuery naming the parameter."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealtrail.errors import InvalidQuery, PhraseSyntaxError
from sealtrail.query import Cursor, query_from_params


def error_of(params: Mapping[str, Sequence[str]]) -> InvalidQuery:
    with pytest.raises(InvalidQuery) as caught:
        query_from_params(params)
    return caught.value


@pytest.mark.parametrize("name", ["colour", "Action", "format", "include", "page", ""])
def test_unknown_parameter_is_named(name: str) -> None:
    error = error_of({"action": ["auth.login"], name: ["x"]})
    assert error.parameter == name
    assert repr(name) in error.message


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"limit": ["201"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        ({"limit": ["0"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        ({"limit": ["abc"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        ({"limit": ["-1"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        ({"limit": ["1.5"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        ({"limit": ["1_0"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        ({"limit": ["٥"]}, "limit", "limit must be a whole number from 1 to 200, not "),
        (
            {"limit": ["99999999999999999999999"]},
            "limit",
            "limit must be a whole number from 1 to 200, not ",
        ),
        (
            {"offset": ["99999999999999999999"]},
            "offset",
            "offset must be a whole number from 0 to 9223372036854775807",
        ),
        (
            {"offset": ["-5"]},
            "offset",
            "offset must be a whole number from 0 to 9223372036854775807",
        ),
        (
            {"offset": ["9223372036854775808"]},
            "offset",
            "offset must be a whole number from 0 to 9223372036854775807",
        ),
        ({"kind": ["destroy"]}, "kind", "kind: 'destroy' is not one of"),
        ({"outcome": ["ok"]}, "outcome", "outcome: 'ok' is not one of success, failure"),
        ({"action": ["Member"]}, "action", "is not an action"),
        ({"action": ["auth.login", "*"]}, "action", "'*' is not an action"),
        ({"action": ["member.**"]}, "action", "is not an action"),
        ({"since": ["2026-13-01"]}, "since", "since: '2026-13-01' is not a real date"),
        ({"since": ["yesterday"]}, "since", "is not a date"),
        ({"until": ["2026-03-01T10:00:00"]}, "until", "no time zone"),
        ({"until": ["2026-03-01T25:00:00Z"]}, "until", "not a real date"),
        ({"until": ["2026-03-01T10:00:00+24:00"]}, "until", "impossible UTC offset"),
        ({"since": ["0000-01-01"]}, "since", "not a real date"),
        ({"until": ["9999-12-31"]}, "until", "out of the supported range"),
        ({"since": ["2026-03-02"], "until": ["2026-03-01"]}, "until", "later than since"),
        ({"ip": ["10.0.0.256"]}, "ip", "ip: '10.0.0.256' is not an IP address"),
        ({"ip": ["10.0.0.0/8/8"]}, "ip", "not an IP address"),
        ({"ip": ["example.com"]}, "ip", "not an IP address"),
        ({"order": ["newest"]}, "order", "order must be asc or desc"),
        ({"q": ['"unterminated']}, "q", "unterminated quote"),
        ({"q": ["a\x00"]}, "q", "cannot be searched"),
        ({"actor_id": ["x" * 1025]}, "actor_id", "longer than 1024"),
        ({"actor_email": ["\udcff@x.com"]}, "actor_email", "cannot be searched"),
        ({"cursor": ["nonsense"]}, "cursor", "cursor is not valid"),
        ({"action": [f"a.b{i}" for i in range(101)]}, "action", "at most 100"),
    ],
)
def test_bad_value_names_the_parameter(
    params: Mapping[str, Sequence[str]], parameter: str, says: str
) -> None:
    error = error_of(params)
    assert error.parameter == parameter
    assert says in error.message


@pytest.mark.parametrize(
    "name",
    [
        "category",
        "kind",
        "actor_id",
        "actor_email",
        "target_id",
        "resource_type",
        "resource_id",
        "account_id",
        "outcome",
        "ip",
        "q",
        "since",
        "until",
        "phrase",
        "order",
        "limit",
        "offset",
        "cursor",
    ],
)
def test_single_valued_parameter_repeated(name: str) -> None:
    error = error_of({name: ["1", "2"]})
    assert error.parameter == name
    assert "takes one value" in error.message


@pytest.mark.parametrize("offset", ["0", "10"])
def test_offset_and_cursor_conflict(offset: str) -> None:
    error = error_of({"offset": [offset], "cursor": [Cursor(1, 1, "desc").encode()]})
    assert error.parameter == "offset"
    assert "either offset or cursor" in error.message


def test_cursor_from_the_other_order_is_refused() -> None:
    error = error_of({"cursor": [Cursor(1, 1, "asc").encode()]})
    assert error.parameter == "cursor"
    assert error.message.startswith("cursor is not valid")


def test_unparseable_phrase_is_a_phrase_syntax_error() -> None:
    with pytest.raises(PhraseSyntaxError) as caught:
        query_from_params({"phrase": ["ok colour:red"]})
    assert (caught.value.token, caught.value.position) == ("colour:red", 3)


def test_phrase_positions_count_from_the_raw_parameter() -> None:
    with pytest.raises(PhraseSyntaxError) as caught:
        query_from_params({"phrase": ["  colour:red"]})
    assert caught.value.position == 2


def test_errors_carry_the_invalid_query_code() -> None:
    assert error_of({"limit": ["201"]}).code == "invalid_query"


_NAMES = st.sampled_from(
    ["action", "kind", "ip", "q", "since", "until", "phrase", "limit", "offset", "cursor", "x"]
)


@given(st.dictionaries(_NAMES, st.lists(st.text(max_size=30), max_size=3), max_size=5))
def test_any_query_string_parses_or_raises_a_query_error(params: dict[str, list[str]]) -> None:
    with contextlib.suppress(InvalidQuery, PhraseSyntaxError):
        query, page = query_from_params(params)
        assert hash((query, page)) is not None
