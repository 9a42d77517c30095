"""The embedded SQLite engine: one file, WAL, one writer thread.

Durability: ``synchronous=FULL``. In WAL mode NORMAL already survives ``kill -9``
of the server (a committed transaction has been written to the WAL file before
COMMIT returns; only the fsync is deferred), but it can lose the last
transactions on power loss or an OS crash. An audit log acknowledges an event
only once it is on disk, so each commit is fsynced; the writer thread commits
the batches of all concurrent requests in one transaction, which spreads that
fsync over many events.

Reads use one connection per thread and never block the writer (WAL).

The statements both engines share live in ``sql.SQLStore``; this module keeps
what is SQLite's own: the connections and the writer thread, the insert of a
batch with its FTS5 rows, id and tree-node look-ups sized for SQLite, the plan
it picks per search (``_plan``) and its ``DIALECT``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from sqlalchemy import create_engine, make_url

from sealtrail import export
from sealtrail.errors import ConfigurationError, NotFound
from sealtrail.events import Event, to_micros
from sealtrail.limits import COUNT_CAP
from sealtrail.query import EventQuery, Field, Page, Term
from sealtrail.query.text import search_text
from sealtrail.store import export_rows, migrations, sqlite_export
from sealtrail.store.base import EventShape, FieldErasure, SealedBatch, SearchResult
from sealtrail.store.codec import (
    COLUMNS,
    SELECT_LIST,
    erase_salts,
    from_row,
    pack_commitments,
    to_row,
)
from sealtrail.store.dialect import Clause, Dialect
from sealtrail.store.filters import compile_where, either_arms, has_either
from sealtrail.store.sql import (
    ADD_COUNT,
    MAX_SEQ,
    TAKE_ACTOR_COUNT,
    TAKE_COUNT,
    HourCount,
    Plan,
    SQLStore,
    day_of,
    hour_of,
)

if TYPE_CHECKING:
    from limits.storage import MemoryStorage

T = TypeVar("T")

_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_GROUP_LIMIT = 64  # jobs committed together at most
_ID_CHUNK = 500  # ids per IN (...) lookup, under SQLite's variable limit
# Up to this many matches a page is read through the filter's own index and sorted.
SPARSE_MATCHES = 4000
SPARSE_ENTRIES = COUNT_CAP
"""Up to this many matches of one positive range (a network, an action prefix, several
values of one field) a page is found by sorting the range's index entries, which hold
everything its test needs, and only the page's rows are read (``Plan.rows_last``)."""
UNION_ROWS = COUNT_CAP
"""An id-or-email term is read as a union of rowids up to this many (``_by_rowid``):
materialised, they cost a few milliseconds; the capped count then needs no walk."""
TEXT_WINDOWS = (2_000, 16_000, 128_000)
"""How many of the tenant's newest rows a page of free text is looked for among, in
turn (``_windowed_text_page``): a common word fills a page in the first; a word that
fills none falls back to the plan choice."""


def database_path(url: str) -> str:
    """The file an ``sqlite:///...`` URL names (SQLAlchemy's URL rules)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ConfigurationError(f"not an SQLite URL: {url}")
    if not parsed.database or parsed.database == ":memory:":
        raise ConfigurationError(
            "an in-memory SQLite database cannot be shared by the writer and readers; "
            "use a file, e.g. sqlite:///./sealtrail.db"
        )
    return parsed.database


class _Writer(threading.Thread):
    """Owns the only write connection and commits queued jobs in groups."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(name="sealtrail-sqlite-writer", daemon=True)
        self._connect = connect
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[sqlite3.Connection], Any], Future[Any]] | None
        ] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def submit(self, job: Callable[[sqlite3.Connection], T]) -> T:
        future: Future[T] = Future()
        self._jobs.put((job, future))
        return future.result()

    def stop(self) -> None:
        self._jobs.put(None)
        self.join(timeout=30)

    def run(self) -> None:
        connection = self._connect()
        try:
            while True:
                item = self._jobs.get()
                if item is None:
                    return
                group = [item]
                stopping = False
                while len(group) < _GROUP_LIMIT:
                    try:
                        nxt = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stopping = True
                        break
                    group.append(nxt)
                self._commit_group(connection, group)
                if stopping:
                    return
        finally:
            connection.close()

    @staticmethod
    def _commit_group(
        connection: sqlite3.Connection,
        group: list[tuple[Callable[[sqlite3.Connection], Any], Future[Any]]],
    ) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for job, future in group:
                connection.execute("SAVEPOINT job")
                try:
                    result = job(connection)
                except BaseException as exc:  # each job fails alone
                    connection.execute("ROLLBACK TO job")
                    connection.execute("RELEASE job")
                    outcomes.append((future, None, exc))
                else:
                    connection.execute("RELEASE job")
                    outcomes.append((future, result, None))
            connection.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            for _job, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


