"""PostgreSQL: the log and its tree refuse UPDATE, DELETE and TRUNCATE, even for the owner.

The tests connect as the superuser that ran ``migrate`` and owns every table —
the strongest role there is short of dropping the triggers themselves — and
also switch ``session_replication_role`` to ``replica``, which silences
ordinary triggers; the guards are enabled ALWAYS, so they still fire.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from sealtrail.store.base import StoredCheckpoint
from sealtrail.store.postgres import PostgresStore

from .factory import T0, add_tenant, append, make_event

pytestmark = pytest.mark.postgres


def _fill(url: str) -> None:
    """A migrated database with a few events (one this month), nodes and a checkpoint."""
    store = PostgresStore(url)
    store.migrate()
    try:
        add_tenant(store)
        now = int(datetime.now(UTC).timestamp() * 1_000_000)
        append(store, "acme", *(make_event("acme", f"e{i}") for i in range(5)))
        append(store, "acme", make_event("acme", "recent", occurred_at=now))
        store.add_checkpoint(StoredCheckpoint("acme", 6, b"\x01" * 32, "note", T0))
    finally:
        store.close()


@pytest.fixture(scope="module")
def refusing(postgres_server: str) -> Iterator[str]:
    """One filled database for every refusal: a refused statement changes nothing."""
    name = f"sealtrail_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{postgres_server.rsplit('/', 1)[0]}/{name}"
        _fill(url)
        yield url
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def filled(postgres_url: str) -> str:
    _fill(postgres_url)
    return postgres_url


def _this_month() -> str:
    return f"events_{datetime.now(UTC):%Y_%m}"


REFUSED = [
    "UPDATE events SET action = 'member.removed'",
    "UPDATE events SET description = 'rewritten' WHERE id = 'recent'",
    "DELETE FROM events WHERE id = 'e3'",
    "DELETE FROM events_default",
    "DELETE FROM {this_month}",
    "TRUNCATE events",
    "TRUNCATE events_default",
    "TRUNCATE {this_month}",
    "UPDATE event_ids SET seq = seq + 100",
    "DELETE FROM event_ids",
    "TRUNCATE event_ids",
    "UPDATE tree_nodes SET hash = '\\x00'",
    "DELETE FROM tree_nodes",
    "TRUNCATE tree_nodes",
    "UPDATE checkpoints SET root_hash = '\\x00'",
    "DELETE FROM checkpoints",
    "TRUNCATE checkpoints",
    "UPDATE tenants SET tree_size = 2",
    "UPDATE tenants SET frontier = '\\x00'",
    "DELETE FROM tenants",
    "TRUNCATE tenants CASCADE",
]


@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica"])
@pytest.mark.parametrize("statement", REFUSED)
def test_the_owner_cannot_change_the_log(refusing: str, statement: str, replica: bool) -> None:
    sql = statement.format(this_month=_this_month())
    with psycopg.connect(refusing) as owner:
        is_owner = owner.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert is_owner.fetchone() == (True,)
        if replica:
            owner.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.RestrictViolation, match=r"refused|only grow"):
            owner.execute(sql)


def test_refusals_leave_everything_in_place(filled: str) -> None:
    for statement in ("DELETE FROM events", "TRUNCATE tree_nodes"):
        with psycopg.connect(filled) as owner, pytest.raises(psycopg.errors.RestrictViolation):
            owner.execute(statement)
    store = PostgresStore(filled)
    try:
        assert store.tree_head("acme").size == 6
        assert len(store.leaf_hashes("acme", 0, 6)) == 6
        assert store.get_event("acme", "e3") is not None
    finally:
        store.close()


def test_the_tree_head_may_grow_and_names_may_change(filled: str) -> None:
    """The guard lets these through: each statement changes the row (none is dropped)."""
    with psycopg.connect(filled) as owner:
        renamed = owner.execute("UPDATE tenants SET name = 'Acme Inc.' WHERE id = 'acme'")
        grown = owner.execute(
            "UPDATE tenants SET tree_size = tree_size + 1, frontier = '\\x01' WHERE id = 'acme'"
        )
        assert (renamed.rowcount, grown.rowcount) == (1, 1)
    with psycopg.connect(filled) as reader:
        row = reader.execute("SELECT name, tree_size, frontier FROM tenants WHERE id = 'acme'")
        assert row.fetchone() == ("Acme Inc.", 7, b"\x01")


def test_a_tenant_without_events_can_be_removed(filled: str) -> None:
    with psycopg.connect(filled) as owner:
        owner.execute("INSERT INTO tenants (id, name, created_at) VALUES ('empty', 'E', 0)")
        assert owner.execute("DELETE FROM tenants WHERE id = 'empty'").rowcount == 1
