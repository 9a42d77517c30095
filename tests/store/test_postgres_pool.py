"""PostgreSQL's connection pool: what a request costs in round trips on a warm pool,
and that connections the server ended never fail the request that follows.

Round trips are counted, not timed: every statement of every connection of the store
is recorded (a cursor wrapper, tests/store/recording.py), the pool's
check included — ``ConnectionPool.check_connection`` sends an empty statement.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from sealtrail.query import EventQuery, Page
from sealtrail.store import postgres
from sealtrail.store.postgres import PostgresStore

from .factory import HOUR, add_tenant, append, make_event
from .recording import Sent

pytestmark = pytest.mark.postgres

SENT = Sent()
CHECK = ""  # what the pool's check sends
RECENT = (int(time.time()) // 3600 - 48) * 3600 * 1_000_000  # a whole hour, two days ago


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    made = PostgresStore(
        postgres_url, min_connections=1, max_connections=2, configure=SENT.configure
    )
    made.migrate()
    add_tenant(made)
    # Lately, so the page fills in the recent month partitions it reads first.
    events = [make_event("acme", f"e{i}", occurred_at=RECENT + i * HOUR) for i in range(30)]
    append(made, "acme", *events)
    try:
        yield made
    finally:
        made.close()
        SENT.clear()


def _search(store: PostgresStore) -> list[str]:
    result = store.search("acme", EventQuery(), Page(limit=10))
    assert [e.id for e in result.events] == [f"e{i}" for i in range(29, 19, -1)]
    assert result.total == 30
    return [e.id for e in result.events]


def test_a_search_on_a_warm_pool_sends_its_statements_and_no_check(store: PostgresStore) -> None:
    _search(store)  # the pool is open and its connection used
    SENT.clear()
    _search(store)
    assert CHECK not in SENT, SENT  # no round trip to check a connection just used
    assert len(SENT) == 2, SENT  # the page and its total
    assert SENT[0].startswith("SELECT") and "LIMIT" in SENT[0]


def test_a_connection_idle_for_a_while_is_checked_before_it_is_lent(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _search(store)
    monkeypatch.setattr(postgres, "IDLE_CHECK_S", 0.0)
    SENT.clear()
    _search(store)
    assert SENT[0] == CHECK, SENT


def _end_the_store_sessions(url: str) -> None:
    """What a restart of PostgreSQL does to every session: each is ended with
    "terminating connection due to administrator command" and its socket closed."""
    with psycopg.connect(url, autocommit=True) as admin:
        others = "datname = current_database() AND pid <> pg_backend_pid()"
        pids = [p for (p,) in admin.execute(f"SELECT pid FROM pg_stat_activity WHERE {others}")]
        assert pids
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while admin.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {others}").fetchone() != (
            0,
        ):
            assert time.monotonic() < deadline, "the terminated sessions did not end"
            time.sleep(0.01)


def test_requests_after_the_server_ended_every_session_succeed(store: PostgresStore) -> None:
    """PostgreSQL restarted (or the sessions were terminated) between two requests:
    the next search and the next append succeed, on fresh connections."""
    _search(store)
    _end_the_store_sessions(store.url)
    SENT.clear()
    _search(store)
    assert SENT[0] == CHECK  # the ended connection was found out before it was lent
    _end_the_store_sessions(store.url)
    append(store, "acme", make_event("acme", "later", occurred_at=RECENT + 40 * HOUR))
    assert store.count("acme", EventQuery()) == 31