def fts_phrase(text: str) -> str:
    """A user's words as one FTS5 phrase: quoted, so no operator syntax leaks in."""
    return '"' + text.replace('"', '""') + '"'


def _action_prefix(prefix: str, column: str) -> Clause:
    # "member." — everything that sorts between it and "member/"
    return f"({column} >= ? AND {column} < ?)", [prefix, prefix[:-1] + "/"]


def _rows_last(source: str, where: str, order: str, direction: str) -> str:
    """The page's rowids from the index read alone, then its rows (``Plan.rows_last``)."""
    return (
        f"SELECT {SELECT_LIST} FROM events WHERE rowid IN"
        f" (SELECT rowid FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?)"
        f" ORDER BY +occurred_at {direction}, +seq {direction}"
    )


DIALECT: Final = Dialect(
    placeholder="?",
    for_update="",  # the writer thread is the only writer: appends already take turns
    unique_violation=sqlite3.IntegrityError,
    foreign_key_violation=(),
    undefined_table=sqlite3.OperationalError,
    true="1",
    false="0",
    unindexed="+",
    nocase_equals=lambda column: f"{column} = ? COLLATE NOCASE",
    action_prefix=_action_prefix,
    text_match=lambda text: (
        "rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)",
        [fts_phrase(text)],
    ),
    contains_nocase=lambda column: f"instr(lower({column}), lower(?)) > 0",
    json_integers=lambda column: f"SELECT value FROM json_each({column})",
    rows_last=_rows_last,
    union_ors=True,
)


