"""The Citus claim of docs/operations.md, as tests: the schema's keys and references stay
inside a tenant, and the statement rule catches what it must (the statements themselves
are checked while the contract suite runs: tests/store/conftest.py)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from . import citus

pytestmark = pytest.mark.postgres


def test_every_key_and_reference_stays_inside_a_tenant(pg: Any) -> None:
    with psycopg.connect(pg.url) as connection:
        assert citus.schema_violations(connection) == []
        tables = citus.tenant_tables(connection)
    # Every table of the schema is judged: tenant data, the one reference table, or not
    # tenant data at all; a new table without tenant_id is caught as a violation.
    assert "events" in tables and "viewer_sessions" in tables
    assert set(citus.REFERENCE_TABLES) <= set(tables)


def test_the_schema_rules_catch_a_table_that_breaks_them(pg: Any) -> None:
    with psycopg.connect(pg.url, autocommit=True) as connection:
        connection.execute("CREATE TABLE bad_keys (id text PRIMARY KEY, tenant_id text)")
        connection.execute(
            "CREATE TABLE bad_refs (tenant_id text, id text, other text,"
            " PRIMARY KEY (tenant_id, id), UNIQUE (id),"
            " FOREIGN KEY (other) REFERENCES tenants (id))"
        )
        connection.execute("CREATE TABLE no_tenant (id text PRIMARY KEY)")
        found = citus.schema_violations(connection)
    assert "bad_keys: primary key bad_keys_pkey does not lead with tenant_id" in found
    assert "bad_refs: unique index bad_refs_id_key does not lead with tenant_id" in found
    assert any(f.startswith("bad_refs: foreign key") for f in found)
    assert "no_tenant: holds no tenant_id" in found


TABLES = {"events", "event_ids", "tenants", "erasures", "streams"}


@pytest.mark.parametrize(
    ("sql", "params", "ok"),
    [
        ("SELECT a FROM events WHERE tenant_id = %s AND seq > %s", ("acme", 1), True),
        ("SELECT a FROM events WHERE seq > %s", (1,), False),
        ("SELECT 1 FROM tenants WHERE id = %s", ("acme",), True),
        (
            "SELECT a FROM events WHERE tenant_id = %s UNION SELECT a FROM events"
            " WHERE tenant_id = %s",
            ("acme", "globex"),
            False,
        ),
        ("INSERT INTO erasures (id, tenant_id, x) VALUES (%s, %s, %s)", ("e", "acme", 1), True),
        ("UPDATE erasures SET lease_until = %s WHERE id = %s", (1, "e"), False),
        (
            "SELECT i.id FROM unnest(%s::text[]) AS k (id) JOIN event_ids i"
            " ON i.tenant_id = %s AND i.id = k.id",
            (["a"], "acme"),
            True,
        ),
        ("SELECT id, name FROM tenants ORDER BY id", (), True),  # the operator's list
        ("SELECT key FROM api_keys WHERE id = %s", ("k",), True),  # a reference table
        ("SELECT pg_last_wal_replay_lsn()::text", (), True),
        (
            "INSERT INTO streams AS c (tenant_id, n) VALUES (%(t)s, %(n)s)",
            {"t": "acme", "n": 1},
            True,
        ),
        ("SELECT a FROM streams AS c WHERE c.tenant_id = %(t)s", {"t": "acme"}, True),
        ("SELECT a FROM streams AS c WHERE c.name = %(n)s", {"n": "x"}, False),
        (
            "INSERT INTO streams (tenant_id, x) SELECT %s, %s WHERE EXISTS"
            " (SELECT 1 FROM tenants WHERE id = %s)",
            ("acme", 1, "acme"),
            True,
        ),
    ],
)
def test_the_statement_rule(sql: str, params: Any, ok: bool) -> None:
    found = citus.statement_violation(citus.Statement(sql, params), TABLES)
    assert (found is None) is ok, found


def test_copied_rows_must_be_one_tenants() -> None:
    one = citus.Statement("COPY events (tenant_id, seq) FROM STDIN", (), ["acme", "acme"])
    two = citus.Statement("COPY events (tenant_id, seq) FROM STDIN", (), ["acme", "globex"])
    assert citus.statement_violation(one, TABLES) is None
    assert citus.statement_violation(two, TABLES) is not None
