"""Timeline latency (``GET /v1/events/histogram``) on the cached dataset (``bench.dataset``).

Each case runs ``RUNS`` times against the big tenant through
``SQLiteStore.histogram`` with the grid ``AuditLog.histogram`` would pick for
60 buckets: the whole year with no filter (the tenant admin's full timeline:
every event of the tenant counted), a 30-day window (the viewer's default
range) at a different place each run, and the year under a few filters. The
baseline is the cheapest exact answer to a coarser question, timed in the same
run: one ``count(*)`` of the same year (the tenant's whole (tenant, time) index
range), so the ratio says what splitting that count into buckets by kind and
failures costs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final

from bench import data
from bench.dataset import Dataset
from bench.report import Figure, Run, median, percentile
from sealtrail.events import from_micros
from sealtrail.query import EventQuery, TimeRange, query_from_params
from sealtrail.store.sqlite import SQLiteStore
from sealtrail.timeline import Grid

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


def _over(
    store: SQLiteStore, tenant: str, query: EventQuery, grid: Grid
) -> Callable[[int], object]:
    return lambda _n: store.histogram(tenant, query, grid)


def run(report: Run, dataset: Dataset, *, section: str = "histogram") -> None:
    store = SQLiteStore(dataset.url)
    tenant = dataset.big.tenant_id
    until = data.ANCHOR_US
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

        def month(n: int) -> object:
            start = since + windows[n] * data.DAY_US + rng.randrange(data.DAY_US)
            return store.histogram(
                tenant, EventQuery(), Grid.over(start, start + 30 * data.DAY_US, BUCKETS)
            )

        pop = dataset.big.population
        cases: list[tuple[str, Callable[[int], object], bool]] = [
            ("a year, no filter", lambda n: store.histogram(tenant, EventQuery(), year), True),
            ("30 days, no filter (moving window)", month, True),
        ]
        for label, params in (
            ("a year, kind=delete", {"kind": ["delete"]}),
            ("a year, outcome=failure", {"outcome": ["failure"]}),
            ("a year, action=member.*", {"action": ["member.*"]}),
            ("a year, a hot actor", {"actor_id": [pop.actors[0]["id"]]}),
            ("a year, one account", {"account_id": [pop.accounts[0]]}),
        ):
            cases.append((label, _over(store, tenant, query_from_params(params)[0], year), False))
        for label, work, targeted in cases:
            p50, p95 = _timed(work)
            report.add(
                [
                    Figure(
                        section,
                        f"histogram, {label}",
                        p95,
                        "ms",
                        baseline=base95,
                        baseline_name=baseline,
                        detail=f"p50 {p50:.1f} ms",
                        target=f"p95 ≤ {TARGET_MS:.0f} ms" if targeted else "",
                        passed=p95 <= TARGET_MS if targeted else None,
                    )
                ]
            )
    finally:
        store.close()
