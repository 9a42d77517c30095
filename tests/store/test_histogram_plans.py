"""The timeline's plans (issue 15): a histogram without filters never reads the table.

Whole UTC days come from ``event_day_counts`` (migration 0012), one range of
its key (tenant, day, …) per bucket; the hours beside them from
``event_counts``, one key range per bucket, kind and outcome; only a clipped
first and last hour from ``events``.

On the skewed history of plans.py, on both engines: ``EventStore.histogram``
over the whole span with no filter (the tenant admin's default timeline) is
counted from ``events_by_kind`` and ``events_by_outcome`` alone — index-only
reads (SQLite's COVERING INDEX, PostgreSQL's Index Only Scan), each bounded by
tenant, kind or outcome and time, nothing read whole and nothing sorted. With
kinds only, the kinds are still counted in the index and only failed rows are
looked up (for their kind). With any other filter it reads the matches once,
through the indexes that count them for ``count`` (the plan_cases.py
expectations).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from sealtrail.events import from_micros
from sealtrail.limits import KINDS, OUTCOMES
from sealtrail.query import EventQuery, Field, Term, TimeRange, parse_phrase
from sealtrail.store.base import EventStore
from sealtrail.store.sql import whole_hours
from sealtrail.timeline import HOUR, MINUTE, Counts, Grid

from .plan_cases import CASES, Case
from .plans import DAY, SPAN, START, TENANT, Plan, V
from .test_query_plans import Engine, check_count, engine

__all__ = ["engine"]  # the module-scoped history on each engine

pytestmark = pytest.mark.xdist_group("query_plans")

GRID = Grid.over(START, START + SPAN + DAY, 60)
KIND_INDEXES = {"events_by_kind", "events_by_outcome"}


def histogram(query: EventQuery) -> Callable[[EventStore], list[Counts]]:
    def run(store: EventStore) -> list[Counts]:
        return store.histogram(TENANT, query, GRID)

    return run


def table_reads(plan: Plan) -> list[str]:
    """The indexes whose entries lead to rows of the table (an index-only read leads nowhere)."""
    if plan.engine == "sqlite":
        lines = [line for line in plan.text.splitlines() if " events USING " in line]
        assert lines, plan
        return [line.split(" INDEX ")[1].split()[0] for line in lines if "COVERING" not in line]
    nodes = _nodes(json.loads(plan.text))
    reads = [n for n in nodes if n.get("Index Name") or str(n["Node Type"]).endswith("Heap Scan")]
    assert reads, plan
    return [
        str(n.get("Index Name", n["Node Type"]))
        for n in reads
        if n["Node Type"] != "Index Only Scan"
    ]


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    children = node.get("Plans", [])
    assert isinstance(children, list)
    return [node, *(n for child in children for n in _nodes(child))]


def counts_reads(engine: Engine) -> list[tuple[str, Any, str]]:
    """Each captured statement that reads event_counts, event_day_counts or
    actor_day_counts, its parameters and its plan as the engine prints it."""
    found = []
    statements = list(engine.captured.statements)  # before this module's EXPLAINs add to them
    for sql, params in statements:
        if not re.match(
            r"\s*SELECT\b.*\b(FROM|JOIN) (event_counts|event_day_counts|actor_day_counts)\b", sql
        ):
            continue
        connection = engine.explain.connection  # type: ignore[attr-defined]
        if engine.name == "sqlite":
            rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            found.append((sql, params, "\n".join(str(r[3]) for r in rows)))
        else:
            # The test's event_counts is a few thousand rows, which PostgreSQL rightly
            # reads whole; what is checked is that its key bounds the read by tenant and
            # hour, as it will once the table holds many tenants' years.
            connection.execute("SET enable_seqscan = off")
            try:
                row = connection.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
            finally:
                connection.execute("RESET enable_seqscan")
            found.append((sql, params, json.dumps(row[0])))
    return found


@pytest.mark.parametrize("phrase", ["", "kind:delete", "-kind:access", "outcome:failure"])
def test_a_timeline_of_whole_days_reads_the_day_counts_not_the_events(
    engine: Engine, phrase: str
) -> None:
    """A grid of whole days (the span here starts at midnight, 2-day buckets) with no
    filter but kind and outcome is summed from event_day_counts alone: one range of its
    primary key (tenant, day, …) for the whole grid, every kind and outcome at once,
    grouped by bucket (no more than days x kinds x outcomes rows). No statement reads
    events, nor the hours of event_counts."""
    query = parse_phrase(phrase) if phrase else EventQuery()
    assert whole_hours(GRID) == (GRID.since, GRID.until)
    assert GRID.width % DAY == 0 and GRID.since % DAY == 0 and GRID.until % DAY == 0
    engine.captured.clear()
    counts = engine.store.histogram(TENANT, query, GRID)
    assert not engine.captured.reads(), engine.captured.reads()
    reads = counts_reads(engine)
    assert len(reads) == 1, engine.captured.statements
    sql, _params, plan = reads[0]
    assert "event_counts" not in sql, sql
    assert sum(c.count for c in counts) == engine.matches(query)
    _reads_one_range_of_day_counts(engine, plan)


def test_a_timeline_of_hours_reads_the_hour_counts(engine: Engine) -> None:
    """Buckets shorter than a day (12 hours over a month, the viewer's default range)
    hold no whole day: each bucket's hours are summed from event_counts, one range of
    its primary key (tenant, kind, outcome, hour) per bucket, kind and outcome, nothing
    sorted; events are not read."""
    grid = Grid.over(START + 10 * DAY, START + 40 * DAY, 60)
    assert grid.width == 12 * HOUR
    engine.captured.clear()
    counts = engine.store.histogram(TENANT, EventQuery(), grid)
    assert not engine.captured.reads(), engine.captured.reads()
    ((sql, _params, plan),) = counts_reads(engine)
    assert "event_day_counts" not in sql, sql
    assert sum(c.count for c in counts) == engine.matches(
        EventQuery(time=TimeRange(from_micros(grid.since), from_micros(grid.until)))
    )
    if engine.name == "sqlite":
        searches = [line for line in plan.splitlines() if "event_counts" in line]
        assert searches == [
            "SEARCH event_counts USING PRIMARY KEY"
            " (tenant_id=? AND kind=? AND outcome=? AND hour>? AND hour<?)"
        ], plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        nodes = _nodes(json.loads(plan)[0]["Plan"])
        indexed = [n for n in nodes if "Index Name" in n]
        assert indexed and all(n["Index Name"] == "event_counts_pkey" for n in indexed), plan
        assert all(
            all(column in n["Index Cond"] for column in ("tenant_id", "kind", "outcome", "hour"))
            for n in indexed
        ), plan
        assert not any(n["Node Type"] == "Seq Scan" for n in nodes), plan


def test_a_timeline_off_the_hour_reads_only_its_clipped_hours_in_events(engine: Engine) -> None:
    """Since and until anywhere within an hour: the whole days between come from
    event_day_counts, the hours of the first and last day beside them from
    event_counts, and events are read only in [since, next hour) and [last hour,
    until), through the (tenant, time) index."""
    grid = Grid.over(START + 17 * MINUTE + 3, START + SPAN - 40 * MINUTE - 7, 60)
    engine.captured.clear()
    counts = engine.store.histogram(TENANT, EventQuery(), grid)
    reads = engine.captured.reads()
    ((sql, _params, _plan),) = counts_reads(engine)
    assert "event_day_counts" in sql and "FROM event_counts" in sql, sql
    assert len(reads) == 1  # the same statement: the counts and the two clipped hours
    plan = engine.explain(*reads[0])
    assert sum(c.count for c in counts) == engine.matches(
        EventQuery(time=TimeRange(from_micros(grid.since), from_micros(grid.until)))
    )
    assert not plan.whole and not plan.untenanted, plan
    counted = {"event_counts_pkey", "event_day_counts_pkey", "event_counts", "event_day_counts"}
    on_events = [(i, c) for i, c in zip(plan.indexes, plan.conds, strict=True) if i not in counted]
    assert [i for i, _ in on_events] == ["events_by_time", "events_by_time"], plan
    assert all("occurred_at" in cond for _, cond in on_events), plan


LEAVES_NOTHING_OUT = Term(Field.ACCOUNT_ID, ("no-such-account",), negate=True)
WHOLE_DAY_COUNTS = {
    "everything": EventQuery(),
    "seed_since": next(c.query for c in CASES if c.name == "seed_since"),  # open until
    "whole_days": EventQuery(time=TimeRange(from_micros(START + DAY), from_micros(START + SPAN))),
}


@pytest.mark.parametrize("name", sorted(WHOLE_DAY_COUNTS))
def test_an_exact_count_of_whole_days_reads_the_day_counts_not_the_events(
    engine: Engine, name: str
) -> None:
    """A count with no term but time (the seed endpoint's exact total, a capped total,
    the admin's count of everything) is summed as the timeline is: a range on whole
    days, or none, is one range of event_day_counts' key (tenant, day, …); events are
    not read, however many the tenant holds."""
    query = WHOLE_DAY_COUNTS[name]
    assert not query.terms
    engine.captured.clear()
    total = engine.store.count(TENANT, query, cap=None)
    assert not engine.captured.reads(), engine.captured.reads()
    ((sql, _params, plan),) = counts_reads(engine)
    assert "event_counts" not in sql, sql
    assert total == engine.matches(EventQuery((LEAVES_NOTHING_OUT,), query.time)) > 0
    _reads_one_range_of_day_counts(engine, plan)


def test_an_exact_count_off_the_hour_reads_only_its_clipped_hours_in_events(
    engine: Engine,
) -> None:
    """A range with since and until inside an hour (the bench's 30-day windows): whole
    days from event_day_counts, the hours beside them from event_counts, and events
    only in the two clipped hours, through the (tenant, time) index — one statement;
    the capped total a search adds is the same statement."""
    span = TimeRange(
        from_micros(START + 17 * MINUTE + 3), from_micros(START + SPAN - 40 * MINUTE - 7)
    )
    want = engine.matches(EventQuery((LEAVES_NOTHING_OUT,), span))
    for cap in (None, want, want - 1):
        engine.captured.clear()
        total = engine.store.count(TENANT, EventQuery(time=span), cap=cap)
        assert total == (want if cap is None or want <= cap else None)
        reads = engine.captured.reads()
        ((sql, _params, _plan),) = counts_reads(engine)
        assert "event_day_counts" in sql and "FROM event_counts" in sql, sql
        assert len(reads) == 1  # the same statement: the counts and the two clipped hours
        plan = engine.explain(*reads[0])
        assert not plan.whole and not plan.untenanted, plan
        counted = {"event_counts_pkey", "event_day_counts_pkey", "event_counts", "event_day_counts"}
        on_events = [
            (i, c) for i, c in zip(plan.indexes, plan.conds, strict=True) if i not in counted
        ]
        assert [i for i, _ in on_events] == ["events_by_time", "events_by_time"], plan
        assert all("occurred_at" in cond for _, cond in on_events), plan


@pytest.mark.parametrize("actor", [V.common_actor, V.rare_actor])
def test_an_exact_count_of_one_actor_reads_its_day_counts_and_its_clipped_days(
    engine: Engine, actor: str
) -> None:
    """The seed endpoint's exact total of one actor, and the capped total a search adds:
    its whole days summed from actor_day_counts (one range of its key: tenant, actor,
    day), and events read only in the clipped first and last day, through
    events_by_actor_id bounded by time — one statement, however many events the actor
    made (the common actor made half the tenant's)."""
    span = TimeRange(from_micros(START + 5 * HOUR + 3), from_micros(START + SPAN - 7 * HOUR - 1))
    one = Term(Field.ACTOR_ID, (actor,))
    want = engine.matches(EventQuery((one, LEAVES_NOTHING_OUT), span))
    assert want > 0
    for cap in (None, want, want - 1):
        engine.captured.clear()
        total = engine.store.count(TENANT, EventQuery((one,), span), cap=cap)
        assert total == (want if cap is None or want <= cap else None)
        reads = engine.captured.reads()
        ((sql, _params, summed),) = counts_reads(engine)
        assert "FROM actor_day_counts" in sql and len(reads) == 1, reads
        # Its key bounds the read (SQLite: the WITHOUT ROWID table's own b-tree).
        assert "actor_day_counts_pkey" in summed or "actor_day_counts USING PRIMARY KEY" in summed
        plan = engine.explain(*reads[0])
        assert not plan.whole and not plan.untenanted and not plan.sorts, plan
        on_events = [
            (i, c)
            for i, c in zip(plan.indexes, plan.conds, strict=True)
            if i != "actor_day_counts_pkey"
        ]
        assert [i for i, _ in on_events] == ["events_by_actor_id"] * 2, plan
        assert all("occurred_at" in cond for _, cond in on_events), plan


def test_the_counts_read_do_not_grow_with_the_events(engine: Engine) -> None:
    """What the day rollup reads is bounded by days x kinds x outcomes: the primary key
    (tenant, day, kind, outcome) holds one row per key however many events it counts.
    The rows the statement reads are exactly the tenant's rows in the grid's days,
    several times fewer than its rows of event_counts in the same hours (what the
    timeline read before 0012), and fewer than its events."""
    engine.captured.clear()
    engine.store.histogram(TENANT, EventQuery(), GRID)
    ((sql, params, _plan),) = counts_reads(engine)
    connection = engine.explain.connection  # type: ignore[attr-defined]
    mark = "?" if engine.name == "sqlite" else "%s"
    between = f"WHERE tenant_id = {mark} AND {{0}} >= {mark} AND {{0}} < {mark}"
    (days,) = connection.execute(
        f"SELECT count(*) FROM event_day_counts {between.format('day')}",
        (TENANT, GRID.since, GRID.until),
    ).fetchone()
    (hours,) = connection.execute(
        f"SELECT count(*) FROM event_counts {between.format('hour')}",
        (TENANT, GRID.since, GRID.until),
    ).fetchone()
    assert days <= (GRID.until - GRID.since) // DAY * len(KINDS) * len(OUTCOMES)
    assert 5 * days < hours, (days, hours)  # this history: ~10 events per (day, kind, outcome)
    assert days < engine.matches(EventQuery())
    if engine.name == "postgres":
        # As counts_reads: a small table is rightly read whole; the key must bound it.
        connection.execute("SET enable_seqscan = off")
        try:
            row = connection.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).fetchone()
        finally:
            connection.execute("RESET enable_seqscan")
        nodes = _nodes(row[0][0]["Plan"])
        (scan,) = [n for n in nodes if n.get("Relation Name") == "event_day_counts"]
        # One range of the key for the grid's days: its rows read, no more.
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"), scan
        assert scan["Actual Loops"] == 1 and scan["Actual Rows"] == days, scan


def test_the_viewers_default_timeline_counts_its_hidden_reads_through_their_index(
    engine: Engine,
) -> None:
    """The viewer leaves out Sealtrail's own reads (``-action:audit_log.viewed,…``): the
    rest is summed from event_counts, less those actions' few events, read through the
    action index."""
    hidden = Term(Field.ACTION, (V.rare_action, "audit_log.viewed"), negate=True)
    query = EventQuery((hidden,))
    engine.captured.clear()
    counts, plans = engine.run_search(histogram(query))
    assert sum(c.count for c in counts) == engine.matches(query)
    assert len(counts_reads(engine)) == 1
    less = [p for p in plans if "GROUP BY" in p.sql]  # beside it, SQLite's capped count
    assert len(less) == 1, [p.sql for p in plans]
    for plan in plans:
        assert not plan.whole, f"reads {plan.whole} whole:\n{plan}"
        assert not plan.untenanted, plan
    assert set(less[0].indexes) - {"rowid"} == {"events_by_action"}, less[0]


def test_index_only_counts_remain_for_sub_hour_buckets(engine: Engine) -> None:
    """Minutes over a short range are not whole hours: the kinds are counted from the
    indexes alone, as before the aggregate."""
    grid = Grid.over(START + DAY, START + DAY + 2 * HOUR, 60)
    assert grid.width < HOUR and whole_hours(grid) is None
    counts, plans = engine.run_search(lambda store: store.histogram(TENANT, EventQuery(), grid))
    assert len(plans) == 1
    assert set(plans[0].indexes) == KIND_INDEXES, plans[0]
    assert not table_reads(plans[0]), plans[0]
    assert sum(c.count for c in counts) == engine.matches(
        EventQuery(time=TimeRange(from_micros(grid.since), from_micros(grid.until)))
    )


FILTERED = [
    c
    for c in CASES
    if c.name.endswith("_rare")
    and not c.seed
    and c.sqlite_gap is None
    and any(t.field is not Field.KIND for t in c.query.terms)
]


@pytest.mark.parametrize("case", FILTERED, ids=[c.name for c in FILTERED])
def test_a_filtered_timeline_reads_through_the_filters_index(
    engine: Engine, case: Case, request: pytest.FixtureRequest
) -> None:
    want = case.on(engine.name, request)
    found = engine.matches(EventQuery(case.query.terms))
    counts, plans = engine.run_search(histogram(case.query))
    assert sum(c.count for c in counts) == found
    grouped = [p for p in plans if "GROUP BY" in p.sql]
    assert len(grouped) == 1, [p.sql for p in plans]  # beside it, SQLite's capped count
    for plan in plans:
        check_count(plan, want, found)


def _reads_one_range_of_day_counts(engine: Engine, plan: str) -> None:
    """The plan reads event_day_counts alone, through one range of its primary key
    (tenant, day, …)."""
    if engine.name == "sqlite":
        searches = [line for line in plan.splitlines() if "event_day_counts" in line]
        assert searches == [
            "SEARCH event_day_counts USING PRIMARY KEY (tenant_id=? AND day>? AND day<?)"
        ], plan
        return
    nodes = _nodes(json.loads(plan)[0]["Plan"])
    assert {n["Relation Name"] for n in nodes if "Relation Name" in n} == {"event_day_counts"}, plan
    (index,) = [n for n in nodes if "Index Name" in n]  # an index scan, or a bitmap's
    assert index["Index Name"] == "event_day_counts_pkey", plan
    assert all(column in index["Index Cond"] for column in ("tenant_id", "day")), plan
