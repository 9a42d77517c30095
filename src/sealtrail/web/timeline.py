"""The viewer's timeline: a ``Histogram`` as the bars, labels and table the page draws.

Drawn on the server as inline SVG (no script needed to see it): one column per
bucket, stacked by kind in the badges' colours, a red tick over a column that
holds failures, and each column a link to the page narrowed to its bucket.
The same numbers are in a table beside it (for screen readers, and anyone who
wants the figures); ``static/timeline.js`` adds narrowing by dragging across
columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from sealtrail.events import format_timestamp
from sealtrail.limits import KINDS
from sealtrail.timeline import DAY, HOUR, MINUTE, Bucket, Histogram
from sealtrail.web.filters import Filters
from sealtrail.web.rows import KIND_LABELS

BUCKETS: Final = 60
"""Columns the viewer asks for (the API's default too)."""
COLUMN: Final = 10  # SVG units per bucket; the drawing is scaled to the page's width
BAR: Final = 8
HEIGHT: Final = 100
TICK: Final = 6  # room above the tallest column for the failure mark


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Column:
    x: int
    start: str  # RFC 3339, UTC
    end: str
    label: str  # "2026-03-01 00:00–06:00 UTC"
    count: int
    failures: int
    by_kind: dict[str, int]
    segments: tuple[Segment, ...]
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Timeline:
    columns: tuple[Column, ...]
    total: int
    width_label: str  # "6 hours"
    since_label: str
    until_label: str
    busiest: Column | None
    view_width: int
    view_height: int = HEIGHT + TICK
    kinds: tuple[tuple[str, str], ...] = tuple(KIND_LABELS.items())

    @property
    def failures(self) -> int:
        return sum(c.failures for c in self.columns)


def _stamp(micros: int) -> str:
    return format_timestamp(micros).replace(".000000Z", "Z")


def _shown(micros: int, width: int) -> str:
    text = format_timestamp(micros)
    if width >= DAY and text[11:19] == "00:00:00":
        return text[:10]
    return f"{text[:10]} {text[11:16]}"


def _width_label(width: int) -> str:
    for unit, name in ((7 * DAY, "week"), (DAY, "day"), (HOUR, "hour"), (MINUTE, "minute")):
        if width % unit == 0:
            n = width // unit
            return f"{n} {name}" if n == 1 else f"{n} {name}s"
    return f"{width // 1_000_000} seconds"  # pragma: no cover - every width is whole minutes


def _range_label(bucket: Bucket) -> str:
    """``2026-03-01 UTC`` for a whole day, else ``2026-03-01 06:00–12:00 UTC`` (or with
    both dates when the bucket spans midnight)."""
    start, end = format_timestamp(bucket.start), format_timestamp(bucket.end)
    if bucket.end - bucket.start == DAY and start[11:19] == "00:00:00":
        return f"{start[:10]} UTC"
    first = f"{start[:10]} {start[11:16]}"
    if start[:10] == end[:10]:
        return f"{first}–{end[11:16]} UTC"
    return f"{first} – {end[:10]} {end[11:16]} UTC"


def _column(index: int, bucket: Bucket, width: int, scale: float, filters: Filters) -> Column:
    segments: list[Segment] = []
    top = float(HEIGHT + TICK)
    for kind in KINDS:
        n = bucket.by_kind.get(kind, 0)
        if not n:
            continue
        height = max(n * scale, 1.5)
        top -= height
        segments.append(Segment(kind, round(top, 2), round(height, 2)))
    label = _range_label(bucket)
    parts = [f"{n:,} {KIND_LABELS[k].lower()}" for k in KINDS if (n := bucket.by_kind.get(k, 0))]
    failed = f", {bucket.failures:,} failed" if bucket.failures else ""
    events = "1 event" if bucket.count == 1 else f"{bucket.count:,} events"
    title = f"{label}: {events}{failed}" + (f" ({', '.join(parts)})" if parts else "")
    start, end = _stamp(bucket.start), _stamp(bucket.end)
    return Column(
        x=index * COLUMN,
        start=start,
        end=end,
        label=label,
        count=bucket.count,
        failures=bucket.failures,
        by_kind={k: bucket.by_kind.get(k, 0) for k in KINDS},
        segments=tuple(segments),
        url=replace(filters, since=start, until=end).url(),
        title=title,
    )


def build(histogram: Histogram, filters: Filters) -> Timeline:
    width = histogram.grid.width
    tallest = max((b.count for b in histogram.buckets), default=0)
    scale = HEIGHT / tallest if tallest else 0.0
    columns = tuple(_column(i, b, width, scale, filters) for i, b in enumerate(histogram.buckets))
    busiest = max(columns, key=lambda c: c.count) if tallest else None
    return Timeline(
        columns=columns,
        total=histogram.total,
        width_label=_width_label(width),
        since_label=_shown(histogram.grid.since, width),
        until_label=_shown(histogram.grid.until, width),
        busiest=busiest,
        view_width=len(columns) * COLUMN,
    )


__all__ = ["BUCKETS", "Column", "Segment", "Timeline", "build"]
