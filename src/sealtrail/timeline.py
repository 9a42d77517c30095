"""The timeline: how many matching events fell in each slice of a time range.

``GET /v1/events/histogram`` and the viewer's histogram ask ``AuditLog.histogram``
for a ``Histogram``; this module holds the pure part. ``Grid.over`` picks a
round bucket width (one minute up to days) so that a range splits into at
most the number of buckets asked for; bucket boundaries fall on multiples of
that width in UTC (weeks start on Monday), and the first and last bucket are
clipped to the range, so the buckets' counts add up to exactly what a search
over the same range and filters finds. A store counts each bucket by kind and
its failures (``EventStore.histogram``; from its per-hour pre-aggregate when the
buckets are whole hours, which every width from ``HOUR`` up is, weeks included);
nothing here knows SQL or HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from sealtrail.errors import InvalidQuery
from sealtrail.events import format_timestamp
from sealtrail.limits import DEFAULT_BUCKETS, KINDS, MAX_BUCKETS, Kind

MINUTE: Final = 60_000_000
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR
WEEK: Final = 7 * DAY
# 1970-01-01 was a Thursday: week-wide (and wider) buckets start on a Monday.
_MONDAY: Final = 4 * DAY
WIDTHS: Final = (
    *(m * MINUTE for m in (1, 2, 5, 10, 15, 30)),
    *(h * HOUR for h in (1, 2, 3, 6, 12)),
    *(d * DAY for d in (1, 2)),
    WEEK,
    2 * WEEK,
    4 * WEEK,
)
"""The bucket widths a range may be cut into, narrowest first (then multiples of 4 weeks)."""


def parse_buckets(value: str | None) -> int:
    """The ``buckets`` parameter: a whole number from 1 to ``MAX_BUCKETS``."""
    if value is None or not value.strip():
        return DEFAULT_BUCKETS
    text = value.strip()
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None
    if number is None or not 1 <= number <= MAX_BUCKETS:
        raise InvalidQuery(
            f"buckets must be a whole number from 1 to {MAX_BUCKETS}, not {text!r}", "buckets"
        )
    return number


EMPTY_SPAN: Final = 30 * DAY
"""An open-ended range with no match at all spans this long, ending at ``until``."""


def open_ends(
    since: int | None,
    until: int | None,
    now: int,
    edge_match: Callable[[Literal["asc", "desc"]], int | None],
) -> tuple[int, int]:
    """A closed range from one with open ends (µs).

    An open ``until`` is ``now``, or just after the newest match when that lies
    ahead; an open ``since`` is the oldest match, or ``EMPTY_SPAN`` before
    ``until`` when nothing matches. ``edge_match("asc")`` answers the time of
    the oldest match within the given bounds, ``edge_match("desc")`` the newest.
    """
    if until is None:
        newest = edge_match("desc")
        until = now if newest is None or newest < now else newest + 1
    if since is None:
        oldest = edge_match("asc")
        since = until - EMPTY_SPAN if oldest is None or oldest >= until else oldest
    return since, until


@dataclass(frozen=True, slots=True)
class Grid:
    """``since <= t < until`` cut at multiples of ``width`` (µs) from ``origin``.

    Bucket ``i`` holds the events whose ``(occurred_at - origin) // width`` is
    ``i + first``; ``edges`` are the clipped boundaries, ``len(edges) - 1`` buckets.
    """

    since: int
    until: int
    width: int
    origin: int = 0

    @classmethod
    def over(cls, since: int, until: int, buckets: int = DEFAULT_BUCKETS) -> Grid:
        """The narrowest round width that cuts ``[since, until)`` into at most ``buckets``."""
        if until <= since:
            raise InvalidQuery("until must be later than since", "until")
        if not 1 <= buckets <= MAX_BUCKETS:
            raise InvalidQuery(f"buckets must be from 1 to {MAX_BUCKETS}", "buckets")
        for width in _widths():
            grid = cls(since, until, width, _MONDAY if width >= WEEK else 0)
            if grid.size <= buckets:
                return grid
        raise AssertionError(f"no width fits {buckets} buckets")  # pragma: no cover

    @property
    def first(self) -> int:
        """The index, counted from ``origin``, of the bucket that holds ``since``."""
        return (self.since - self.origin) // self.width

    @property
    def size(self) -> int:
        return (self.until - 1 - self.origin) // self.width - self.first + 1

    def edges(self) -> list[int]:
        inner = [self.origin + (self.first + i) * self.width for i in range(1, self.size)]
        return [self.since, *inner, self.until]


def _widths() -> Iterator[int]:
    yield from WIDTHS
    multiple = 2
    while True:  # a range of decades in a few buckets: whole multiples of 4 weeks
        yield multiple * 4 * WEEK
        multiple += 1


@dataclass(frozen=True, slots=True)
class Counts:
    """One bucket's matches: how many of each kind, and how many failed."""

    by_kind: Mapping[Kind, int] = field(default_factory=dict)
    failures: int = 0

    @property
    def count(self) -> int:
        return sum(self.by_kind.values())


@dataclass(frozen=True, slots=True)
class Bucket:
    start: int  # µs, inclusive
    end: int  # µs, exclusive
    by_kind: Mapping[Kind, int]
    failures: int

    @property
    def count(self) -> int:
        return sum(self.by_kind.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": format_timestamp(self.start),
            "end": format_timestamp(self.end),
            "count": self.count,
            "by_kind": {kind: self.by_kind.get(kind, 0) for kind in KINDS},
            "failures": self.failures,
        }


@dataclass(frozen=True, slots=True)
class Histogram:
    """The buckets of a ``Grid`` with their counts, oldest first."""

    grid: Grid
    buckets: tuple[Bucket, ...]

    @classmethod
    def of(cls, grid: Grid, counts: Sequence[Counts]) -> Histogram:
        edges = grid.edges()
        if len(counts) != len(edges) - 1:
            raise ValueError(f"{len(counts)} counts for {len(edges) - 1} buckets")
        buckets = tuple(
            Bucket(
                edges[i],
                edges[i + 1],
                {kind: c.by_kind.get(kind, 0) for kind in KINDS},
                c.failures,
            )
            for i, c in enumerate(counts)
        )
        return cls(grid, buckets)

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    @property
    def width_seconds(self) -> int:
        return self.grid.width // 1_000_000

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": format_timestamp(self.grid.since),
            "until": format_timestamp(self.grid.until),
            "interval": self.width_seconds,
            "total": self.total,
            "buckets": [b.to_dict() for b in self.buckets],
        }