class SQLiteStore(SQLStore[sqlite3.Connection]):
    """``EventStore`` on one SQLite file."""

    dialect = DIALECT
    _EVENT_BY_ID = f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND id = ?"
    _LEAVES = "events"
    _REFUSED = (sqlite3.IntegrityError,)

    def __init__(self, url: str, *, cache_mib: int = 256) -> None:
        self.url = url
        self.path = database_path(url)
        self._cache_kib = cache_mib * 1024
        self._local = threading.local()
        self._writer: _Writer | None = None
        self._writer_lock = threading.Lock()
        self._counters: MemoryStorage | None = None
        self._closed = False

    # -- connections ---------------------------------------------------------
    def _connect(self, *, cache_kib: int = 65536) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(f"PRAGMA cache_size=-{cache_kib}")
        connection.execute("PRAGMA temp_store=MEMORY")
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    def _reader(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
        return connection

    def _read(self, work: Callable[[sqlite3.Connection], T], *, replica: bool = False) -> T:
        return work(self._reader())

    def _write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    writer = _Writer(lambda: self._connect(cache_kib=self._cache_kib))
                    writer.start()
                    self._writer = writer
        return self._writer.submit(job)

    # -- rate limits ---------------------------------------------------------
    def rate_counters(self) -> MemoryStorage:
        """In this process: SQLite is served by one process (one writer), and a
        counter written through the writer on every request would cost ingest."""
        if self._counters is None:
            with self._writer_lock:
                if self._counters is None:
                    from limits.storage import MemoryStorage

                    self._counters = MemoryStorage()
        return self._counters

    # -- lifecycle -----------------------------------------------------------
    def migrate(self) -> list[str]:
        # Only a migration creates the file and its folder: a read of a mistyped
        # path reports it as not migrated and leaves nothing behind.
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{self.path}")
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                return migrations.upgrade("sqlite", connection)
        finally:
            engine.dispose()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def schema_revision(self) -> str | None:
        if not Path(self.path).is_file():
            return None
        return super().schema_revision()

    def ping(self) -> None:
        self._reader().execute("SELECT 1").fetchone()

    # -- events -------------------------------------------------------------------
    def _existing_ids(
        self, connection: sqlite3.Connection, tenant_id: str, ids: list[str]
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for ident, seq in connection.execute(
                f"SELECT id, seq FROM events WHERE tenant_id = ? AND id IN ({marks})",
                (tenant_id, *chunk),
            ):
                found[ident] = seq
        return found

    def _insert(self, connection: sqlite3.Connection, tenant_id: str, sealed: SealedBatch) -> None:
        # The tree's nodes go in before the text rows, not after: written after
        # events_fts's rows in the same transaction, each node cost the writer ~70 µs of
        # CPU (about one node per event: an append's CPU more than doubled); before them,
        # ~5 µs (docs/benchmarks.md, Ingest). Why inside SQLite was not isolated (a bare
        # FTS5 table and a plain table in memory do not show it), so
        # tests/store/test_sqlite_write_order.py holds the order. The nodes are levels
        # above 0, which no check on the events reads.
        if sealed.nodes:
            connection.executemany(
                "INSERT INTO tree_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)",
                [(tenant_id, lvl, idx, h) for lvl, idx, h in sealed.nodes],
            )
        connection.executemany(
            _INSERT_EVENT,
            [to_row(e, h) for e, h in zip(sealed.events, sealed.leaf_hashes, strict=True)],
        )
        last_rowid = connection.execute("SELECT last_insert_rowid()").fetchone()[0]
        first_rowid = last_rowid - len(sealed.events) + 1
        connection.executemany(
            "INSERT INTO events_fts (rowid, body) VALUES (?, ?)",
            [(first_rowid + i, search_text(e)) for i, e in enumerate(sealed.events)],
        )

    def _add_counts(
        self, connection: sqlite3.Connection, tenant_id: str, counts: list[HourCount]
    ) -> None:
        connection.executemany(ADD_COUNT, [(tenant_id, *count) for count in counts])

    @contextlib.contextmanager
    def _forgetting(self, connection: sqlite3.Connection) -> Iterator[None]:
        # secure_delete: the cells, index entries and pages freed meanwhile are
        # zeroed rather than left in the file's free space.
        was = connection.execute("PRAGMA secure_delete").fetchone()[0]
        connection.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            connection.execute(f"PRAGMA secure_delete = {int(was)}")

    def _erase(
        self, connection: sqlite3.Connection, tenant_id: str, erasures: Sequence[FieldErasure]
    ) -> int:
        # The text index's changes wait until every row is updated: rows written to the
        # events table after events_fts's in one transaction cost SQLite far more than
        # before them (see _insert), so they are run last, in the order they were made.
        text_changes: list[tuple[str, tuple[int, str]]] = []
        with self._forgetting(connection):
            erased = sum(self._erase_one(connection, tenant_id, e, text_changes) for e in erasures)
            for statement, values in text_changes:
                connection.execute(statement, values)
        return erased

    @staticmethod
    def _erase_one(
        connection: sqlite3.Connection,
        tenant_id: str,
        erasure: FieldErasure,
        text_changes: list[tuple[str, tuple[int, str]]],
    ) -> int:
        row = connection.execute(
            f"SELECT rowid, {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq = ?",
            (tenant_id, erasure.seq),
        ).fetchone()
        if row is None:
            raise NotFound(f"tenant {tenant_id!r} has no event {erasure.seq}")
        rowid, columns = row[0], dict(zip(COLUMNS, row[1:], strict=True))
        wanted = {
            path: text
            for path, text in erasure.commitments.items()
            if columns[_column(path)] is not None
        }
        if not wanted:
            return 0
        # The text the full-text index holds for the row: its values as stored.
        before = from_row(tuple(None if c == "commitments" else columns[c] for c in COLUMNS))
        cleared = {_column(path): None for path in wanted}
        if "ip" in wanted:
            cleared["ip_key"] = None
        after = from_row(
            tuple(None if c == "commitments" else cleared.get(c, columns[c]) for c in COLUMNS)
        )
        assignments = ", ".join(f"{column} = NULL" for column in cleared)
        connection.execute(
            f"UPDATE events SET {assignments}, salts = ?, commitments = ? WHERE rowid = ?",
            (
                erase_salts(columns["salts"], wanted),
                (columns["commitments"] or b"") + pack_commitments(wanted),
                rowid,
            ),
        )
        text_changes.append(
            (
                "INSERT INTO events_fts (events_fts, rowid, body) VALUES ('delete', ?, ?)",
                (rowid, search_text(before)),
            )
        )
        text_changes.append(
            ("INSERT INTO events_fts (rowid, body) VALUES (?, ?)", (rowid, search_text(after)))
        )
        return 1

    def prune_events(self, tenant_id: str, limit: int) -> int:
        def work(connection: sqlite3.Connection) -> int:
            found = connection.execute(
                "SELECT max(below) FROM prunes WHERE tenant_id = ?", (tenant_id,)
            ).fetchone()
            below = found[0] if found and found[0] is not None else 0
            rows = connection.execute(
                f"SELECT rowid, {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq < ?"
                " ORDER BY seq LIMIT ?",
                (tenant_id, below, limit),
            ).fetchall()
            if not rows:
                return 0
            connection.executemany(
                "INSERT INTO tree_nodes (tenant_id, level, idx, hash) VALUES (?, 0, ?, ?)"
                " ON CONFLICT (tenant_id, level, idx) DO NOTHING",
                [(tenant_id, r[2], r[-1]) for r in rows],
            )
            # The contentless full-text index forgets a row only when told its words.
            at = COLUMNS.index("commitments") + 1
            connection.executemany(
                "INSERT INTO events_fts (events_fts, rowid, body) VALUES ('delete', ?, ?)",
                [(r[0], search_text(from_row((*r[1:at], None, *r[at + 1 :])))) for r in rows],
            )
            with self._forgetting(connection):
                connection.execute(
                    "DELETE FROM events WHERE tenant_id = ? AND seq >= ? AND seq <= ?",
                    (tenant_id, rows[0][2], rows[-1][2]),
                )
            # The deleted events leave the timeline's counts in the same transaction.
            at, kind, outcome = (COLUMNS.index(c) + 1 for c in ("occurred_at", "kind", "outcome"))
            gone = Counter((hour_of(r[at]), r[kind], r[outcome]) for r in rows)
            keys = [(tenant_id, *key) for key in sorted(gone)]
            connection.executemany(TAKE_COUNT, [(gone[key[1:]], *key) for key in keys])
            connection.executemany(
                "DELETE FROM event_counts WHERE tenant_id = ? AND hour = ? AND kind = ?"
                " AND outcome = ? AND events = 0",
                keys,
            )
            actor = COLUMNS.index("actor_id") + 1
            by_actor = Counter((r[actor], day_of(r[at])) for r in rows)
            actor_keys = [(tenant_id, *key) for key in sorted(by_actor)]
            connection.executemany(
                TAKE_ACTOR_COUNT, [(by_actor[key[1:]], *key) for key in actor_keys]
            )
            connection.executemany(
                "DELETE FROM actor_day_counts WHERE tenant_id = ? AND actor_id = ? AND day = ?"
                " AND events = 0",
                actor_keys,
            )
            return len(rows)

        return self._write(work)

    def purge_erased(self, tenant_id: str, seqs: Sequence[int]) -> list[str]:
        def optimize(connection: sqlite3.Connection) -> None:
            # A delete in FTS5 only adds a marker; merging every segment into one
            # drops the erased words (and zeroes the segments it frees).
            with self._forgetting(connection):
                connection.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")

        self._write(optimize)
        done = ["merged the full-text index (erased words dropped)"]
        connection = self._connect()
        try:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            connection.close()
        if busy:
            done.append("the WAL could not be emptied now (a reader is open); it will be")
        else:
            done.append("checkpointed and truncated the WAL")
        return done

    def search(
        self, tenant_id: str, query: EventQuery, page: Page, *, with_total: bool = True
    ) -> SearchResult:
        if _text_drives(query):
            rows = self._read(
                lambda c: self._windowed_text_page(c, tenant_id, query, page), replica=True
            )
            if rows is not None:
                total = self.count(tenant_id, query, COUNT_CAP) if with_total else None
                events = [self.dialect.event_from_row(r) for r in rows[: page.limit]]
                return SearchResult(events, total, len(rows) > page.limit)
        elif _either_drives(query):
            rows = self._read(lambda c: self._either_page(c, tenant_id, query, page), replica=True)
            total = self.count(tenant_id, query, COUNT_CAP) if with_total else None
            events = [self.dialect.event_from_row(r) for r in rows[: page.limit]]
            return SearchResult(events, total, len(rows) > page.limit)
        return super().search(tenant_id, query, page, with_total=with_total)

    def _either_page(
        self, connection: sqlite3.Connection, tenant_id: str, query: EventQuery, page: Page
    ) -> list[Any]:
        """A page of an id-or-email term (the viewer's actor field): each column's own
        index read in page order, no further than the page, and the pages merged.

        Each of ``(tenant_id, actor_id, occurred_at, seq)`` and ``(tenant_id,
        actor_email, occurred_at, seq)`` holds its matches in page order, so the first
        ``offset + limit + 1`` of the union are among the first that many of each; an
        event found by both is one row (``UNION``). The union of every match's rowid,
        then a sort, read each matching row first: up to 10,000 at 1 M events.
        """
        arms, rest_where, rest_params = self._either_parts(tenant_id, query)
        desc = query.order == "desc"
        direction = "DESC" if desc else "ASC"
        order = f"ORDER BY occurred_at {direction}, seq {direction}"
        after, after_params = "", []
        if page.cursor is not None:
            after = f" AND (occurred_at, seq) {'<' if desc else '>'} (?, ?)"
            after_params = [page.cursor.occurred_at_us, min(page.cursor.seq, MAX_SEQ)]
        offset = page.offset if page.cursor is None else 0
        wanted = offset + page.limit + 1
        selects, params = [], []
        for where, args in arms:
            selects.append(
                f"SELECT * FROM (SELECT {SELECT_LIST} FROM events"
                f" WHERE {where} AND {rest_where}{after} {order} LIMIT ?)"
            )
            params += [*args, *rest_params, *after_params, wanted]
        sql = f"SELECT * FROM ({' UNION '.join(selects)}) {order} LIMIT ? OFFSET ?"
        return connection.execute(sql, [*params, page.limit + 1, offset]).fetchall()

    def _either_parts(
        self, tenant_id: str, query: EventQuery
    ) -> tuple[list[Clause], str, list[Any]]:
        """A lone id-or-email term's index reads (``either_arms``: one per column and
        value), and what every row they find must pass: the negated terms and the time."""
        positive = next(t for t in query.terms if not t.negate)
        rest = EventQuery(tuple(t for t in query.terms if t.negate), query.time)
        rest_where, rest_params = compile_where(self.dialect, tenant_id, rest)
        arms = either_arms(self.dialect, tenant_id, EventQuery((positive,)))
        return arms, rest_where, rest_params

    def _either_count(
        self, connection: sqlite3.Connection, tenant_id: str, query: EventQuery, cap: int | None
    ) -> int | None:
        """The matches of an id-or-email term, counted as ``_either_page`` reads them:
        each column's own index, the other tests made on each row it finds, and the
        rowids merged (an event both find is counted once).

        Capped, each index is read no further than ``cap + 1`` matches: if one of
        them has more, so has the union; if neither has, each read is whole and the
        union exact. The OR itself, once too many match for ``_by_rowid``'s union,
        is tested on every row of the tenant (2.5 s at 1 M events).
        """
        arms, rest_where, rest_params = self._either_parts(tenant_id, query)
        limit = [] if cap is None else [cap + 1]
        selects, params = [], []
        for where, args in arms:
            selects.append(
                f"SELECT * FROM (SELECT rowid FROM events WHERE {where} AND {rest_where}"
                f"{' LIMIT ?' if limit else ''})"
            )
            params += [*args, *rest_params, *limit]
        sql = f"SELECT count(*) FROM ({' UNION '.join(selects)})"
        total = int(connection.execute(sql, params).fetchone()[0])
        return None if cap is not None and total > cap else total

    def _windowed_text_page(
        self, connection: sqlite3.Connection, tenant_id: str, query: EventQuery, page: Page
    ) -> list[Any] | None:
        """A page of free text read from the tenant's newest rows only, or None.

        ``rowid IN (SELECT rowid FROM events_fts WHERE … MATCH ?)`` is a list of
        every tenant's matches, built before the first row is read: ~700 k rowids for
        a common word at 1 M events, hundreds of milliseconds, growing with the
        database. So a word with many matches is looked for among the tenant's
        newest ``TEXT_WINDOWS`` rows (those after the cursor, in page order): the
        rows strictly newer than the window's last are exactly the first rows of the
        page order, and their rowids lie between the window's least and greatest, so
        the full-text subquery lists only the matches in that rowid range. Where the
        window holds a whole page, that is the page; otherwise the next window, and
        after the last, None (the plan choice decides).
        """
        expression = _match_expression(query)
        probe = connection.execute(
            "SELECT count(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ? LIMIT ?)",
            (expression, SPARSE_MATCHES + 1),
        ).fetchone()[0]
        if probe <= SPARSE_MATCHES:
            return None  # few anywhere: read them all and sort (the plan choice's sparse plan)
        desc = query.order == "desc"
        direction, edge, beyond = ("DESC", "min", ">") if desc else ("ASC", "max", "<")
        walk, walk_params = compile_where(self.dialect, tenant_id, EventQuery(time=query.time))
        if page.cursor is not None:
            walk += f" AND (occurred_at, seq) {'<' if desc else '>'} (?, ?)"
            walk_params += [page.cursor.occurred_at_us, min(page.cursor.seq, MAX_SEQ)]
        offset = page.offset if page.cursor is None else 0
        order = f"ORDER BY occurred_at {direction}, seq {direction}"
        for window in TEXT_WINDOWS:
            rows_in, low, high, last = connection.execute(
                f"SELECT count(*), min(rowid), max(rowid), {edge}(occurred_at) FROM"
                f" (SELECT rowid, occurred_at FROM events INDEXED BY events_by_time"
                f" WHERE {walk} {order} LIMIT ?) AS newest",
                [*walk_params, window],
            ).fetchone()
            if rows_in == 0:
                return []
            whole = rows_in < window  # the window is every row left: no bound needed
            where, params = compile_where(
                _rowids_between(low, high), tenant_id, EventQuery(query.terms, query.time)
            )
            if page.cursor is not None:
                where += f" AND (occurred_at, seq) {'<' if desc else '>'} (?, ?)"
                params += [page.cursor.occurred_at_us, min(page.cursor.seq, MAX_SEQ)]
            if not whole:
                where += f" AND occurred_at {beyond} ?"
                params.append(last)
            rows = connection.execute(
                f"SELECT {SELECT_LIST} FROM events INDEXED BY events_by_time WHERE {where}"
                f" {order} LIMIT ? OFFSET ?",
                [*params, page.limit + 1, offset],
            ).fetchall()
            if whole or len(rows) > page.limit:
                return rows
        return None

    def _count(
        self,
        connection: sqlite3.Connection,
        tenant_id: str,
        query: EventQuery,
        cap: int | None,
        *,
        by_rowid: bool | None = None,
        kept_off: frozenset[Term] | None = None,
    ) -> int | None:
        if _either_drives(query):
            return self._either_count(connection, tenant_id, query, cap)
        if kept_off is None:  # a count of its own (``count``): the same driver as a page's
            positive = EventQuery(tuple(t for t in query.terms if not t.negate), query.time)
            kept_off, _ = self._driver(connection, tenant_id, positive)
        if not _text_drives(query):
            return super()._count(
                connection, tenant_id, query, cap, by_rowid=by_rowid, kept_off=kept_off
            )
        # Free text drives the count: the full-text index's matches, newest first, each
        # row's tenant and other terms read by rowid, stopping at the cap. The same
        # test as ``rowid IN (…)`` without building the list of every tenant's matches.
        rest = EventQuery(tuple(t for t in query.terms if not _positive_text(t)), query.time)
        where, params = compile_where(self.dialect, tenant_id, rest)
        found = (
            "SELECT 1 FROM (SELECT rowid AS fts_rowid FROM events_fts WHERE events_fts MATCH ?)"
            " AS found CROSS JOIN events ON events.rowid = found.fts_rowid"
            f" WHERE {self.dialect.unindexed}{where} ORDER BY found.fts_rowid DESC"
        )
        if cap is None:
            sql, args = f"SELECT count(*) FROM ({found})", [_match_expression(query), *params]
        else:
            sql = f"SELECT count(*) FROM ({found} LIMIT ?)"
            args = [_match_expression(query), *params, cap + 1]
        total = int(connection.execute(sql, args).fetchone()[0])
        return None if cap is not None and total > cap else total

    def _plan(self, tenant_id: str, query: EventQuery) -> Plan:
        # Without statistics SQLite cannot tell whether a filter matches a few rows
        # (read them through the filter's index, then sort) or many (walk the time
        # index and stop after one page). So it counts first, cheaply and capped,
        # and picks the plan; the count is the exact total when it is small.
        # Negated terms never drive an index (they test each row read), so only the
        # positive ones decide: the viewer's default "-category:audit_log" still walks
        # the time index newest first and stops after one page.
        positive = EventQuery(tuple(t for t in query.terms if not t.negate), query.time)
        choose = _needs_plan_choice(positive)

        def decide(
            connection: sqlite3.Connection,
        ) -> tuple[bool, frozenset[Term], bool, int | None]:
            by_rowid = self._by_rowid(connection, tenant_id, query)
            kept_off, ordered = self._driver(connection, tenant_id, positive)
            if ordered and not by_rowid:
                return by_rowid, kept_off, ordered, None  # no count needed: see below
            sparse = SPARSE_ENTRIES if _sorted_as_entries(query) else SPARSE_MATCHES
            count = self._count(
                connection, tenant_id, query, sparse, by_rowid=by_rowid, kept_off=kept_off
            )
            return by_rowid, kept_off, ordered, count

        by_rowid, kept_off, ordered, estimate = (
            self._read(decide, replica=True) if choose else (False, frozenset(), False, None)
        )
        if ordered and not by_rowid:
            # The fewest-matching term is an indexed equality: its index holds every
            # match in page order, so the page walks it and stops after one page,
            # testing the other terms on each row; few matches or many. Sorting them
            # would read each of its rows (a row read per entry) to find them all.
            return Plan("events", "occurred_at {d}, seq {d}", kept_off=kept_off)
        if estimate is not None:  # "+" keeps the time index from being chosen for the order
            # Few matches: sorted by what the index read holds (a range of a covering
            # index: its entries alone), then only the page's rows are read.
            return Plan(
                "events",
                "+occurred_at {d}, +seq {d}",
                text_first=True,
                by_rowid=by_rowid,
                total=estimate,
                kept_off=kept_off,
                rows_last=True,
            )
        if positive.terms and not choose:
            # One indexed equality: its own (tenant_id, column, occurred_at, seq) index
            # reads exactly the matches in page order. Forcing the time index here
            # would walk the whole tenant to find a rare value's few rows.
            return Plan("events", "occurred_at {d}, seq {d}")
        return Plan(
            "events INDEXED BY events_by_time", "occurred_at {d}, seq {d}", kept_off=kept_off
        )

    def _driver(
        self, connection: sqlite3.Connection, tenant_id: str, query: EventQuery
    ) -> tuple[frozenset[Term], bool]:
        """Of several positive terms an index could read, the one that matches the
        fewest rows (each counted through its own index, no further than the plan
        threshold; an equality wins a tie, then the first). Where that is an equality,
        whose index reads its matches in page order, the others' indexes are kept off
        (returned, with True):
        SQLite without statistics would as soon read ``action:member.*`` (a range of
        100 k entries at 1 M events, each row read to test the actor) as
        ``actor:usr_00010`` (5 k entries) for the two together."""
        candidates = [t for t in query.terms if _indexed_single(t)]
        if len(candidates) < 2:
            return frozenset(), False
        found: list[tuple[int, bool, int]] = []
        # The time range is tested on each entry ("+"): the term's own index reads it.
        bounds = [("+occurred_at >= ?", query.time.since), ("+occurred_at < ?", query.time.until)]
        for i, term in enumerate(candidates):
            where, params = compile_where(self.dialect, tenant_id, EventQuery((term,)))
            for clause, moment in bounds:
                if moment is not None:
                    where += f" AND {clause}"
                    params.append(to_micros(moment))
            (matches,) = connection.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM events WHERE {where} LIMIT ?)",
                [*params, SPARSE_MATCHES + 1],
            ).fetchone()
            found.append((matches, _needs_plan_choice(EventQuery((term,))), i))
        _, unordered, best = min(found)
        if unordered:
            # A range (an action prefix, a network): its index holds no time after the
            # value, so with a time range SQLite may rightly prefer the time index.
            return frozenset(), False
        return frozenset(t for i, t in enumerate(candidates) if i != best), True

    def _by_rowid(self, connection: sqlite3.Connection, tenant_id: str, query: EventQuery) -> bool:
        """An id-or-email term (``actor:ann@example.com``) is an OR that SQLite without
        statistics tests on every row of the tenant; read as the union of what its two
        indexes find it costs what they find. That is all of them before the first
        row, so only where the indexes find no more than ``UNION_ROWS`` together
        (counted first, each index read no further than that): a hot address keeps
        the walk down the time index that stops after one page."""
        if not has_either(query):
            return False
        arms = either_arms(self.dialect, tenant_id, query)
        probes = " + ".join(
            f"(SELECT count(*) FROM (SELECT 1 FROM events WHERE {where} LIMIT ?))"
            for where, _ in arms
        )
        params = [p for _, args in arms for p in (*args, UNION_ROWS + 1)]
        found = int(self._execute(connection, f"SELECT {probes}", params).fetchone()[0])
        return found <= UNION_ROWS

    def _time_drives_histogram(self, tenant_id: str, query: EventQuery) -> bool:
        # As for a page (``_plan``): without statistics SQLite may walk the range's
        # rows through the time index to find a rare value's few; a capped count
        # tells, and a sparse filter then reads its matches through its own index.
        return self.count(tenant_id, query, SPARSE_MATCHES) is None

    @contextlib.contextmanager
    def _streamed(
        self, sql: str, params: Sequence[Any], chunk_size: int
    ) -> Iterator[tuple[sqlite3.Connection, Iterator[list[Any]]]]:
        """A statement's chunks, and the connection, in one read transaction: a
        connection of its own (a stream may be resumed on other threads) whose
        statements all read one snapshot."""
        connection = self._connect()
        try:
            connection.execute("BEGIN")
            cursor = connection.execute(sql, params)
            yield connection, iter(lambda: cursor.fetchmany(chunk_size), [])
        finally:
            connection.close()

    def _rows(
        self, sql: str, params: Sequence[Any], chunk_size: int, *, replica: bool = False
    ) -> Iterator[list[Any]]:
        with self._streamed(sql, params, chunk_size) as (_connection, chunks):
            yield from chunks

    def export_body(
        self, tenant_id: str, query: EventQuery, fmt: Literal["csv", "ndjson"]
    ) -> Iterator[bytes]:
        # SQLite writes each row's line (sqlite_export); the few it cannot write the same
        # way come back NULL and are written from their columns (export_rows).
        sql, params = self._every_match(tenant_id, query, sqlite_export.line_select(fmt))
        # One snapshot for the lines and the rows re-read.
        with self._streamed(sql, params, export.ROWS_PER_CHUNK) as (connection, chunks):
            for rows in chunks:
                lines: list[bytes] = [line for line, _seq in rows]
                if None in lines:
                    left = [seq for line, seq in rows if line is None]
                    written = self._written_rows(connection, tenant_id, left, fmt)
                    lines = [written[seq] if line is None else line for line, seq in rows]
                yield b"".join(lines)

    @staticmethod
    def _written_rows(
        connection: sqlite3.Connection,
        tenant_id: str,
        seqs: list[int],
        fmt: Literal["csv", "ndjson"],
    ) -> dict[int, bytes]:
        """Rows ``seqs`` written from their columns, by seq."""
        marks = ", ".join("?" * len(seqs))
        rows = connection.execute(
            f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq IN ({marks})",
            (tenant_id, *seqs),
        ).fetchall()
        seq_at = COLUMNS.index("seq")
        return {row[seq_at]: export_rows.written(row, fmt) for row in rows}

    def get_events_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        if isinstance(seqs, range) and seqs.step == 1:
            # A run of seqs (a log follower's batch): one range scan of the seq index
            # rather than a list of hundreds of values to look up one by one.
            rows = self._reader().execute(
                f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq >= ? AND seq < ?"
                " ORDER BY seq",
                (tenant_id, seqs.start, seqs.stop),
            )
            return [from_row(r) for r in rows]
        out: list[Event] = []
        for start in range(0, len(seqs), _ID_CHUNK):
            chunk = list(seqs[start : start + _ID_CHUNK])
            marks = ", ".join("?" * len(chunk))
            rows = self._reader().execute(
                f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq IN ({marks})"
                " ORDER BY seq",
                (tenant_id, *chunk),
            )
            out.extend(from_row(r) for r in rows)
        return out

    def _execute_many(
        self, connection: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]
    ) -> None:
        connection.executemany(sql, rows)

    def event_shapes(self, tenant_id: str, start: int, stop: int) -> list[EventShape]:
        rows = self._reader().execute(
            "SELECT seq, action, category, kind, outcome, commitments FROM events"
            " WHERE tenant_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
            (tenant_id, start, stop),
        )
        return [EventShape(*r) for r in rows]

    # -- tree state -----------------------------------------------------------------------
    def tree_nodes(self, tenant_id: str, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        # Point lookups on the primary keys: a proof needs ~2·log2(n) of them, and
        # each is microseconds, where one OR-chained query is milliseconds.
        connection = self._reader()
        out: list[bytes] = []
        for level, idx in keys:
            row = None
            if level == 0:
                row = connection.execute(
                    "SELECT leaf_hash FROM events WHERE tenant_id = ? AND seq = ?",
                    (tenant_id, idx),
                ).fetchone()
            if level > 0 or row is None:  # a pruned event's leaf hash is kept as a node
                row = connection.execute(
                    "SELECT hash FROM tree_nodes WHERE tenant_id = ? AND level = ? AND idx = ?",
                    (tenant_id, level, idx),
                ).fetchone()
            if row is None:
                raise NotFound(f"tree node {(level, idx)} of tenant {tenant_id!r} is missing")
            out.append(bytes(row[0]))
        return out


def _column(path: str) -> str:
    """The events column of a personal field: ``actor.email`` → ``actor_email``."""
    return path.replace(".", "_")


# One positive value of these is served, in page order, by an index ending in (occurred_at, seq).
_ORDERED_EQUALITY = frozenset(
    {
        Field.ACTION,
        Field.CATEGORY,
        Field.KIND,
        Field.OUTCOME,
        Field.ACTOR_ID,
        Field.ACTOR_EMAIL,
        Field.TARGET_ID,
        Field.RESOURCE_TYPE,
        Field.RESOURCE_ID,
        Field.ACCOUNT_ID,
    }
)


def _needs_plan_choice(query: EventQuery) -> bool:
    """Whether SQLite's own plan could be slow: anything but one indexed equality."""
    if not query.terms:
        return False
    if len(query.terms) > 1:
        return True
    term = query.terms[0]
    if term.negate or len(term.values) != 1:
        return True
    value = term.values[0]
    if term.field in (Field.ACTOR, Field.TARGET):  # without "@" only the id can match
        return "@" in str(value)
    if term.field is Field.RESOURCE:  # a type's index, or with an id the id's: in order
        return False
    return term.field not in _ORDERED_EQUALITY or (
        term.field is Field.ACTION and str(value).endswith(".*")
    )


def _sorted_as_entries(query: EventQuery) -> bool:
    """Whether the query is one positive term whose index entries answer it whole (and
    its time range): their sort reads no row, so more of them may be sorted."""
    if len(query.terms) != 1:
        return False
    term = query.terms[0]
    return not term.negate and term.field is not Field.TEXT and not has_either(query)


def _indexed_single(term: Term) -> bool:
    """A positive term of one value that an index of its column reads (a range too)."""
    if term.negate or len(term.values) != 1:
        return False
    if term.field in (Field.ACTOR, Field.TARGET):  # an "@" is an id-or-email OR
        return "@" not in str(term.values[0])
    return term.field in _ORDERED_EQUALITY or term.field in (Field.RESOURCE, Field.IP)


def _positive_text(term: Term) -> bool:
    return term.field is Field.TEXT and not term.negate


def _either_drives(query: EventQuery) -> bool:
    """Whether the query's one positive test is an id-or-email term (negated terms and
    the time range are tested on each row its indexes find)."""
    positive = [t for t in query.terms if not t.negate]
    return len(positive) == 1 and has_either(EventQuery((positive[0],)))


def _text_drives(query: EventQuery) -> bool:
    """Whether free text is the query's only positive test (negated terms and the time
    range are tested on each row it finds)."""
    positive = [t for t in query.terms if not t.negate]
    return bool(positive) and all(t.field is Field.TEXT for t in positive)


def _match_expression(query: EventQuery) -> str:
    """The query's positive free text as one FTS5 expression: each term's phrases ORed,
    the terms ANDed (what ``rowid IN`` one subquery per term tests)."""
    terms = [t for t in query.terms if _positive_text(t)]
    return " AND ".join(
        "(" + " OR ".join(fts_phrase(str(v)) for v in t.values) + ")" for t in terms
    )


def _rowids_between(low: int, high: int) -> Dialect:
    """The dialect with free text bounded to a range of rowids (``_windowed_text_page``)."""
    return dataclasses.replace(
        DIALECT,
        text_match=lambda text: (
            "rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?"
            " AND rowid BETWEEN ? AND ?)",
            [fts_phrase(text), low, high],
        ),
    )
