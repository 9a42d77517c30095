"""The viewer's timeline drawing: columns stacked by kind, failure ticks, links, labels."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sealtrail.events import parse_timestamp
from sealtrail.timeline import DAY, HOUR, Counts, Grid, Histogram
from sealtrail.web.filters import Filters
from sealtrail.web.timeline import HEIGHT, TICK, build

T0 = parse_timestamp("2026-03-01T00:00:00Z")


def test_columns_stack_by_kind_and_link_to_their_range() -> None:
    grid = Grid.over(T0, T0 + 3 * DAY - 6 * HOUR, 3)
    assert grid.width == DAY
    found = Histogram.of(
        grid,
        [Counts({"create": 2, "delete": 2}, 1), Counts(), Counts({"access": 1})],
    )
    filters = Filters(since="2026-03-01", kind="delete", actor="ann@example.com")
    chart = build(found, filters)
    assert chart.total == 5 and chart.failures == 1 and chart.width_label == "1 day"
    first, empty, last = chart.columns
    assert [s.kind for s in first.segments] == ["create", "delete"]
    assert sum(s.height for s in first.segments) == HEIGHT  # the tallest fills the chart
    assert first.segments[-1].y == TICK  # stacked upwards from the bottom
    assert empty.segments == () and empty.count == 0
    assert last.segments[0].height == HEIGHT / 4
    assert first.label == "2026-03-01 UTC"
    assert last.label == "2026-03-03 00:00–18:00 UTC"  # clipped at the range's end
    assert first.title == "2026-03-01 UTC: 4 events, 1 failed (2 create, 2 delete)"
    query = parse_qs(urlparse(first.url).query)
    assert query["since"] == ["2026-03-01T00:00:00Z"] and query["until"] == ["2026-03-02T00:00:00Z"]
    assert query["kind"] == ["delete"] and query["actor"] == ["ann@example.com"]
    assert chart.busiest is first


def test_an_empty_range_draws_no_bars() -> None:
    chart = build(Histogram.of(Grid.over(T0, T0 + DAY, 24), [Counts()] * 24), Filters())
    assert chart.total == 0 and chart.busiest is None
    assert all(not c.segments for c in chart.columns)
    assert chart.view_width == 24 * 10
