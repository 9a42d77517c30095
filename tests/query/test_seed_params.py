"""seed_query_from_params: the seed product's members audit-log endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sealtrail.errors import InvalidQuery
from sealtrail.query import EventQuery, Field, Page, Term, TimeRange, seed_query_from_params


def test_all_parameters() -> None:
    query, page = seed_query_from_params(
        {
            "action": ["member.invited"],
            "targetUserId": ["0b6f9d8e-1c2a-4e1b-9a51-5c3f2d7e8a90"],
            "since": ["2026-03-15"],
            "limit": ["50"],
            "offset": ["100"],
        }
    )
    assert query == EventQuery(
        (
            Term(Field.ACTION, ("member.invited",)),
            Term(Field.TARGET_ID, ("0b6f9d8e-1c2a-4e1b-9a51-5c3f2d7e8a90",)),
        ),
        TimeRange(since=datetime(2026, 3, 15, tzinfo=UTC)),
        "desc",
    )
    assert page == Page(limit=50, offset=100)


def test_defaults() -> None:
    assert seed_query_from_params({}) == (EventQuery(), Page(limit=50, offset=0))


def test_action_repeats_and_takes_prefixes() -> None:
    query, _ = seed_query_from_params({"action": ["member.*", "subscription.changed"]})
    assert query.terms == (Term(Field.ACTION, ("member.*", "subscription.changed")),)


def test_since_takes_an_rfc3339_time() -> None:
    query, _ = seed_query_from_params({"since": ["2026-03-15T09:30:00Z"]})
    assert query.time == TimeRange(since=datetime(2026, 3, 15, 9, 30, tzinfo=UTC))


def test_extra_allowed() -> None:
    query, _ = seed_query_from_params({"format": ["json"]}, extra_allowed=["format"])
    assert query == EventQuery()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": ["201"]}, "limit"),
        ({"limit": ["0"]}, "limit"),
        ({"offset": ["-1"]}, "offset"),
        ({"since": ["15/03/2026"]}, "since"),
        ({"action": ["Member Invited"]}, "action"),
        ({"targetUserId": ["a", "b"]}, "targetUserId"),
        ({"targetUserId": ["\x00"]}, "targetUserId"),
        ({"target_id": ["a"]}, "target_id"),
        ({"until": ["2026-03-01"]}, "until"),
        ({"cursor": ["x"]}, "cursor"),
        ({"phrase": ["a"]}, "phrase"),
    ],
)
def test_refused(params: dict[str, list[str]], parameter: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        seed_query_from_params(params)
    assert caught.value.parameter == parameter
