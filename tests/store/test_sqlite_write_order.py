"""What an append writes after the text index's rows, on SQLite: nothing per event.

Tree nodes written after ``events_fts``'s rows in the same transaction cost the
writer about 70 µs of CPU each (measured in docs/benchmarks.md, Ingest): appending
the tree's nodes after the text rows more than doubled the CPU of an append. So the
nodes go first. This holds the order, deterministically, from the statements the
writer's connection really runs (its trace callback), not from a timing.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sealtrail.store import sqlite as sqlite_engine
from sealtrail.store.sqlite import SQLiteStore

from .factory import add_tenant, append, make_event

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b(?:\s+OR\s+\w+)?(?:\s+INTO)?\s+(\w+)", re.I)


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SQLiteStore, list[str]]:
    statements: list[str] = []
    connect = SQLiteStore._connect

    def tracing(self: SQLiteStore, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(self, **kwargs)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(sqlite_engine.SQLiteStore, "_connect", tracing)
    store = SQLiteStore(f"sqlite:///{tmp_path / 'order.db'}")
    store.migrate()
    add_tenant(store)
    return store, statements


def test_nothing_is_written_row_by_row_after_the_text_rows(
    traced: tuple[SQLiteStore, list[str]],
) -> None:
    store, statements = traced
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(40)))
    statements.clear()
    # 64 more events: the tree grows by 64 nodes above level 0, written in this append
    append(store, "acme", *(make_event("acme", f"f{i}") for i in range(64)))
    writes = [m[2].lower() for s in statements if (m := _WRITE.match(s))]
    assert "tree_nodes" in writes and "events_fts" in writes, writes
    after_text = writes[writes.index("events_fts") :]
    after_text = [table for table in after_text if table != "events_fts"]
    # what may follow: the counts (one row per hour and kind) and the tenant's head
    assert len(after_text) < 10, after_text
    assert "tree_nodes" not in after_text and "events" not in after_text, after_text
