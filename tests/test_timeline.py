"""The timeline's grid: round widths from minutes to weeks, clipped ends, open ranges closed."""

from __future__ import annotations

import itertools

import pytest

from sealtrail.errors import InvalidQuery
from sealtrail.events import format_timestamp, parse_timestamp
from sealtrail.limits import DEFAULT_BUCKETS, MAX_BUCKETS
from sealtrail.timeline import (
    DAY,
    EMPTY_SPAN,
    HOUR,
    MINUTE,
    WEEK,
    Counts,
    Grid,
    Histogram,
    open_ends,
    parse_buckets,
)

T = parse_timestamp("2026-03-04T10:17:00Z")  # a Wednesday


@pytest.mark.parametrize(
    ("span", "buckets", "width"),
    [
        (30 * MINUTE, 60, MINUTE),
        (3 * HOUR, 60, 5 * MINUTE),
        (24 * HOUR, 60, 30 * MINUTE),
        (24 * HOUR, 24, 2 * HOUR),
        (30 * DAY, 60, DAY),  # 12 hours would need 61 once the ends are clipped
        (30 * DAY, 61, 12 * HOUR),
        (365 * DAY, 60, WEEK),
        (365 * DAY, 200, 2 * DAY),
        (20 * 365 * DAY, 60, 20 * WEEK),  # past 4 weeks: multiples of 4 weeks
    ],
)
def test_the_narrowest_round_width_that_fits(span: int, buckets: int, width: int) -> None:
    grid = Grid.over(T, T + span, buckets)
    assert grid.width == width
    assert grid.size <= buckets
    edges = grid.edges()
    assert edges[0] == T and edges[-1] == T + span
    assert all(a < b for a, b in itertools.pairwise(edges))
    assert all((e - grid.origin) % width == 0 for e in edges[1:-1])


def test_weeks_start_on_monday_and_days_at_midnight_utc() -> None:
    weeks = Grid.over(T, T + 365 * DAY, 60).edges()
    assert format_timestamp(weeks[1]) == "2026-03-09T00:00:00.000000Z"  # a Monday
    days = Grid.over(T, T + 90 * DAY, 60).edges()
    assert format_timestamp(days[1]) == "2026-03-06T00:00:00.000000Z"  # 2-day steps from 1970


def test_one_bucket_takes_the_whole_range() -> None:
    grid = Grid.over(T, T + 3 * DAY, 1)
    assert grid.edges() == [T, T + 3 * DAY]


def test_an_empty_or_reversed_range_is_refused() -> None:
    with pytest.raises(InvalidQuery):
        Grid.over(T, T, 10)
    with pytest.raises(InvalidQuery):
        Grid.over(T, T + DAY, MAX_BUCKETS + 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, DEFAULT_BUCKETS), ("", DEFAULT_BUCKETS), (" 7 ", 7), ("200", 200)],
)
def test_buckets_parameter(value: str | None, expected: int) -> None:
    assert parse_buckets(value) == expected


@pytest.mark.parametrize("value", ["0", "201", "-1", "1e2", "٣", "9" * 30])
def test_buckets_parameter_refused(value: str) -> None:
    with pytest.raises(InvalidQuery) as raised:
        parse_buckets(value)
    assert raised.value.parameter == "buckets"


def test_open_ends() -> None:
    now = T + 100 * DAY
    edges = {"asc": T, "desc": T + DAY}
    assert open_ends(None, None, now, edges.get) == (T, now)
    ahead = {"asc": T, "desc": now + MINUTE}
    assert open_ends(None, None, now, ahead.get) == (T, now + MINUTE + 1)
    assert open_ends(None, T + 5 * DAY, now, lambda _: None) == (
        T + 5 * DAY - EMPTY_SPAN,
        T + 5 * DAY,
    )
    assert open_ends(T, T + DAY, now, lambda _: pytest.fail("no lookup when closed")) == (
        T,
        T + DAY,
    )


def test_histogram_to_dict() -> None:
    midnight = parse_timestamp("2026-03-04T00:00:00Z")
    grid = Grid.over(midnight, midnight + 2 * HOUR, 2)
    found = Histogram.of(grid, [Counts({"create": 2}, 1), Counts({"delete": 1, "access": 3})])
    body = found.to_dict()
    assert body["total"] == 6 and body["interval"] == 3600
    assert [b["count"] for b in body["buckets"]] == [2, 4]
    assert body["buckets"][0]["by_kind"] == {
        "create": 2,
        "update": 0,
        "delete": 0,
        "access": 0,
        "other": 0,
    }
    with pytest.raises(ValueError, match="1 counts for 2 buckets"):
        Histogram.of(grid, [Counts()])
