"""PostgreSQL: month partitions on occurred_at, made ahead, with a default for the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest

from sealtrail.events import Actor, Resource, to_micros
from sealtrail.query import EventQuery, Page, TimeRange, query_from_params
from sealtrail.store.postgres import PostgresStore

from .factory import add_tenant, append, make_event

pytestmark = pytest.mark.postgres


def _month(offset: int) -> date:
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def _partition(month: date) -> str:
    return f"events_{month:%Y_%m}"


def _partitions(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'events'::regclass"
        ).fetchall()
    return {r[0] for r in rows}


def _home(url: str, tenant_id: str, event_id: str) -> str:
    """The partition an event's row lives in."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT tableoid::regclass::text FROM events WHERE tenant_id = %s AND id = %s",
            (tenant_id, event_id),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _micros(year: int, month: int, day: int = 1) -> int:
    return to_micros(datetime(year, month, day, tzinfo=UTC))


def test_migrate_creates_last_this_and_next_months_and_a_default(
    pg: PostgresStore, postgres_url: str
) -> None:
    expected = {_partition(_month(i)) for i in range(-1, 4)} | {"events_default"}
    assert _partitions(postgres_url) == expected


def test_bounds_are_utc_month_starts_in_microseconds(pg: PostgresStore, postgres_url: str) -> None:
    month = _month(0)
    with psycopg.connect(postgres_url) as connection:
        bound = connection.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s",
            (_partition(month),),
        ).fetchone()
    following = _month(1)
    low = _micros(month.year, month.month)
    high = _micros(following.year, following.month)
    assert bound == (f"FOR VALUES FROM ('{low}') TO ('{high}')",)


def test_events_far_in_the_past_or_future_land_in_the_default_partition(
    pg: PostgresStore, postgres_url: str
) -> None:
    add_tenant(pg)
    now = to_micros(datetime.now(UTC))
    append(
        pg,
        "acme",
        make_event("acme", "ancient", occurred_at=_micros(1990, 1)),
        make_event("acme", "now", occurred_at=now),
        make_event("acme", "future", occurred_at=_micros(2100, 6)),
        make_event("acme", "before-epoch", occurred_at=-1),
    )
    assert _home(postgres_url, "acme", "ancient") == "events_default"
    assert _home(postgres_url, "acme", "future") == "events_default"
    assert _home(postgres_url, "acme", "before-epoch") == "events_default"
    assert _home(postgres_url, "acme", "now") == _partition(_month(0))
    found = pg.search("acme", EventQuery(order="asc"), Page())
    assert [e.id for e in found.events] == ["before-epoch", "ancient", "now", "future"]
    future = pg.get_event("acme", "future")
    assert future is not None and future.seq == 2
    since = datetime(2050, 1, 1, tzinfo=UTC)
    assert [e.id for e in pg.search("acme", EventQuery(time=TimeRange(since)), Page()).events] == [
        "future"
    ]


def test_adding_a_month_moves_its_rows_out_of_the_default(
    pg: PostgresStore, postgres_url: str
) -> None:
    add_tenant(pg)
    append(
        pg,
        "acme",
        make_event("acme", "may-a", occurred_at=_micros(2031, 5, 3)),
        make_event("acme", "june", occurred_at=_micros(2031, 6, 1)),
        make_event("acme", "may-b", occurred_at=_micros(2031, 5, 31)),
    )
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        created = owner.execute("SELECT sealtrail_add_partition('2031-05-17', true)").fetchone()
    assert created == (True,)
    assert _home(postgres_url, "acme", "may-a") == "events_2031_05"
    assert _home(postgres_url, "acme", "may-b") == "events_2031_05"
    assert _home(postgres_url, "acme", "june") == "events_default"
    assert [e.id for e in pg.get_events_by_seq("acme", [0, 1, 2])] == ["may-a", "june", "may-b"]
    assert pg.count("acme", EventQuery()) == 3
    with psycopg.connect(postgres_url) as owner, pytest.raises(psycopg.errors.RestrictViolation):
        owner.execute("TRUNCATE events_2031_05")


def test_the_runtime_path_never_moves_rows(pg: PostgresStore, postgres_url: str) -> None:
    add_tenant(pg)
    append(pg, "acme", make_event("acme", "stranded", occurred_at=_micros(2032, 2, 2)))
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        created = owner.execute("SELECT sealtrail_add_partition('2032-02-01', false)").fetchone()
    assert created == (False,)
    assert "events_2032_02" not in _partitions(postgres_url)
    assert _home(postgres_url, "acme", "stranded") == "events_default"


def test_an_append_recreates_a_missing_partition_ahead(postgres_url: str) -> None:
    setup = PostgresStore(postgres_url)
    setup.migrate()
    setup.close()
    furthest = _partition(_month(3))
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        owner.execute(f"DROP TABLE {furthest}")
    assert furthest not in _partitions(postgres_url)
    store = PostgresStore(postgres_url)
    try:
        add_tenant(store)
        append(store, "acme", make_event("acme", "a"))
        assert furthest in _partitions(postgres_url)
        horizon = _month(4)
        assert store.ensure_partitions() == _micros(horizon.year, horizon.month)
    finally:
        store.close()


def _index_bytes(url: str, partition: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = %s::regclass",
            (partition,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_past_month_rebuilt_concurrently_is_smaller_and_reads_the_same(
    pg: PostgresStore, postgres_url: str
) -> None:
    """docs/operations.md: once a month is past, ``REINDEX TABLE CONCURRENTLY`` on its
    partition packs the filter indexes that appends in time order left part empty."""
    add_tenant(pg)
    month = _month(-1)
    start = _micros(month.year, month.month)
    actions = [("auth.login", "auth", "access"), ("member.invited", "members", "create")]
    events = [
        make_event(
            "acme",
            f"e{n}",
            action=actions[n % 2][0],
            category=actions[n % 2][1],
            kind=actions[n % 2][2],
            actor=Actor("user", f"u_{n % 40}", "member", f"User {n % 40}", f"u{n % 40}@x.test"),
            resource=Resource("document", f"doc_{n % 300}", f"Doc {n % 300}"),
            ip=f"10.0.{n % 7}.{n % 200}",
            occurred_at=start + n * 60_000_000,
        )
        for n in range(8000)
    ]
    for first in range(0, len(events), 1000):
        append(pg, "acme", *events[first : first + 1000])
    partition = _partition(month)
    queries = [
        {},
        {"actor_id": "u_7"},
        {"action": "member.invited"},
        {"resource_id": "doc_42"},
        {"q": "invited"},
    ]

    def pages() -> list[list[str]]:
        found = []
        for params in queries:
            query = query_from_params({k: [v] for k, v in params.items()})[0]
            result = pg.search("acme", query, Page(limit=100), with_total=True)
            found.append([e.id for e in result.events] + [str(result.total)])
        return found

    before, grown = pages(), _index_bytes(postgres_url, partition)
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        owner.execute(f"REINDEX TABLE CONCURRENTLY {partition}")

    assert _index_bytes(postgres_url, partition) < 0.85 * grown
    assert pages() == before
    append(pg, "acme", make_event("acme", "late", occurred_at=start + 1))
    assert _home(postgres_url, "acme", "late") == partition
