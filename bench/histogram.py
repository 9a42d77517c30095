"""Timeline latency (``GET /v1/events/histogram``) on the cached dataset (``bench.dataset``).

Each case runs ``RUNS`` times against the big tenant through
``SQLiteStore.histogram`` with the grid ``AuditLog.histogram`` would pick for
60 buckets: the whole year with no filter (the tenant admin's full timeline:
every event of the tenant counted), a 30-day window (the viewer's default
range) at a different place each run, and the year under a few filters. The
year and the 30 days, and the year of one kind or of failures, are served by
the pre-aggregates (the year's whole days from ``event_day_counts``,
migration 0012; other whole hours from ``event_counts``, migration 0011; the
clipped first and last hour counted in events); the other filters keep
reading the events. Three baselines, timed in the same run: one ``count(*)``
of the same year (the tenant's whole (tenant, time) index range), and, run
by run interleaved with each aggregate-served case, the paths that answered
it before 0012 (``before_0012``: every whole hour summed from
``event_counts``) and before 0011 (``before_0011``: index-only counts per
kind and bucket, or the matches grouped), so each ratio is a gain on the
same data at the same moment.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from typing import Any, Final
from unittest import mock

from bench import data
from bench.dataset import Dataset
from bench.report import Figure, Run, median, percentile
from sealtrail.events import from_micros
from sealtrail.query import EventQuery, Field, TimeRange, query_from_params
from sealtrail.store import sql
from sealtrail.store.sql import SQLStore, whole_hours
from sealtrail.store.sqlite import SQLiteStore
from sealtrail.timeline import Counts, Grid

RUNS: Final = 30
WARMUP: Final = 3
TARGET_MS: Final = 50.0
BUCKETS: Final = 60


def _timed(work: Callable[[int], object]) -> tuple[float, float]:
    for n in range(WARMUP):
        work(n)
    timings = []
    for n in range(RUNS):
        started = time.perf_counter()
        work(n)
        timings.append((time.perf_counter() - started) * 1000)
    return median(timings), percentile(timings, 0.95)


def _interleaved(*works: Callable[[int], object]) -> list[tuple[float, float]]:
    """``works`` run by run in turn: (p50, p95) of each, in ms.

    Each run takes the next of every order of ``works``: the first to read a run's
    grid (the 30 days move) reads its clipped hours' pages cold, and the one after
    the index path before 0011 finds the connection's page cache full of its
    pages; every path gets each place and each predecessor equally often.
    """
    for n in range(WARMUP):
        for work in works:
            work(n)
    timings: list[list[float]] = [[] for _ in works]
    turns = list(zip(works, timings, strict=True))
    orders = list(itertools.permutations(turns))
    for n in range(RUNS):
        for timed, measured in orders[n % len(orders)]:
            started = time.perf_counter()
            timed(n)
            measured.append((time.perf_counter() - started) * 1000)
    return [(median(t), percentile(t, 0.95)) for t in timings]


def before_0012(store: SQLStore[Any], tenant: str, query: EventQuery, grid: Grid) -> list[Counts]:
    """The histogram as the store answered it before the day rollup (migration 0012):
    every whole hour summed from ``event_counts``, per bucket, kind and outcome."""
    with mock.patch.object(sql, "whole_days", return_value=None):
        return store.histogram(tenant, query, grid)


def before_0011(store: SQLStore[Any], tenant: str, query: EventQuery, grid: Grid) -> list[Counts]:
    """The histogram as the store answered it before the pre-aggregate (migration 0011):
    kinds counted from the (tenant, kind, time) and (tenant, outcome, time) indexes
    alone when the only filters are kinds, else the matches read and grouped."""
    if all(t.field is Field.KIND for t in query.terms):
        return store._read(lambda c: store._counted_histogram(c, tenant, query, grid))
    time_index = store._time_drives_histogram(tenant, query)
    return store._read(lambda c: store._grouped_histogram(c, tenant, query, grid, time_index))


def _over(
    store: SQLiteStore, tenant: str, query: EventQuery, grid: Grid
) -> Callable[[int], object]:
    return lambda _n: store.histogram(tenant, query, grid)


def run(
    report: Run, dataset: Dataset, *, section: str = "histogram", other_filters: bool = True
) -> None:
    """The cases above; ``other_filters=False`` leaves out the filters the aggregate does
    not serve (their path did not change; at 10 M each takes minutes per case)."""
    store = SQLiteStore(dataset.url)
    tenant = dataset.big.tenant_id
    # Off the hour, as a "last 365 days" asked at any moment is: the clipped first and
    # last hour are counted in events, the hours of the first and last day from
    # event_counts, the whole days between from event_day_counts.
    until = data.ANCHOR_US - 17 * 60_000_000 - 3_000_017
    since = until - 365 * data.DAY_US
    year = Grid.over(since, until, BUCKETS)
    report.note(
        section,
        f"EventStore.histogram over tenant {tenant} ({dataset.big.events:,} events in 365 days), "
        f"{BUCKETS} buckets asked for (a year: {year.size} buckets of "
        f"{year.width // data.DAY_US} days); p50/p95 over {RUNS} runs.",
    )
    try:
        whole = EventQuery(time=TimeRange(from_micros(since), from_micros(until)))
        base50, base95 = _timed(lambda n: store.count(tenant, whole, cap=None))
        baseline = "count(*) of the same year p95"
        report.add(
            [
                Figure(
                    section,
                    "count(*) of the year (baseline)",
                    base95,
                    "ms",
                    detail=f"p50 {base50:.1f} ms",
                )
            ]
        )
        rng = random.Random(f"{dataset.seed}:histogram")
        windows = [rng.randrange(365 - 30) for _ in range(RUNS + WARMUP)]
        starts = [since + w * data.DAY_US + rng.randrange(data.DAY_US) for w in windows]

        def month_grid(n: int) -> Grid:
            return Grid.over(starts[n], starts[n] + 30 * data.DAY_US, BUCKETS)

        pop = dataset.big.population
        served: list[tuple[str, EventQuery, Callable[[int], Grid]]] = [
            ("a year, no filter", EventQuery(), lambda _n: year),
            ("30 days, no filter (moving window)", EventQuery(), month_grid),
            ("a year, kind=delete", query_from_params({"kind": ["delete"]})[0], lambda _n: year),
            (
                "a year, outcome=failure",
                query_from_params({"outcome": ["failure"]})[0],
                lambda _n: year,
            ),
        ]
        for label, query, grid_of in served:
            assert whole_hours(grid_of(0)) is not None, label

            def work(
                n: int, query: EventQuery = query, grid_of: Callable[[int], Grid] = grid_of
            ) -> object:
                return store.histogram(tenant, query, grid_of(n))

            def hours(
                n: int, query: EventQuery = query, grid_of: Callable[[int], Grid] = grid_of
            ) -> object:
                return before_0012(store, tenant, query, grid_of(n))

            def old(
                n: int, query: EventQuery = query, grid_of: Callable[[int], Grid] = grid_of
            ) -> object:
                return before_0011(store, tenant, query, grid_of(n))

            assert work(0) == hours(0) == old(0), label  # the same answer every way
            (p50, p95), (hours50, hours95), (old50, old95) = _interleaved(work, hours, old)
            report.add(
                [
                    Figure(
                        section,
                        f"histogram, {label} (before 0011: index path)",
                        old95,
                        "ms",
                        baseline=base95,
                        baseline_name=baseline,
                        detail=f"p50 {old50:.1f} ms",
                    ),
                    Figure(
                        section,
                        f"histogram, {label} (before 0012: hours only)",
                        hours95,
                        "ms",
                        baseline=old95,
                        baseline_name="the index path before 0011, interleaved, p95",
                        detail=f"p50 {hours50:.1f} ms",
                    ),
                    Figure(
                        section,
                        f"histogram, {label}",
                        p95,
                        "ms",
                        baseline=hours95,
                        baseline_name="hours only (before 0012), interleaved, p95",
                        detail=(
                            f"p50 {p50:.1f} ms (before 0012: p50 {hours50:.1f} ms;"
                            f" before 0011: p50 {old50:.1f} ms)"
                        ),
                        target=f"p95 ≤ {TARGET_MS:.0f} ms",
                        passed=p95 <= TARGET_MS,
                    ),
                ]
            )
        others = (
            ("a year, action=member.*", {"action": ["member.*"]}),
            ("a year, a hot actor", {"actor_id": [pop.actors[0]["id"]]}),
            ("a year, one account", {"account_id": [pop.accounts[0]]}),
        )
        if not other_filters:
            report.note(section, "The filters the counts do not serve were not run here.")
        for label, params in others if other_filters else ():
            query = query_from_params(params)[0]
            p50, p95 = _timed(_over(store, tenant, query, year))
            report.add(
                [
                    Figure(
                        section,
                        f"histogram, {label} (index path)",
                        p95,
                        "ms",
                        baseline=base95,
                        baseline_name=baseline,
                        detail=f"p50 {p50:.1f} ms",
                    )
                ]
            )
    finally:
        store.close()
