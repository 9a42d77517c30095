"""PostgreSQL: ``migrate`` creates the runtime role ``serve`` connects as, and no more."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from sealtrail.catalog import EventType
from sealtrail.query import EventQuery, Page, parse_phrase
from sealtrail.saved_searches import SavedSearch
from sealtrail.store.base import (
    ApiKeyRecord,
    ErasureRecord,
    EventTypeVersion,
    FieldErasure,
    StoredCheckpoint,
)
from sealtrail.store.migrations import revisions
from sealtrail.store.postgres import PostgresStore
from sealtrail.store.postgres_admin import DEFAULT_RUNTIME_ROLE

from .factory import T0, add_tenant, append, make_event

pytestmark = pytest.mark.postgres


def _migrate(url: str) -> str:
    store = PostgresStore(url)
    try:
        store.migrate()
        add_tenant(store)
        append(store, "acme", make_event("acme", "a"), make_event("acme", "b"))
    finally:
        store.close()
    return url


@pytest.fixture
def migrated(postgres_url: str) -> str:
    return _migrate(postgres_url)


@pytest.fixture(scope="module")
def shared(postgres_server: str) -> Iterator[str]:
    """One migrated database for the denials: a denied statement changes nothing."""
    name = f"sealtrail_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _migrate(f"{postgres_server.rsplit('/', 1)[0]}/{name}")
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def runtime_login(migrated: str) -> Iterator[str]:
    """A login role that is a member of the runtime role, as an operator would make it."""
    login = f"sealtrail_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(migrated, autocommit=True) as owner:
        owner.execute(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(login), sql.Identifier(DEFAULT_RUNTIME_ROLE)
            )
        )
    try:
        yield migrated.replace("//postgres@", f"//{login}@", 1)
    finally:
        with psycopg.connect(migrated, autocommit=True) as owner:
            owner.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))


def test_the_runtime_role_cannot_log_in_by_itself(migrated: str) -> None:
    with psycopg.connect(migrated) as owner:
        row = owner.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls"
            " FROM pg_roles WHERE rolname = %s",
            (DEFAULT_RUNTIME_ROLE,),
        ).fetchone()
    assert row == (False, False, False, False, False)


DENIED = [
    "UPDATE events SET action = 'x.y'",
    "DELETE FROM events",
    "TRUNCATE events",
    "DELETE FROM event_ids",
    "UPDATE tree_nodes SET hash = '\\x00'",
    "DELETE FROM checkpoints",
    "UPDATE tenants SET name = 'x'",
    "UPDATE tenants SET created_at = 0",
    "DELETE FROM tenants",
    "DELETE FROM api_keys",
    "UPDATE api_keys SET scopes = 'events:write'",
    "DELETE FROM event_types",
    "UPDATE alembic_version SET version_num = '0000'",
    "UPDATE saved_searches SET phrase = 'x'",
    "DROP TABLE events",
    "ALTER TABLE events DISABLE TRIGGER events_refuse_change",
    "CREATE TABLE sneaky (x int)",
    "SELECT sealtrail_add_partition('2040-01-01', true)",
]


@pytest.mark.parametrize("statement", DENIED)
def test_the_runtime_role_may_not(shared: str, statement: str) -> None:
    with psycopg.connect(shared) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(DEFAULT_RUNTIME_ROLE)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(statement)


def test_serve_runs_on_the_runtime_role_alone(runtime_login: str) -> None:
    """Everything serve does works through a member of the runtime role."""
    store = PostgresStore(runtime_login)
    try:
        store.ping()
        assert store.schema_revision() == revisions("postgres")[-1]
        add_tenant(store, "globex")
        key = ApiKeyRecord("k" * 16, "globex", b"\x01" * 32, frozenset({"events:read"}), T0)
        store.add_api_key(key)
        assert store.revoke_api_key(key.id, T0 + 1)
        custom = EventType("report.made", "reports", "create", "made", builtin=False)
        store.add_event_type_version("globex", EventTypeVersion(custom, 1, T0))
        store.add_event_type_version("globex", EventTypeVersion(custom, 2, T0 + 1))
        assert len(store.event_type_versions("globex")) == 2
        receipts = append(
            store,
            "acme",
            make_event("acme", "b"),
            make_event("acme", "c", description="runtime words"),
        )
        assert [(r.seq, r.created) for r in receipts] == [(1, False), (2, True)]
        assert store.ensure_partitions() > 0
        found = store.search("acme", parse_phrase("runtime"), Page())
        assert [e.id for e in found.events] == ["c"]
        assert sum(len(c) for c in store.stream("acme", EventQuery())) == 3
        assert [len(c) for c in store.scan("acme")] == [3]
        store.add_checkpoint(StoredCheckpoint("acme", 3, b"\x02" * 32, "note", T0))
        store.add_consumer("acme", "stream:s", 0, T0)
        assert store.take_lease("acme", "stream:s", "p1", T0, T0 + 1) is not None
        store.consumer_failed(
            "acme", "stream:s", "p1", error="e", retry_at=0, failing_after=0, at=T0
        )
        assert store.advance_consumer("acme", "stream:s", "p1", 0, 3, T0)
        assert store.move_consumer("acme", "stream:s", 1, T0)
        assert store.remove_consumer("acme", "stream:s")
        assert store.tree_nodes("acme", [(0, 2), (1, 0)])
        # erasure: the job's row, and clearing fields through sealtrail_erase
        job = ErasureRecord("er", "acme", "actor_id", "u_admin", "why", "{}", "running", 3, T0)
        store.add_erasure(job)
        assert store.claim_erasure("acme", "er", T0, T0 + 1)
        commitments = {"actor.email": base64.b64encode(b"\x03" * 32).decode()}
        assert store.erase_fields("acme", [FieldErasure(2, commitments)]) == 1
        store.erasure_progress("acme", "er", 2, 1, T0 + 2)
        store.finish_erasure("acme", "er", T0 + 3)
        assert store.purge_erased("acme", [2])[0].startswith("left the old row versions")
        erased = store.get_event("acme", "c")
        assert erased is not None and erased.commitments == commitments
        # saved searches come and go
        search = SavedSearch("ss_1", "acme", "logins", "action:auth.*", None, "{}", T0)
        store.add_saved_search(search)
        assert store.saved_searches("acme") == [search]
        assert store.delete_saved_search("acme", "ss_1")
    finally:
        store.close()


def test_a_second_migrate_keeps_the_grants(migrated: str) -> None:
    store = PostgresStore(migrated)
    try:
        assert store.migrate() == []
    finally:
        store.close()
    with psycopg.connect(migrated) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(DEFAULT_RUNTIME_ROLE)))
        assert connection.execute("SELECT count(*) FROM events").fetchone() == (2,)


@pytest.fixture
def plain_owner(postgres_server: str) -> Iterator[str]:
    """A fresh database owned by an ordinary login role: no superuser, no CREATEROLE."""
    suffix = uuid.uuid4().hex[:8]
    owner, database = f"sealtrail_owner_{suffix}", f"sealtrail_test_{suffix}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(owner)
            )
        )
    try:
        url = make_url(postgres_server).set(username=owner, password=None, database=database)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))


def test_an_ordinary_database_owner_can_migrate_and_is_told_about_the_role(
    plain_owner: str, caplog: pytest.LogCaptureFixture
) -> None:
    missing = f"sealtrail_rt_{uuid.uuid4().hex[:8]}"
    store = PostgresStore(plain_owner, runtime_role=missing)
    try:
        assert store.migrate() == revisions("postgres")
        add_tenant(store)
        append(store, "acme", make_event("acme", "a", description="café"))
        assert [e.id for e in store.search("acme", parse_phrase("cafe"), Page()).events] == ["a"]
    finally:
        store.close()
    assert f"cannot create the runtime role {missing}" in caplog.text
    with psycopg.connect(plain_owner) as owner, pytest.raises(psycopg.errors.RestrictViolation):
        owner.execute("DELETE FROM events")


def test_the_api_connects_with_the_runtime_url(
    migrated: str, runtime_login: str, tmp_path: Path
) -> None:
    """``serve``'s workers open the log as the runtime role when it is configured."""
    from sealtrail.audit_log import AuditLog
    from sealtrail.auth import Principal
    from sealtrail.settings import Settings

    settings = Settings(
        database_url=migrated,
        runtime_database_url=runtime_login,
        signing_key_file=str(tmp_path / "signing.key"),
    )
    log = AuditLog.open(settings=settings, serving=True)
    try:
        assert log.database_url == runtime_login
        before = log.tree_size("acme")
        log.ingest(
            Principal.operator("acme"),
            {"action": "member.invited", "actor": {"type": "user", "id": "u"}},
        )
        assert log.checkpoint(Principal.operator("acme")).tree_size == before + 1
    finally:
        log.close()
    operator = AuditLog.open(settings=settings)
    try:
        assert operator.database_url == migrated
    finally:
        operator.close()
