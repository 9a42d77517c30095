"""Both engines refuse every change to an event except erasure's, whoever asks.

SQLite has one trigger; PostgreSQL has a trigger enabled ALWAYS (it binds the
owner, and a ``replica`` session) and gives the runtime role no UPDATE at all,
only ``sealtrail_erase``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from sealtrail.events import Actor
from sealtrail.ledger.leaf import new_salts
from sealtrail.privacy import Subject, plan
from sealtrail.store.base import FieldErasure
from sealtrail.store.codec import pack_commitments
from sealtrail.store.postgres import PostgresStore
from sealtrail.store.postgres_admin import DEFAULT_RUNTIME_ROLE
from sealtrail.store.sqlite import SQLiteStore

from .factory import add_tenant, append, make_event

ANN = Actor("user", "u_ann", None, "Ann", "ann@example.com")
ERASE_ANN = Subject("email", "ann@example.com")
ZERO = "x'" + "00" * 16 + "'"

# Every change an erasure does not make: SQLite spelling; PostgreSQL replaces x'..'.
REFUSED = [
    "UPDATE events SET action = 'member.removed'",
    "UPDATE events SET actor_id = 'someone'",
    "UPDATE events SET description = 'rewritten'",
    "UPDATE events SET actor_email = 'mallory@example.com'",
    "UPDATE events SET leaf_hash = x'00'",
    "UPDATE events SET seq = seq + 1",
    "UPDATE events SET description = description",
    "UPDATE events SET actor_email = NULL",  # no commitment kept: the proof would break
    "UPDATE events SET actor_email = NULL, commitments = x'01" + "00" * 32 + "'",  # salt kept
    "UPDATE events SET salts = x'00'",
    "UPDATE events SET commitments = x'01" + "00" * 32 + "'",  # nothing cleared
    "UPDATE events SET ip_key = NULL",
    "DELETE FROM events",
]


def _events(store: SQLiteStore | PostgresStore) -> None:
    add_tenant(store)
    event = make_event("acme", "e1", actor=ANN, ip="10.0.0.1", description="Ann signed in")
    append(store, "acme", replace(event, salts=new_salts(event.to_dict())))


def _erasure_entries(store: SQLiteStore | PostgresStore) -> FieldErasure:
    event = store.get_event("acme", "e1")
    assert event is not None
    return FieldErasure(event.seq, plan(event, ERASE_ANN))


# -- SQLite ----------------------------------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[tuple[SQLiteStore, Path]]:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'guard.db'}")
    store.migrate()
    _events(store)
    try:
        yield store, tmp_path / "guard.db"
    finally:
        store.close()


@pytest.mark.parametrize("statement", REFUSED)
def test_sqlite_refuses_every_other_change(
    sqlite_db: tuple[SQLiteStore, Path], statement: str
) -> None:
    store, path = sqlite_db
    before = store.get_event("acme", "e1")
    with sqlite3.connect(path) as connection, pytest.raises(sqlite3.IntegrityError):
        connection.execute(statement)
    assert store.get_event("acme", "e1") == before


def test_sqlite_lets_the_erasure_shape_through(sqlite_db: tuple[SQLiteStore, Path]) -> None:
    store, path = sqlite_db
    erasure = _erasure_entries(store)
    assert store.erase_fields("acme", [erasure]) == 1
    event = store.get_event("acme", "e1")
    assert event is not None and set(event.commitments) == set(erasure.commitments)
    with sqlite3.connect(path) as connection, pytest.raises(sqlite3.IntegrityError):
        # once erased, a field cannot be "erased" again with a different commitment
        connection.execute(
            f"UPDATE events SET salts = salts, commitments = commitments || x'01{'00' * 32}'"
        )


# -- PostgreSQL ------------------------------------------------------------------------


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[tuple[PostgresStore, str]]:
    store = PostgresStore(postgres_url)
    store.migrate()
    _events(store)
    try:
        yield store, postgres_url
    finally:
        store.close()


def _pg(statement: str) -> str:
    return statement.replace("x'", "'\\x")


@pytest.mark.postgres
@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica"])
@pytest.mark.parametrize("statement", REFUSED)
def test_postgres_refuses_the_owner_every_other_change(
    pg_db: tuple[PostgresStore, str], statement: str, replica: bool
) -> None:
    store, url = pg_db
    before = store.get_event("acme", "e1")
    with psycopg.connect(url) as owner:
        if replica:
            owner.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.RestrictViolation, match="refused"):
            owner.execute(_pg(statement))
    assert store.get_event("acme", "e1") == before


@pytest.mark.postgres
@pytest.mark.parametrize("statement", REFUSED)
def test_postgres_gives_the_runtime_role_no_update(
    pg_db: tuple[PostgresStore, str], statement: str
) -> None:
    _, url = pg_db
    with psycopg.connect(url) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(DEFAULT_RUNTIME_ROLE)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(_pg(statement))


@pytest.mark.postgres
def test_the_runtime_role_erases_through_the_function_only(
    pg_db: tuple[PostgresStore, str],
) -> None:
    store, url = pg_db
    erasure = _erasure_entries(store)
    entries = pack_commitments(erasure.commitments)
    with psycopg.connect(url) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(DEFAULT_RUNTIME_ROLE)))
        with pytest.raises(psycopg.errors.RaiseException, match="no personal field"):
            connection.execute("SELECT sealtrail_erase('acme', %s, %s)", ([0], [b"\x09" * 33]))
        connection.rollback()
        row = connection.execute(
            "SELECT sealtrail_erase('acme', %s, %s)", ([erasure.seq], [entries])
        ).fetchone()
        again = connection.execute(
            "SELECT sealtrail_erase('acme', %s, %s)", ([erasure.seq], [entries])
        ).fetchone()
        connection.commit()
    assert (row, again) == ((1,), (0,))
    event = store.get_event("acme", "e1")
    assert event is not None and event.commitments == dict(erasure.commitments)
    assert event.actor.id == "u_ann"  # the id is not personal: it stays
