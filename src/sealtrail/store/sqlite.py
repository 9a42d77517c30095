"""The embedded SQLite engine: one file, WAL, one writer thread.

Durability: ``synchronous=FULL``. In WAL mode NORMAL already survives ``kill -9``
of the server (a committed transaction has been written to the WAL file before
COMMIT returns; only the fsync is deferred), but it can lose the last
transactions on power loss or an OS crash. An audit log acknowledges an event
only once it is on disk, so each commit is fsynced; the writer thread commits
the batches of all concurrent requests in one transaction, which spreads that
fsync over many events.

Reads use one connection per thread and never block the writer (WAL).
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, make_url

from sealtrail.catalog import EventType
from sealtrail.errors import ConfigurationError, Conflict, NotFound
from sealtrail.events import Event
from sealtrail.query import EventQuery, Field, Page
from sealtrail.store import migrations
from sealtrail.store.base import (
    COUNT_CAP,
    ApiKeyRecord,
    EventStore,
    Receipt,
    Sealer,
    SearchResult,
    StoredCheckpoint,
    Tenant,
    TreeHead,
)
from sealtrail.store.codec import COLUMNS, SELECT_LIST, from_row, search_text, to_row
from sealtrail.store.sqlite_filters import compile_where

T = TypeVar("T")

_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_GROUP_LIMIT = 64  # jobs committed together at most
_ID_CHUNK = 500  # ids per IN (...) lookup, under SQLite's variable limit
# Up to this many matches a page is read through the filter's own index and sorted.
SPARSE_MATCHES = 4000


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


class SQLiteStore(EventStore):
    """``EventStore`` on one SQLite file."""

    def __init__(self, url: str, *, cache_mib: int = 256) -> None:
        self.url = url
        self.path = database_path(url)
        self._cache_kib = cache_mib * 1024
        self._local = threading.local()
        self._writer: _Writer | None = None
        self._writer_lock = threading.Lock()
        self._closed = False
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)

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

    def _write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    writer = _Writer(lambda: self._connect(cache_kib=self._cache_kib))
                    writer.start()
                    self._writer = writer
        return self._writer.submit(job)

    # -- lifecycle -----------------------------------------------------------
    def migrate(self) -> list[str]:
        engine = create_engine(f"sqlite:///{self.path}")
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                return migrations.upgrade("sqlite", connection)
        finally:
            engine.dispose()

    def schema_revision(self) -> str | None:
        try:
            row = self._reader().execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return None if row is None else str(row[0])

    def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def ping(self) -> None:
        self._reader().execute("SELECT 1").fetchone()

    # -- tenants, keys, event types ---------------------------------------------
    def create_tenant(self, tenant: Tenant) -> None:
        def job(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(
                    "INSERT INTO tenants (id, name, created_at, strict) VALUES (?, ?, ?, ?)",
                    (tenant.id, tenant.name, tenant.created_at, int(tenant.strict)),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"tenant {tenant.id!r} already exists") from exc

        self._write(job)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = (
            self._reader()
            .execute("SELECT id, name, created_at, strict FROM tenants WHERE id = ?", (tenant_id,))
            .fetchone()
        )
        return None if row is None else Tenant(row[0], row[1], row[2], bool(row[3]))

    def list_tenants(self) -> list[Tenant]:
        rows = self._reader().execute(
            "SELECT id, name, created_at, strict FROM tenants ORDER BY id"
        )
        return [Tenant(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def add_api_key(self, key: ApiKeyRecord) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO api_keys (id, tenant_id, secret_hash, scopes, name, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.tenant_id,
                    key.secret_hash,
                    ",".join(sorted(key.scopes)),
                    key.name,
                    key.created_at,
                ),
            )
        )

    _KEY_COLUMNS = "id, tenant_id, secret_hash, scopes, created_at, name, revoked_at"

    @staticmethod
    def _key(row: Sequence[Any]) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row[0],
            tenant_id=row[1],
            secret_hash=bytes(row[2]),
            scopes=frozenset(s for s in row[3].split(",") if s),
            created_at=row[4],
            name=row[5],
            revoked_at=row[6],
        )

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        row = (
            self._reader()
            .execute(f"SELECT {self._KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
            .fetchone()
        )
        return None if row is None else self._key(row)

    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            rows = self._reader().execute(
                f"SELECT {self._KEY_COLUMNS} FROM api_keys ORDER BY tenant_id, created_at"
            )
        else:
            rows = self._reader().execute(
                f"SELECT {self._KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at",
                (tenant_id,),
            )
        return [self._key(r) for r in rows]

    def revoke_api_key(self, key_id: str, at: int) -> bool:
        def job(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (at, key_id),
            )
            return cursor.rowcount == 1

        return self._write(job)

    def put_event_type(self, tenant_id: str, event_type: EventType) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO event_types (tenant_id, name, category, kind, description,"
                " expects_target, resource_type) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant_id,
                    event_type.name,
                    event_type.category,
                    event_type.kind,
                    event_type.description,
                    int(event_type.expects_target),
                    event_type.resource_type,
                ),
            )
        )

    def tenant_event_types(self, tenant_id: str) -> list[EventType]:
        rows = self._reader().execute(
            "SELECT name, category, kind, description, expects_target, resource_type"
            " FROM event_types WHERE tenant_id = ? ORDER BY name",
            (tenant_id,),
        )
        return [
            EventType(
                name=r[0],
                category=r[1],
                kind=r[2],
                description=r[3],
                expects_target=bool(r[4]),
                resource_type=r[5],
                builtin=False,
            )
            for r in rows
        ]

    # -- events -------------------------------------------------------------------
    def append(self, tenant_id: str, events: Sequence[Event], seal: Sealer) -> list[Receipt]:
        def job(connection: sqlite3.Connection) -> list[Receipt]:
            head_row = connection.execute(
                "SELECT tree_size, frontier FROM tenants WHERE id = ?", (tenant_id,)
            ).fetchone()
            if head_row is None:
                raise NotFound(f"no tenant {tenant_id!r}")
            known = self._existing_ids(connection, tenant_id, [e.id for e in events])
            fresh: list[Event] = []
            first_of: dict[str, int] = {}
            for event in events:
                if event.id not in known and event.id not in first_of:
                    first_of[event.id] = len(fresh)
                    fresh.append(event)
            head = TreeHead(head_row[0], _split_frontier(head_row[1]))
            if fresh:
                sealed = seal(head, fresh)
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
                if sealed.nodes:
                    connection.executemany(
                        "INSERT INTO tree_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)",
                        [(tenant_id, lvl, idx, h) for lvl, idx, h in sealed.nodes],
                    )
                connection.execute(
                    "UPDATE tenants SET tree_size = ?, frontier = ? WHERE id = ?",
                    (sealed.head.size, b"".join(sealed.head.frontier), tenant_id),
                )
                for event in sealed.events:
                    known[event.id] = event.seq
            return [Receipt(e.id, known[e.id], first_of.get(e.id, -1) >= 0) for e in events]

        receipts = self._write(job)
        # Only the first occurrence of a new id in the batch was created.
        seen: set[str] = set()
        out = []
        for receipt in receipts:
            created = receipt.created and receipt.id not in seen
            seen.add(receipt.id)
            out.append(Receipt(receipt.id, receipt.seq, created))
        return out

    @staticmethod
    def _existing_ids(
        connection: sqlite3.Connection, tenant_id: str, ids: Sequence[str]
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _ID_CHUNK):
            chunk = unique[start : start + _ID_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for ident, seq in connection.execute(
                f"SELECT id, seq FROM events WHERE tenant_id = ? AND id IN ({marks})",
                (tenant_id, *chunk),
            ):
                found[ident] = seq
        return found

    def search(
        self, tenant_id: str, query: EventQuery, page: Page, *, with_total: bool = True
    ) -> SearchResult:
        # Without statistics SQLite cannot tell whether a filter matches a few rows
        # (read them through the filter's index, then sort) or many (walk the time
        # index and stop after one page). So it counts first, cheaply and capped,
        # and picks the plan; the count is the exact total when it is small.
        estimate = (
            self._count(tenant_id, query, SPARSE_MATCHES) if _needs_plan_choice(query) else None
        )
        sparse = estimate is not None
        where, params = compile_where(tenant_id, query, text_first=sparse)
        direction = "DESC" if query.order == "desc" else "ASC"
        if page.cursor is not None:
            op = "<" if query.order == "desc" else ">"
            where += f" AND (occurred_at, seq) {op} (?, ?)"
            params += [page.cursor.occurred_at_us, page.cursor.seq]
        if sparse:  # "+" keeps the time index from being chosen just for the order
            source, order = "events", f"+occurred_at {direction}, +seq {direction}"
        else:
            source, order = (
                "events INDEXED BY events_by_time",
                f"occurred_at {direction}, seq {direction}",
            )
        sql = f"SELECT {SELECT_LIST} FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        offset = page.offset if page.cursor is None else 0
        rows = self._reader().execute(sql, (*params, page.limit + 1, offset)).fetchall()
        has_more = len(rows) > page.limit
        events = [from_row(r) for r in rows[: page.limit]]
        total = None
        if with_total:
            total = estimate if sparse else self._count(tenant_id, query, COUNT_CAP)
        return SearchResult(events, total, has_more)

    def count(self, tenant_id: str, query: EventQuery, cap: int | None = COUNT_CAP) -> int | None:
        return self._count(tenant_id, query, cap)

    def _count(self, tenant_id: str, query: EventQuery, cap: int | None) -> int | None:
        where, params = compile_where(tenant_id, query, text_first=True)
        if cap is None:
            row = self._reader().execute(f"SELECT count(*) FROM events WHERE {where}", params)
            return int(row.fetchone()[0])
        row = self._reader().execute(
            f"SELECT count(*) FROM (SELECT 1 FROM events WHERE {where} LIMIT ?)",
            (*params, cap + 1),
        )
        total = int(row.fetchone()[0])
        return None if total > cap else total

    def stream(
        self, tenant_id: str, query: EventQuery, *, chunk_size: int = 1000
    ) -> Iterator[list[Event]]:
        where, params = compile_where(tenant_id, query)
        direction = "DESC" if query.order == "desc" else "ASC"
        sql = (
            f"SELECT {SELECT_LIST} FROM events WHERE {where}"
            f" ORDER BY occurred_at {direction}, seq {direction}"
        )
        return self._stream(sql, params, chunk_size)

    def scan(
        self, tenant_id: str, start: int = 0, *, chunk_size: int = 5000
    ) -> Iterator[list[tuple[Event, bytes]]]:
        sql = f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq >= ? ORDER BY seq"
        for rows in self._rows(sql, [tenant_id, start], chunk_size):
            yield [(from_row(r), bytes(r[-1])) for r in rows]

    def _stream(self, sql: str, params: Sequence[Any], chunk_size: int) -> Iterator[list[Event]]:
        for rows in self._rows(sql, params, chunk_size):
            yield [from_row(r) for r in rows]

    def _rows(self, sql: str, params: Sequence[Any], chunk_size: int) -> Iterator[list[Any]]:
        # A connection of its own: the generator may be resumed on other threads,
        # and one read transaction gives the whole stream a single snapshot.
        connection = self._connect()
        try:
            connection.execute("BEGIN")
            cursor = connection.execute(sql, params)
            while True:
                rows = cursor.fetchmany(chunk_size)
                if not rows:
                    return
                yield rows
        finally:
            connection.close()

    def get_event(self, tenant_id: str, event_id: str) -> Event | None:
        row = (
            self._reader()
            .execute(
                f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND id = ?",
                (tenant_id, event_id),
            )
            .fetchone()
        )
        return None if row is None else from_row(row)

    def get_events_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> list[Event]:
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

    # -- tree state and checkpoints -----------------------------------------------------
    def tree_head(self, tenant_id: str) -> TreeHead:
        row = (
            self._reader()
            .execute("SELECT tree_size, frontier FROM tenants WHERE id = ?", (tenant_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return TreeHead(row[0], _split_frontier(row[1]))

    def tree_nodes(self, tenant_id: str, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        # Point lookups on the primary keys: a proof needs ~2·log2(n) of them, and
        # each is microseconds, where one OR-chained query is milliseconds.
        connection = self._reader()
        out: list[bytes] = []
        for level, idx in keys:
            if level == 0:
                row = connection.execute(
                    "SELECT leaf_hash FROM events WHERE tenant_id = ? AND seq = ?",
                    (tenant_id, idx),
                ).fetchone()
            else:
                row = connection.execute(
                    "SELECT hash FROM tree_nodes WHERE tenant_id = ? AND level = ? AND idx = ?",
                    (tenant_id, level, idx),
                ).fetchone()
            if row is None:
                raise NotFound(f"tree node {(level, idx)} of tenant {tenant_id!r} is missing")
            out.append(bytes(row[0]))
        return out

    def leaf_hashes(self, tenant_id: str, start: int, stop: int) -> list[bytes]:
        rows = self._reader().execute(
            "SELECT leaf_hash FROM events WHERE tenant_id = ? AND seq >= ? AND seq < ?"
            " ORDER BY seq",
            (tenant_id, start, stop),
        )
        return [bytes(r[0]) for r in rows]

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO checkpoints"
                " (tenant_id, tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?, ?)",
                (
                    checkpoint.tenant_id,
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    checkpoint.note,
                    checkpoint.created_at,
                ),
            )
        )

    _CHECKPOINT_COLUMNS = "tenant_id, tree_size, root_hash, note, created_at"

    def latest_checkpoint(self, tenant_id: str) -> StoredCheckpoint | None:
        row = (
            self._reader()
            .execute(
                f"SELECT {self._CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant_id = ?"
                " ORDER BY tree_size DESC LIMIT 1",
                (tenant_id,),
            )
            .fetchone()
        )
        return (
            None if row is None else StoredCheckpoint(row[0], row[1], bytes(row[2]), row[3], row[4])
        )

    def checkpoints(self, tenant_id: str) -> list[StoredCheckpoint]:
        rows = self._reader().execute(
            f"SELECT {self._CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant_id = ?"
            " ORDER BY tree_size",
            (tenant_id,),
        )
        return [StoredCheckpoint(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]


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
    return (
        term.negate
        or len(term.values) != 1
        or term.field not in _ORDERED_EQUALITY
        or (term.field is Field.ACTION and str(term.values[0]).endswith(".*"))
    )


def _split_frontier(blob: bytes) -> tuple[bytes, ...]:
    data = bytes(blob)
    return tuple(data[i : i + 32] for i in range(0, len(data), 32))
