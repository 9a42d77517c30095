"""Reading from a real hot standby (``read_url``): what a search and an export see while
the standby lags, and the read-your-writes rule of docs/operations.md.

The lag is made, not waited for: replay is paused on the standby
(``pg_wal_replay_pause``) while the primary takes more writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.query import EventQuery, Page
from sealtrail.settings import Settings
from sealtrail.store.postgres import PostgresStore

from .factory import add_tenant, append, make_event

pytestmark = pytest.mark.postgres


def _ids(store: PostgresStore) -> list[str]:
    return sorted(e.id for e in store.search("acme", EventQuery(), Page(limit=200)).events)


@pytest.fixture
def paused(postgres_url: str, postgres_standby: Any) -> Iterator[Any]:
    yield postgres_standby
    postgres_standby.resume_replay(postgres_url)


def test_a_process_reads_its_own_writes_another_may_lag(postgres_url: str, paused: Any) -> None:
    standby_url = paused.url(postgres_url)
    writer = PostgresStore(postgres_url, read_url=standby_url, replica_wait=0.2)
    other = PostgresStore(postgres_url, read_url=standby_url)  # another API process
    try:
        writer.migrate()
        add_tenant(writer)
        append(writer, "acme", make_event("acme", "e1"))
        assert _ids(writer) == ["e1"]  # it waited for the standby, then read it there
        paused.wait_for_replay()
        assert _ids(other) == ["e1"]
        paused.pause_replay(postgres_url)
        append(writer, "acme", make_event("acme", "e2"))
        # The writer finds its own write: the standby has not replayed it within
        # replica_wait, so the writer reads from the primary.
        assert _ids(writer) == ["e1", "e2"]
        assert writer.count("acme", EventQuery()) == 2
        # Another process searches the lagging standby: not there yet…
        assert _ids(other) == ["e1"]
        assert [e.id for chunk in other.stream("acme", EventQuery()) for e in chunk] == ["e1"]
        # …but a lookup by id reads the primary.
        found = other.get_event("acme", "e2")
        assert found is not None and found.id == "e2"
        paused.resume_replay(postgres_url)
        paused.wait_for_replay()
        assert _ids(other) == ["e1", "e2"]
    finally:
        writer.close()
        other.close()


def test_an_export_holds_everything_recorded_before_it(
    postgres_url: str, paused: Any, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=postgres_url,
        read_database_url=paused.url(postgres_url),
        signing_key_file=str(tmp_path / "signing.key"),
    )
    log = AuditLog.open(settings=settings)
    other = AuditLog.open(settings=settings)
    try:
        log.migrate()
        log.create_tenant("acme")
        operator = Principal.operator("acme")
        first = [
            {"action": "user.login", "actor": {"type": "user", "id": f"u{i}"}} for i in range(5)
        ]
        log.ingest(operator, {"events": first})
        paused.wait_for_replay()

        def exported(on: AuditLog) -> list[str]:
            done = on.export(operator, EventQuery(), "ndjson")
            lines = b"".join(done.chunks).decode().splitlines()
            return [json.loads(line)["action"] for line in lines]

        # Each export is itself recorded (audit_log.exported), before it reads.
        assert exported(other).count("user.login") == 5
        paused.pause_replay(postgres_url)
        log.ingest(operator, {"action": "user.logout", "actor": {"type": "user", "id": "u1"}})
        assert "user.logout" in exported(log)  # its own write: read-your-writes
        # Another process's export too: it records itself first, and reads only a
        # standby that has replayed that record — and with it everything before it.
        assert "user.logout" in exported(other)
        paused.resume_replay(postgres_url)
        paused.wait_for_replay()
        assert exported(other).count("user.login") == 5
    finally:
        log.close()
        other.close()
