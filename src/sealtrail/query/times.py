"""Times in queries: a UTC date (``2026-03-01``) or an RFC 3339 time with a zone.

A time without a zone (``2026-03-01T10:00:00``) is refused rather than read as
UTC: the viewer shows local times, so a zoneless time is most likely local and
guessing would silently shift the range by hours. A date alone is a UTC day.

Events keep microseconds, so a bound written with more fractional digits is
rounded to the microsecond that gives the same answer for every stored time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from sealtrail.errors import InvalidQuery

_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_DAY: Final = timedelta(days=1)
_MICROSECOND: Final = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Instant:
    """A parsed time: ``floor`` is it cut to the microsecond; ``exact`` if nothing was cut."""

    floor: datetime
    exact: bool
    date_only: bool

    def lower(self, *, inclusive: bool) -> datetime:
        """The ``since`` bound for ``occurred_at >= self`` (or ``>`` when not inclusive)."""
        if self.date_only:
            return self.floor if inclusive else _shift(self.floor, _DAY)
        if inclusive and self.exact:
            return self.floor
        return _shift(self.floor, _MICROSECOND)

    def upper(self, *, inclusive: bool) -> datetime:
        """The ``until`` bound for ``occurred_at <= self`` (or ``<`` when not inclusive)."""
        if self.date_only:
            return _shift(self.floor, _DAY) if inclusive else self.floor
        if not inclusive and self.exact:
            return self.floor
        return _shift(self.floor, _MICROSECOND)


def _shift(moment: datetime, step: timedelta) -> datetime:
    try:
        return moment + step
    except OverflowError:
        raise InvalidQuery("is out of the supported range of times") from None


def parse_instant(value: str) -> Instant:
    """Parse a date or RFC 3339 time; ``InvalidQuery`` (no parameter) when malformed."""
    text = value.strip()
    if date := _DATE.fullmatch(text):
        year, month, day = (int(part) for part in date.groups())
        moment = _build(value, UTC, year, month, day)
        return Instant(moment, exact=True, date_only=True)
    full = _TIME.fullmatch(text)
    if full is None:
        raise InvalidQuery(
            f"{value!r} is not a date (2026-03-01) or an RFC 3339 time (2026-03-01T10:00:00Z)"
        )
    year, month, day, hour, minute = (int(part) for part in full.groups()[:5])
    second, fraction, zone = full.group(6, 7, 8)
    if zone is None:
        raise InvalidQuery(f"{value!r} has no time zone: add Z or an offset such as +02:00")
    digits = (fraction or "").ljust(9, "0")
    offset = UTC if zone in "Zz" else _offset(value, zone)
    moment = _build(
        value, offset, year, month, day, hour, minute, int(second or 0), int(digits[:6])
    )
    return Instant(moment, exact=int(digits[6:]) == 0, date_only=False)


def _offset(value: str, zone: str) -> timezone:
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        raise InvalidQuery(f"{value!r} has an impossible UTC offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if zone[0] == "-" else delta)


def _build(value: str, zone: timezone, *parts: int) -> datetime:
    year, month, day, hour, minute, second, micro = (*parts, 0, 0, 0, 0)[:7]
    try:
        return datetime(year, month, day, hour, minute, second, micro, zone).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidQuery(f"{value!r} is not a real date and time") from None


def parse_time(value: str, *, end: bool) -> datetime:
    """A ``since`` (``end=False``) or ``until`` (``end=True``) bound, as an aware UTC datetime.

    ``value`` is a date or an RFC 3339 time with ``Z`` or an offset; a zoneless
    time raises ``InvalidQuery``. With ``end=True`` a date means the start of the
    next day, so a date-only ``until`` includes that whole day; a time is the
    exclusive bound itself. Raises ``InvalidQuery`` (without a parameter name:
    the caller adds it) on anything malformed.
    """
    instant = parse_instant(value)
    return instant.upper(inclusive=instant.date_only) if end else instant.lower(inclusive=True)
