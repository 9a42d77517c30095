"""SQLite picks a plan per query (few matches: filter index then sort; many: time index).

Both plans must return the same pages; the history is small, so the threshold
is moved to force each plan in turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sealtrail.query import Cursor, EventQuery, Page, parse_phrase
from sealtrail.store import sqlite as sqlite_engine
from sealtrail.store.sqlite import SQLiteStore

from .factory import HOUR, T0, add_tenant, append, make_event, sample_history

PHRASES = [
    "",
    "action:auth.login",
    "action:member.*",
    "-action:auth.login",
    "ip:10.0.0.0/8",
    "bob",
    '"invited Bob"',
    "-bob",
    "bob action:member.*",
    "kind:access -actor:u_carol",
    "retention account:acc_1",
]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    engine = SQLiteStore(f"sqlite:///{tmp_path / 'plans.db'}")
    engine.migrate()
    add_tenant(engine, "acme")
    add_tenant(engine, "globex")
    sample_history(engine, "acme")
    sample_history(engine, "globex")
    append(
        engine,
        "acme",
        *(
            make_event("acme", f"x{i}", occurred_at=T0 + (i % 7) * HOUR, description=f"bulk {i}")
            for i in range(60)
        ),
    )
    return engine


def pages(store: SQLiteStore, query: EventQuery) -> list[list[str]]:
    out: list[list[str]] = []
    cursor = None
    while True:
        result = store.search("acme", query, Page(limit=7, cursor=cursor))
        out.append([e.id for e in result.events])
        if not result.has_more:
            return out
        last = result.events[-1]
        cursor = Cursor(last.occurred_at, last.seq, query.order)


@pytest.mark.parametrize("phrase", PHRASES)
def test_both_plans_return_the_same_pages_and_totals(
    store: SQLiteStore, phrase: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = parse_phrase(phrase)
    monkeypatch.setattr(sqlite_engine, "SPARSE_MATCHES", 10_000)
    sparse = pages(store, query), store.search("acme", query, Page()).total
    monkeypatch.setattr(sqlite_engine, "SPARSE_MATCHES", 0)
    dense = pages(store, query), store.search("acme", query, Page()).total
    assert sparse == dense
    assert sum(len(p) for p in sparse[0]) == sparse[1]
