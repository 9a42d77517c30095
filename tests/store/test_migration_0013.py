"""Migration 0013 replaces ``events_by_resource`` with ``events_by_resource_type``.

On each engine a database is migrated to 0012 and events with resources are
appended; ``migrate`` then runs 0013: the new index exists (on every month
partition on PostgreSQL), the old one is gone, and searches by type and by
type and id return what they did. Downgrading puts the old index back.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from sealtrail.events import Resource
from sealtrail.query import Page, query_from_params
from sealtrail.store import open_store
from sealtrail.store.base import EventStore

from .factory import HOUR, T0, add_tenant, append, make_event
from .test_migration_0011 import downgrade_to, migrate_to, url

__all__ = ["url"]

TYPES = ("workspace", "app", "report")


def _events() -> list[Any]:
    return [
        make_event(
            "acme",
            f"r{i}",
            occurred_at=T0 + i * HOUR,
            resource=Resource(TYPES[i % 3], f"{TYPES[i % 3]}_{i % 5}", None) if i % 4 else None,
        )
        for i in range(60)
    ]


def _indexes(url: str) -> set[str]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
            ).fetchall()
    else:
        import psycopg

        from sealtrail.store.postgres_admin import libpq_url

        with psycopg.connect(libpq_url(url)) as connection:
            rows = connection.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename LIKE 'events%'"
            ).fetchall()
    return {name for (name,) in rows}


def _pages(store: EventStore) -> dict[str, list[str]]:
    phrases = {
        "type": {"resource_type": ["app"]},
        "type and id": {"phrase": ["resource:report/report_2"]},
        "id": {"resource_id": ["workspace_0"]},
    }
    return {
        name: [
            e.id for e in store.search("acme", query_from_params(raw)[0], Page(limit=100)).events
        ]
        for name, raw in phrases.items()
    }


def test_0013_reads_a_resource_type_through_an_index_in_time_order(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate_to(url, "0012")
    events = _events()
    old = open_store(url)
    try:
        with monkeypatch.context() as patched:  # a 0012 server: no actor counts to keep
            patched.setattr(type(old), "_add_actor_counts", lambda *_args: None)
            add_tenant(old, "acme")
            append(old, "acme", *events)
        before = _pages(old)
    finally:
        old.close()
    newest_first = list(reversed(events))
    assert before == {
        "type": [e.id for e in newest_first if e.resource and e.resource.type == "app"],
        "type and id": [e.id for e in newest_first if e.resource and e.resource.id == "report_2"],
        "id": [e.id for e in newest_first if e.resource and e.resource.id == "workspace_0"],
    }
    assert all(before.values())
    assert "events_by_resource" in _indexes(url)

    store = open_store(url)
    try:
        assert "0013" in store.migrate()
        assert _pages(store) == before
    finally:
        store.close()
    after = _indexes(url)
    assert "events_by_resource_type" in after and "events_by_resource" not in after
    if not url.startswith("sqlite"):  # each month partition has its own copy
        assert any(name.endswith("_tenant_id_resource_type_occurred_at_seq_idx") for name in after)

    downgrade_to(url, "0012")
    restored = _indexes(url)
    assert "events_by_resource" in restored and "events_by_resource_type" not in restored
