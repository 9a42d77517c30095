"""parse_time: dates and RFC 3339 times as since/until bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sealtrail.errors import InvalidQuery
from sealtrail.query import parse_time


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "since", "until"),
    [
        ("2026-03-01", utc(2026, 3, 1), utc(2026, 3, 2)),
        ("2026-02-28", utc(2026, 2, 28), utc(2026, 3, 1)),
        ("2024-02-29", utc(2024, 2, 29), utc(2024, 3, 1)),
        ("2026-12-31", utc(2026, 12, 31), utc(2027, 1, 1)),
        ("2026-03-01T10:00:00Z", utc(2026, 3, 1, 10), utc(2026, 3, 1, 10)),
        ("2026-03-01t10:00:00z", utc(2026, 3, 1, 10), utc(2026, 3, 1, 10)),
        ("2026-03-01 10:00:00Z", utc(2026, 3, 1, 10), utc(2026, 3, 1, 10)),
        ("2026-03-01T10:00Z", utc(2026, 3, 1, 10), utc(2026, 3, 1, 10)),
        ("2026-03-01T10:00:00+02:00", utc(2026, 3, 1, 8), utc(2026, 3, 1, 8)),
        ("2026-03-01T01:00:00-05:30", utc(2026, 3, 1, 6, 30), utc(2026, 3, 1, 6, 30)),
        ("2026-03-01T10:00:00-00:00", utc(2026, 3, 1, 10), utc(2026, 3, 1, 10)),
        ("2026-03-01T10:00:00.5Z", utc(2026, 3, 1, 10, 0, 0, 500000), None),
        ("2026-03-01T10:00:00.123456Z", utc(2026, 3, 1, 10, 0, 0, 123456), None),
        # Stored times have microseconds: t >= x and t < x both mean t >= / < ceil(x).
        ("2026-03-01T10:00:00.1234561Z", utc(2026, 3, 1, 10, 0, 0, 123457), None),
        ("2026-03-01T10:00:00.123456000Z", utc(2026, 3, 1, 10, 0, 0, 123456), None),
        ("2026-03-01T23:59:59.9999999Z", utc(2026, 3, 2), None),
        (" 2026-03-01 ", utc(2026, 3, 1), utc(2026, 3, 2)),
    ],
)
def test_bounds(value: str, since: datetime, until: datetime | None) -> None:
    assert parse_time(value, end=False) == since
    assert parse_time(value, end=True) == (until or since)
    assert parse_time(value, end=False).tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-03-01T10:00:00", "no time zone"),
        ("2026-03-01T10:00", "no time zone"),
        ("2026-3-1", "is not a date"),
        ("20260301", "is not a date"),
        ("2026-W09", "is not a date"),
        ("2026-03", "is not a date"),
        ("1772323200", "is not a date"),
        ("now", "is not a date"),
        ("", "is not a date"),
        ("2026-03-01T10:00:00.Z", "is not a date"),
        ("2026-03-01T10:00:00.1234567890Z", "is not a date"),
        ("2026-03-01T10:00:00+0200", "is not a date"),
        ("2026-03-01T10:00:00+02", "is not a date"),
        ("2026-03-01T10:00:00Z junk", "is not a date"),
        ("2026-02-29", "is not a real date"),
        ("2026-00-10", "is not a real date"),
        ("2026-03-01T24:00:00Z", "is not a real date"),
        ("2026-03-01T23:60:00Z", "is not a real date"),
        ("2026-12-31T23:59:60Z", "is not a real date"),
        ("2026-03-01T10:00:00+02:60", "impossible UTC offset"),
        ("0001-01-01T00:00:00+01:00", "is not a real date"),
        ("٢٠٢٦-٠٣-٠١", "is not a date"),
    ],
)
def test_refused(value: str, says: str) -> None:
    with pytest.raises(InvalidQuery, match=says) as caught:
        parse_time(value, end=False)
    assert caught.value.parameter is None


def test_last_representable_day_has_no_next_day() -> None:
    assert parse_time("9999-12-31", end=False) == utc(9999, 12, 31)
    with pytest.raises(InvalidQuery, match="out of the supported range"):
        parse_time("9999-12-31", end=True)
