"""SQLite picks a plan per query (few matches: filter index then sort; many: time index).

Both plans must return the same pages; the history is small, so the threshold
is moved to force each plan in turn.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sealtrail.query import Cursor, EventQuery, Order, Page, parse_phrase
from sealtrail.store import sqlite as sqlite_engine
from sealtrail.store.sqlite import SQLiteStore, database_path

from .factory import HOUR, T0, add_tenant, append, make_event, sample_history
from .plans import capture_sqlite, explain_sqlite

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
    "target:BOB@example.com",  # id or email: the union of two indexes' rowids where few
    "actor:ada@example.com",
    "-target:bob@example.com",
    "target:bob@example.com action:member.*",
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


def pages(store: SQLiteStore, query: EventQuery, *, offset: int = 0) -> list[list[str]]:
    out: list[list[str]] = []
    cursor = None
    while True:
        page = Page(limit=7, cursor=cursor) if cursor else Page(limit=7, offset=offset)
        result = store.search("acme", query, page)
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
    for threshold in ("SPARSE_MATCHES", "SPARSE_ENTRIES"):
        monkeypatch.setattr(sqlite_engine, threshold, 10_000)
    sparse = pages(store, query), store.search("acme", query, Page()).total
    for threshold in ("SPARSE_MATCHES", "SPARSE_ENTRIES"):
        monkeypatch.setattr(sqlite_engine, threshold, 0)
    dense = pages(store, query), store.search("acme", query, Page()).total
    assert sparse == dense
    assert sum(len(p) for p in sparse[0]) == sparse[1]


def test_an_id_or_email_term_is_a_union_of_rowids_only_where_its_indexes_find_few(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside another term, read as a union, a hot address would be read whole before
    its first page; so it stays a test on each row of the time index's walk, which
    stops after a page. (A lone one is read by ``_either_page`` and ``_either_count``.)"""
    monkeypatch.setattr(sqlite_engine, "SPARSE_MATCHES", 5)
    monkeypatch.setattr(sqlite_engine, "UNION_ROWS", 5)
    with capture_sqlite() as captured:
        other = SQLiteStore(store.url)
        try:
            rare = other.search(
                "acme", parse_phrase("target:bob@example.com action:member.*"), Page()
            )
            unions = [sql for sql, _ in captured.reads() if "UNION ALL" in sql]
            captured.clear()
            hot = other.search("acme", parse_phrase("actor:ada@example.com kind:create"), Page())
            hot_unions = [sql for sql, _ in captured.reads() if "UNION ALL" in sql]
        finally:
            other.close()
    assert rare.total == 2 and unions, unions
    assert hot.total is not None and hot.total > 5 and hot_unions == []


TEXT_PHRASES = ["bulk", "bob", '"invited Bob"', "bulk -action:auth.login", "bulk 1", "bulk -1"]


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("phrase", TEXT_PHRASES)
def test_free_text_read_from_the_newest_rows_returns_the_same_pages_and_totals(
    store: SQLiteStore, phrase: str, order: Order, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows of 2, 9 and 200 rows on a history with many equal times: the pages, cursors,
    offsets and totals are those of the plan that reads every match and sorts them."""
    query = replace(parse_phrase(phrase), order=order)
    monkeypatch.setattr(sqlite_engine, "SPARSE_MATCHES", 10_000)
    sorted_all = (
        [pages(store, query, offset=n) for n in (0, 3)],
        store.search("acme", query, Page()).total,
    )
    monkeypatch.setattr(sqlite_engine, "SPARSE_MATCHES", 0)
    monkeypatch.setattr(sqlite_engine, "TEXT_WINDOWS", (2, 9, 200))
    windowed_pages = 0
    read_window = SQLiteStore._windowed_text_page

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal windowed_pages
        rows = read_window(*args, **kwargs)
        windowed_pages += rows is not None
        return rows

    monkeypatch.setattr(SQLiteStore, "_windowed_text_page", counting)
    windowed = (
        [pages(store, query, offset=n) for n in (0, 3)],
        store.search("acme", query, Page()).total,
    )
    assert windowed == sorted_all
    assert sum(len(p) for p in windowed[0][0]) == windowed[1]
    assert windowed_pages, "no page was read from a window of the newest rows"


def test_a_word_no_window_fills_falls_back_to_the_plan_choice(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows too small for a page: the plan choice reads the page, with the same rows."""
    query = parse_phrase("bulk")
    expected = store.search("acme", query, Page(limit=7))
    monkeypatch.setattr(sqlite_engine, "SPARSE_MATCHES", 0)
    monkeypatch.setattr(sqlite_engine, "TEXT_WINDOWS", (1,))
    with capture_sqlite() as captured:
        other = SQLiteStore(store.url)
        try:
            found = other.search("acme", query, Page(limit=7))
        finally:
            other.close()
    assert found == expected
    assert any("rowid BETWEEN" in sql for sql, _ in captured.reads())
    assert any(
        "INDEXED BY events_by_time" in sql and "BETWEEN" not in sql for sql, _ in captured.reads()
    )


EITHER_PHRASES = [
    "actor:ada@example.com",
    "target:BOB@example.com",
    "actor:ada@example.com -action:auth.login",
    "actor:ada@example.com,bob@example.com",
    "target:bob@example.com -kind:access",
]


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("phrase", EITHER_PHRASES)
def test_an_id_or_email_term_merged_from_its_indexes_returns_the_same_pages(
    store: SQLiteStore, phrase: str, order: Order, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each column's index read in page order, a page deep, and merged: the pages, cursors,
    offsets and totals of the general plan (a union of every match's rowid, then a sort)."""
    query = replace(parse_phrase(phrase), order=order)
    merged = [pages(store, query, offset=n) for n in (0, 3)], store.search("acme", query, Page())
    monkeypatch.setattr(sqlite_engine, "_either_drives", lambda query: False)
    general = [pages(store, query, offset=n) for n in (0, 3)], store.search("acme", query, Page())
    assert merged[0] == general[0]
    assert merged[1] == general[1]
    assert sum(len(p) for p in merged[0][0]) == merged[1].total


def test_an_id_or_email_page_reads_each_index_in_page_order(store: SQLiteStore) -> None:
    """The page reads ``events_by_actor_id`` and ``events_by_actor_email`` a page deep each,
    in their own order; only the merged page (two pages at most) is sorted. The plan
    before it listed every match's rowid and sorted them all."""
    with capture_sqlite() as captured:
        other = SQLiteStore(store.url)
        try:
            other.search("acme", parse_phrase("actor:ada@example.com"), Page(limit=7))
        finally:
            other.close()
    pages_sql = [
        sql for sql, _ in captured.reads() if " UNION SELECT " in sql and "count(" not in sql
    ]
    assert len(pages_sql) == 1, captured.reads()
    explained = explain_sqlite(sqlite3.connect(database_path(store.url)), pages_sql[0])
    assert {"events_by_actor_id", "events_by_actor_email"} <= set(explained.indexes), explained
    assert not explained.whole, explained
    assert "UNION ALL" not in pages_sql[0]
    # the arms are read in index order: the only sorts are the union's and the merged page's
    assert len(explained.sorts) <= 2, explained
