"""Both engines refuse every DELETE of the log except pruning's, whoever asks.

Pruning may remove a row only below its tenant's recorded prune and only once
its leaf hash is kept as a level-0 tree node, which in turn must be an exact
copy. Recorded prunes and legal holds cannot be removed or rewritten. On
PostgreSQL the triggers are enabled ALWAYS (they bind the owner, and a
``replica`` session), and the runtime role has no DELETE at all: only
``sealtrail_prune``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from sealtrail.retention import Hold
from sealtrail.store.base import EventStore
from sealtrail.store.postgres import PostgresStore
from sealtrail.store.postgres_admin import DEFAULT_RUNTIME_ROLE
from sealtrail.store.sqlite import SQLiteStore

from ..conftest import fresh_postgres_database
from .factory import T0, add_tenant, announce_prune, append, make_event

FORGED = "x'" + "ab" * 32 + "'"
# SQLite spelling; PostgreSQL replaces x'..'. Rows 0..2 lie below the recorded prune,
# only 0 and 1 have their leaf kept; rows 3..5 and the announcement (6) stay.
REFUSED = [
    "DELETE FROM events",
    "DELETE FROM events WHERE seq = 4",
    "DELETE FROM events WHERE seq = 2",  # below the prune, but its leaf is not kept
    "DELETE FROM events WHERE seq = 6",  # the announcement
    "DELETE FROM tree_nodes",
    "DELETE FROM tree_nodes WHERE level = 0",
    "UPDATE tree_nodes SET hash = " + FORGED + " WHERE level = 0",
    f"INSERT INTO tree_nodes (tenant_id, level, idx, hash) VALUES ('acme', 0, 4, {FORGED})",
    f"INSERT INTO tree_nodes (tenant_id, level, idx, hash) VALUES ('acme', 0, 99, {FORGED})",
    "DELETE FROM checkpoints",
    "DELETE FROM prunes",
    "UPDATE prunes SET below = 5",
    "UPDATE prunes SET record_seq = 3",
    "UPDATE prunes SET deleted = -1",
    # a second prune reusing the first one's announcement
    "INSERT INTO prunes (tenant_id, below, first_seq, record_seq, created_at)"
    " VALUES ('acme', 5, 3, 6, 0)",
    "INSERT INTO prunes (tenant_id, below, first_seq, record_seq, created_at)"
    " VALUES ('acme', 5, 0, 6, 0)",
    "DELETE FROM legal_holds",
    "UPDATE legal_holds SET reason = 'nothing to see'",
    "UPDATE legal_holds SET account_id = 'acc_9', released_at = 1",
]
POSTGRES_ONLY = [
    "DELETE FROM event_ids WHERE seq = 4",
    "DELETE FROM event_ids WHERE seq = 2",
    "TRUNCATE events",
    "TRUNCATE event_ids",
    "TRUNCATE prunes",
]


def _log(store: EventStore) -> None:
    add_tenant(store)
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(6)))
    store.add_hold(Hold("hold_1", "acme", "case 7", "{}", T0))
    announce_prune(store, "acme", 0, 3)
    store.keep_leaves("acme", 0, 2)


def _rows(store: EventStore) -> list[int]:
    return [e.seq for e in store.get_events_by_seq("acme", list(range(10)))]


# -- SQLite ----------------------------------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[tuple[SQLiteStore, Path]]:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'guard.db'}")
    store.migrate()
    _log(store)
    try:
        yield store, tmp_path / "guard.db"
    finally:
        store.close()


def _snapshot(path: Path) -> list[object]:
    with sqlite3.connect(path) as connection:
        return [
            connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in ("events", "tree_nodes", "prunes", "legal_holds", "checkpoints")
        ]


@pytest.mark.parametrize("statement", REFUSED)
def test_sqlite_refuses_every_other_delete(
    sqlite_db: tuple[SQLiteStore, Path], statement: str
) -> None:
    _, path = sqlite_db
    before = _snapshot(path)
    with sqlite3.connect(path) as connection, pytest.raises(sqlite3.IntegrityError):
        connection.execute(statement)
    assert _snapshot(path) == before


def test_sqlite_lets_the_prune_shape_through(sqlite_db: tuple[SQLiteStore, Path]) -> None:
    store, path = sqlite_db
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM events WHERE seq = 0")  # below the prune, leaf kept
    assert _rows(store) == [1, 2, 3, 4, 5, 6]
    assert store.prune_events("acme", 100) == 2  # the path keeps seq 2's leaf itself
    assert _rows(store) == [3, 4, 5, 6]


# -- PostgreSQL ------------------------------------------------------------------------


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[tuple[PostgresStore, str]]:
    store = PostgresStore(postgres_url)
    store.migrate()
    _log(store)
    try:
        yield store, postgres_url
    finally:
        store.close()


@pytest.fixture(scope="module")
def shared(postgres_server: str) -> Iterator[tuple[PostgresStore, str]]:
    """One database for the refusals: a refused statement changes nothing (checked)."""
    with fresh_postgres_database(postgres_server) as url:
        store = PostgresStore(url)
        store.migrate()
        _log(store)
        try:
            yield store, url
        finally:
            store.close()


def _pg(statement: str) -> str:
    return statement.replace("x'", "'\\x")


def _pg_snapshot(url: str) -> list[object]:
    with psycopg.connect(url) as connection:
        return [
            connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in (
                "events",
                "event_ids",
                "tree_nodes",
                "prunes",
                "legal_holds",
                "checkpoints",
            )
        ]


@pytest.mark.postgres
@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica"])
@pytest.mark.parametrize("statement", REFUSED + POSTGRES_ONLY)
def test_postgres_refuses_the_owner_every_other_delete(
    shared: tuple[PostgresStore, str], statement: str, replica: bool
) -> None:
    _, url = shared
    before = _pg_snapshot(url)
    with psycopg.connect(url) as owner:
        if replica:
            owner.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.RestrictViolation):
            owner.execute(_pg(statement))
    assert _pg_snapshot(url) == before


@pytest.mark.postgres
@pytest.mark.parametrize("statement", REFUSED + POSTGRES_ONLY)
def test_postgres_gives_the_runtime_role_no_delete(
    shared: tuple[PostgresStore, str], statement: str
) -> None:
    _, url = shared
    before = _pg_snapshot(url)
    with psycopg.connect(url) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(DEFAULT_RUNTIME_ROLE)))
        with pytest.raises(
            (psycopg.errors.InsufficientPrivilege, psycopg.errors.RestrictViolation)
        ):
            connection.execute(_pg(statement))
    assert _pg_snapshot(url) == before


@pytest.mark.postgres
def test_the_runtime_role_prunes_through_the_function_only(
    pg_db: tuple[PostgresStore, str],
) -> None:
    store, url = pg_db
    with psycopg.connect(url) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(DEFAULT_RUNTIME_ROLE)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM events WHERE seq = 0")  # even the allowed shape
        connection.rollback()
        first = connection.execute("SELECT sealtrail_prune('acme', 2)").fetchone()
        rest = connection.execute("SELECT sealtrail_prune('acme', 100)").fetchone()
        none = connection.execute("SELECT sealtrail_prune('acme', 100)").fetchone()
        connection.commit()
    assert (first, rest, none) == ((2,), (1,), (0,))
    assert _rows(store) == [3, 4, 5, 6]
    assert len(store.tree_nodes("acme", [(0, 0), (0, 1), (0, 2)])) == 3


@pytest.mark.postgres
def test_the_owner_may_delete_only_the_prune_shape(pg_db: tuple[PostgresStore, str]) -> None:
    store, url = pg_db
    with psycopg.connect(url) as owner:
        owner.execute("DELETE FROM events WHERE seq = 0")
        owner.execute("DELETE FROM event_ids WHERE seq = 0")
    assert _rows(store) == [1, 2, 3, 4, 5, 6]
