"""The PostgreSQL engine: many API processes, one database.

Connections come from a ``psycopg_pool.ConnectionPool`` in autocommit mode;
anything that must be atomic opens its own transaction.

Appends to one tenant are serialised *inside the database*: the append
transaction first locks the tenant's row (``SELECT … FOR UPDATE``), which holds
its tree head. Any number of threads, ``serve --workers`` processes or separate
hosts may append to the same tenant; each waits for the previous append to
commit, then reads the head it left, so ``seq`` stays gap-free and the tree
consistent. Appends to different tenants never wait for each other. Under the
lock an append looks the batch's ids up in ``event_ids`` (idempotency), runs
the ``Sealer``, COPYs the events, their ids and the new tree nodes in binary,
and moves the head — one transaction, so events and tree state cannot
disagree after a crash.

Streams (exports, verification) read through a server-side cursor in one
transaction: one snapshot, and memory that stays flat however many rows match.

The schema (``migrations/postgres``) partitions events by month; see that
revision for the layout and ``docs/operations.md`` for running it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

import psycopg
from psycopg import errors
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from sealtrail.catalog import EventType
from sealtrail.errors import Conflict, InconsistentTree, NotFound
from sealtrail.events import Event
from sealtrail.query import EventQuery, Page
from sealtrail.store import migrations
from sealtrail.store.base import (
    COUNT_CAP,
    ApiKeyRecord,
    EventStore,
    Receipt,
    SealedBatch,
    Sealer,
    SearchResult,
    StoredCheckpoint,
    Tenant,
    TreeHead,
)
from sealtrail.store.codec import COLUMNS, SELECT_LIST
from sealtrail.store.postgres_admin import (
    DEFAULT_RUNTIME_ROLE,
    grant_runtime_role,
    libpq_url,
    sqlalchemy_url,
)
from sealtrail.store.postgres_filters import compile_where
from sealtrail.store.postgres_rows import (
    COPY_TYPES,
    escape_text,
    event_from_row,
    event_row,
    unescape_text,
)

log = logging.getLogger(__name__)

Connection = psycopg.Connection[TupleRow]

_COPY_EVENTS: Final = f"COPY events ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_IDS: Final = (
    "COPY event_ids (tenant_id, id, seq, occurred_at, leaf_hash) FROM STDIN (FORMAT BINARY)"
)
_COPY_NODES: Final = "COPY tree_nodes (tenant_id, level, idx, hash) FROM STDIN (FORMAT BINARY)"
# Events found through event_ids: the (seq, occurred_at) it holds lets the
# planner prune every partition but the one the row lives in.
_BY_ID_JOIN: Final = (
    f"SELECT {', '.join('e.' + c for c in COLUMNS)} FROM event_ids i JOIN events e"
    " ON e.tenant_id = i.tenant_id AND e.seq = i.seq AND e.occurred_at = i.occurred_at"
)
_MAX_BIGINT: Final = 2**63 - 1
_DAY_US: Final = 86_400_000_000
# Partitions are extended once fewer than this many days of them remain ahead.
_EXTEND_MARGIN_US: Final = 62 * _DAY_US
_EXTEND_RETRY_S: Final = 300.0
_KEY_COLUMNS: Final = "id, tenant_id, secret_hash, scopes, created_at, name, revoked_at"
_CHECKPOINT_COLUMNS: Final = "tenant_id, tree_size, root_hash, note, created_at"


class _Pool:
    """A connection pool opened on first use, so building a store touches nothing."""

    def __init__(self, conninfo: str, name: str, size: tuple[int, int], timeout: float) -> None:
        self._pool = ConnectionPool(
            conninfo,
            min_size=size[0],
            max_size=size[1],
            kwargs={"autocommit": True},
            timeout=timeout,
            check=ConnectionPool.check_connection,
            name=name,
            open=False,
        )
        self._lock = threading.Lock()
        self._opened = False

    def connection(
        self, timeout: float | None = None
    ) -> contextlib.AbstractContextManager[Connection]:
        if not self._opened:
            with self._lock:
                if not self._opened:
                    self._pool.open()
                    self._opened = True
        return self._pool.connection(timeout=timeout)

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self._pool.close()
                self._opened = False


class PostgresStore(EventStore):
    """``EventStore`` on a PostgreSQL database (``postgresql://user@host:5432/db``).

    ``read_url``, when given, names a hot standby (a streaming replica) that
    ``search``, ``count`` and ``stream`` read from; everything else, and every
    write, goes to ``url``. Results read there may trail the primary by the
    replication lag. ``runtime_role`` is the role ``migrate`` creates and
    grants the runtime privileges to (None: leave roles alone).
    ``months_ahead`` is how many month partitions beyond the current one are
    kept ready.
    """

    def __init__(
        self,
        url: str,
        *,
        read_url: str | None = None,
        min_connections: int = 1,
        max_connections: int = 16,
        runtime_role: str | None = DEFAULT_RUNTIME_ROLE,
        months_ahead: int = 3,
        pool_timeout: float = 30.0,
    ) -> None:
        self.url = url
        self._conninfo = libpq_url(url)
        self._runtime_role = runtime_role
        self._months_ahead = months_ahead
        size = (min_connections, max_connections)
        self._pool = _Pool(self._conninfo, "sealtrail", size, pool_timeout)
        self._read_pool = (
            self._pool
            if read_url is None
            else _Pool(libpq_url(read_url), "sealtrail-read", size, pool_timeout)
        )
        self._partition_lock = threading.Lock()
        self._partitions_until = 0  # µs: month partitions exist up to here
        self._partitions_checked = 0.0  # monotonic time of the last attempt

    # -- connections -----------------------------------------------------------
    def _connection(
        self, timeout: float | None = None
    ) -> contextlib.AbstractContextManager[Connection]:
        return self._pool.connection(timeout)

    def _read_connection(self) -> contextlib.AbstractContextManager[Connection]:
        return self._read_pool.connection()

    # -- lifecycle -------------------------------------------------------------
    def migrate(self) -> list[str]:
        engine = create_engine(sqlalchemy_url(self.url), poolclass=NullPool)
        try:
            with engine.begin() as connection:
                applied = migrations.upgrade("postgres", connection)
        finally:
            engine.dispose()
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            self._add_partitions(connection)
            if self._runtime_role is not None:
                grant_runtime_role(connection, self._runtime_role)
        return applied

    def _add_partitions(self, connection: Connection) -> None:
        """Last month through ``months_ahead``, moving any rows stranded in the default."""
        today = datetime.now(UTC).date()
        for offset in range(-1, self._months_ahead + 1):
            index = today.year * 12 + today.month - 1 + offset
            month = date(index // 12, index % 12 + 1, 1)
            connection.execute("SELECT sealtrail_add_partition(%s, true)", (month,))

    def ensure_partitions(self) -> int:
        """Create the month partitions ahead (as the runtime role may); return their end in µs."""
        with self._connection() as connection, connection.transaction():
            # Creating a partition briefly locks the events table; rather than
            # queue every reader behind a long export, give up and retry later.
            connection.execute("SET LOCAL lock_timeout = '2s'")
            row = connection.execute(
                "SELECT sealtrail_ensure_partitions(%s)", (self._months_ahead,)
            ).fetchone()
        assert row is not None
        self._partitions_until = int(row[0])
        return self._partitions_until

    def _keep_partitions_ahead(self) -> None:
        """The cheap check on append: one clock comparison, a round trip about monthly."""
        if time.time() * 1_000_000 + _EXTEND_MARGIN_US < self._partitions_until:
            return
        now = time.monotonic()
        if now - self._partitions_checked < _EXTEND_RETRY_S:
            return
        if not self._partition_lock.acquire(blocking=False):
            return
        try:
            self._partitions_checked = now
            self.ensure_partitions()
        except psycopg.Error as exc:
            # Rows still land in the default partition; nothing is lost.
            log.warning("could not create the PostgreSQL partitions ahead: %s", exc)
        finally:
            self._partition_lock.release()

    def schema_revision(self) -> str | None:
        with self._connection() as connection:
            try:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            except errors.UndefinedTable:
                return None
        return None if row is None else str(row[0])

    def close(self) -> None:
        self._pool.close()
        self._read_pool.close()

    def ping(self) -> None:
        with self._connection(timeout=5.0) as connection:
            connection.execute("SELECT 1").fetchone()

    # -- tenants, keys, event types --------------------------------------------
    def create_tenant(self, tenant: Tenant) -> None:
        with self._connection() as connection:
            try:
                connection.execute(
                    "INSERT INTO tenants (id, name, created_at, strict) VALUES (%s, %s, %s, %s)",
                    (tenant.id, escape_text(tenant.name), tenant.created_at, tenant.strict),
                )
            except errors.UniqueViolation as exc:
                raise Conflict(f"tenant {tenant.id!r} already exists") from exc

    @staticmethod
    def _tenant(row: Sequence[Any]) -> Tenant:
        return Tenant(row[0], unescape_text(row[1]), row[2], row[3])

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT id, name, created_at, strict FROM tenants WHERE id = %s", (tenant_id,)
            ).fetchone()
        return None if row is None else self._tenant(row)

    def list_tenants(self) -> list[Tenant]:
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT id, name, created_at, strict FROM tenants ORDER BY id"
            ).fetchall()
        return [self._tenant(r) for r in rows]

    def add_api_key(self, key: ApiKeyRecord) -> None:
        with self._connection() as connection:
            try:
                connection.execute(
                    "INSERT INTO api_keys (id, tenant_id, secret_hash, scopes, name, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        key.id,
                        key.tenant_id,
                        key.secret_hash,
                        ",".join(sorted(key.scopes)),
                        None if key.name is None else escape_text(key.name),
                        key.created_at,
                    ),
                )
            except errors.UniqueViolation as exc:
                raise Conflict(f"API key {key.id!r} already exists") from exc
            except errors.ForeignKeyViolation as exc:
                raise NotFound(f"no tenant {key.tenant_id!r}") from exc

    @staticmethod
    def _key(row: Sequence[Any]) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row[0],
            tenant_id=row[1],
            secret_hash=bytes(row[2]),
            scopes=frozenset(s for s in row[3].split(",") if s),
            created_at=row[4],
            name=None if row[5] is None else unescape_text(row[5]),
            revoked_at=row[6],
        )

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._connection() as connection:
            row = connection.execute(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = %s", (key_id,)
            ).fetchone()
        return None if row is None else self._key(row)

    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        with self._connection() as connection:
            if tenant_id is None:
                rows = connection.execute(
                    f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY tenant_id, created_at, id"
                ).fetchall()
            else:
                rows = connection.execute(
                    f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = %s"
                    " ORDER BY created_at, id",
                    (tenant_id,),
                ).fetchall()
        return [self._key(r) for r in rows]

    def revoke_api_key(self, key_id: str, at: int) -> bool:
        with self._connection() as connection:
            cursor = connection.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
                (at, key_id),
            )
            return cursor.rowcount == 1

    def put_event_type(self, tenant_id: str, event_type: EventType) -> None:
        with self._connection() as connection:
            connection.execute(
                "INSERT INTO event_types (tenant_id, name, category, kind, description,"
                " expects_target, resource_type) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (tenant_id, name) DO UPDATE SET category = EXCLUDED.category,"
                " kind = EXCLUDED.kind, description = EXCLUDED.description,"
                " expects_target = EXCLUDED.expects_target,"
                " resource_type = EXCLUDED.resource_type",
                (
                    tenant_id,
                    event_type.name,
                    event_type.category,
                    event_type.kind,
                    escape_text(event_type.description),
                    event_type.expects_target,
                    event_type.resource_type,
                ),
            )

    def tenant_event_types(self, tenant_id: str) -> list[EventType]:
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT name, category, kind, description, expects_target, resource_type"
                " FROM event_types WHERE tenant_id = %s ORDER BY name",
                (tenant_id,),
            ).fetchall()
        return [
            EventType(
                name=r[0],
                category=r[1],
                kind=r[2],
                description=unescape_text(r[3]),
                expects_target=r[4],
                resource_type=r[5],
                builtin=False,
            )
            for r in rows
        ]

    # -- events ------------------------------------------------------------------
    def append(self, tenant_id: str, events: Sequence[Event], seal: Sealer) -> list[Receipt]:
        self._keep_partitions_ahead()
        first_of: dict[str, int] = {}
        with self._connection() as connection, connection.transaction():
            head_row = connection.execute(
                "SELECT tree_size, frontier FROM tenants WHERE id = %s FOR UPDATE", (tenant_id,)
            ).fetchone()
            if head_row is None:
                raise NotFound(f"no tenant {tenant_id!r}")
            known: dict[str, int] = {
                unescape_text(ident): seq
                for ident, seq in connection.execute(
                    # One primary-key probe per id, whatever the statistics say.
                    "SELECT i.id, i.seq FROM unnest(%s::text[]) AS k (id)"
                    " JOIN event_ids i ON i.tenant_id = %s AND i.id = k.id",
                    (list({escape_text(e.id) for e in events}), tenant_id),
                )
            }
            fresh: list[Event] = []
            for event in events:
                if event.id not in known and event.id not in first_of:
                    first_of[event.id] = len(fresh)
                    fresh.append(event)
            if fresh:
                head = TreeHead(head_row[0], _split_frontier(head_row[1]))
                sealed = seal(head, fresh)
                _check_sealed(tenant_id, head, fresh, sealed)
                self._insert(connection, tenant_id, sealed)
                for event in sealed.events:
                    known[event.id] = event.seq
        receipts: list[Receipt] = []
        for event in events:
            created = first_of.pop(event.id, None) is not None
            receipts.append(Receipt(event.id, known[event.id], created))
        return receipts

    @staticmethod
    def _insert(connection: Connection, tenant_id: str, sealed: SealedBatch) -> None:
        pairs = list(zip(sealed.events, sealed.leaf_hashes, strict=True))
        with connection.cursor() as cursor:
            with cursor.copy(_COPY_EVENTS) as copy:
                copy.set_types(COPY_TYPES)
                for event, leaf in pairs:
                    copy.write_row(event_row(event, leaf))
            with cursor.copy(_COPY_IDS) as copy:
                copy.set_types(["text", "text", "int8", "int8", "bytea"])
                for event, leaf in pairs:
                    row = (tenant_id, escape_text(event.id), event.seq, event.occurred_at, leaf)
                    copy.write_row(row)
            if sealed.nodes:
                with cursor.copy(_COPY_NODES) as copy:
                    copy.set_types(["text", "int2", "int8", "bytea"])
                    for level, index, node in sealed.nodes:
                        copy.write_row((tenant_id, level, index, node))
            cursor.execute(
                "UPDATE tenants SET tree_size = %s, frontier = %s WHERE id = %s",
                (sealed.head.size, b"".join(sealed.head.frontier), tenant_id),
            )

    def search(
        self, tenant_id: str, query: EventQuery, page: Page, *, with_total: bool = True
    ) -> SearchResult:
        where, params = compile_where(tenant_id, query)
        direction = "DESC" if query.order == "desc" else "ASC"
        page_where, page_params = where, list(params)
        if page.cursor is not None:
            op = "<" if query.order == "desc" else ">"
            page_where += f" AND (occurred_at, seq) {op} (%s, %s)"
            page_params += [page.cursor.occurred_at_us, min(page.cursor.seq, _MAX_BIGINT)]
        sql = (
            f"SELECT {SELECT_LIST} FROM events WHERE {page_where}"
            f" ORDER BY occurred_at {direction}, seq {direction} LIMIT %s OFFSET %s"
        )
        offset = page.offset if page.cursor is None else 0
        with self._read_connection() as connection:
            rows = connection.execute(sql, [*page_params, page.limit + 1, offset]).fetchall()
            total = self._count(connection, where, params, COUNT_CAP) if with_total else None
        has_more = len(rows) > page.limit
        return SearchResult([event_from_row(r) for r in rows[: page.limit]], total, has_more)

    def count(self, tenant_id: str, query: EventQuery, cap: int | None = COUNT_CAP) -> int | None:
        where, params = compile_where(tenant_id, query)
        with self._read_connection() as connection:
            return self._count(connection, where, params, cap)

    @staticmethod
    def _count(
        connection: Connection, where: str, params: Sequence[Any], cap: int | None
    ) -> int | None:
        if cap is None:
            row = connection.execute(f"SELECT count(*) FROM events WHERE {where}", params)
            found = row.fetchone()
            assert found is not None
            return int(found[0])
        row = connection.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM events WHERE {where} LIMIT %s) AS matches",
            [*params, cap + 1],
        )
        found = row.fetchone()
        assert found is not None
        total = int(found[0])
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
        return self._stream(sql, params, chunk_size, replica=True)

    def scan(
        self, tenant_id: str, start: int = 0, *, chunk_size: int = 5000
    ) -> Iterator[list[tuple[Event, bytes]]]:
        sql = f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = %s AND seq >= %s ORDER BY seq"
        for rows in self._rows(sql, [tenant_id, start], chunk_size):
            yield [(event_from_row(r), bytes(r[-1])) for r in rows]

    def _stream(
        self, sql: str, params: Sequence[Any], chunk_size: int, *, replica: bool = False
    ) -> Iterator[list[Event]]:
        for rows in self._rows(sql, params, chunk_size, replica=replica):
            yield [event_from_row(r) for r in rows]

    def _rows(
        self, sql: str, params: Sequence[Any], chunk_size: int, *, replica: bool = False
    ) -> Iterator[list[TupleRow]]:
        # A server-side cursor inside one transaction: one snapshot, bounded memory.
        # The connection goes back to the pool when the generator ends or is closed.
        pool = self._read_connection() if replica else self._connection()
        with pool as connection, connection.transaction():
            connection.execute("SET TRANSACTION READ ONLY")
            with connection.cursor(name="sealtrail_stream") as cursor:
                cursor.itersize = chunk_size
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(chunk_size):
                    yield rows

    def get_event(self, tenant_id: str, event_id: str) -> Event | None:
        with self._connection() as connection:
            row = connection.execute(
                f"{_BY_ID_JOIN} WHERE i.tenant_id = %s AND i.id = %s",
                (tenant_id, escape_text(event_id)),
            ).fetchone()
        return None if row is None else event_from_row(row)

    def get_events_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        if not seqs:
            return []
        with self._connection() as connection:
            rows = connection.execute(
                f"{_BY_ID_JOIN} WHERE i.tenant_id = %s AND i.seq = ANY(%s) ORDER BY i.seq",
                (tenant_id, [s for s in seqs if 0 <= s <= _MAX_BIGINT]),
            ).fetchall()
        return [event_from_row(r) for r in rows]

    # -- tree state and checkpoints ------------------------------------------------
    def tree_head(self, tenant_id: str) -> TreeHead:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT tree_size, frontier FROM tenants WHERE id = %s", (tenant_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return TreeHead(row[0], _split_frontier(row[1]))

    def tree_nodes(self, tenant_id: str, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        if not keys:
            return []
        leaves = sorted({idx for level, idx in keys if level == 0 and 0 <= idx <= _MAX_BIGINT})
        inner = sorted(
            {(level, idx) for level, idx in keys if 0 < level < 64 and 0 <= idx <= _MAX_BIGINT}
        )
        found: dict[tuple[int, int], bytes] = {}
        with self._connection() as connection:
            if leaves:
                for seq, leaf in connection.execute(
                    "SELECT seq, leaf_hash FROM event_ids WHERE tenant_id = %s AND seq = ANY(%s)",
                    (tenant_id, leaves),
                ):
                    found[(0, seq)] = bytes(leaf)
            if inner:
                for level, idx, node in connection.execute(
                    "SELECT t.level, t.idx, t.hash FROM tree_nodes t"
                    " JOIN unnest(%s::smallint[], %s::bigint[]) AS k (level, idx)"
                    " ON t.level = k.level AND t.idx = k.idx WHERE t.tenant_id = %s",
                    ([lvl for lvl, _ in inner], [idx for _, idx in inner], tenant_id),
                ):
                    found[(level, idx)] = bytes(node)
        try:
            return [found[key] for key in keys]
        except KeyError as exc:
            raise NotFound(f"tree node {exc.args[0]} of tenant {tenant_id!r} is missing") from exc

    def leaf_hashes(self, tenant_id: str, start: int, stop: int) -> list[bytes]:
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT leaf_hash FROM event_ids WHERE tenant_id = %s AND seq >= %s AND seq < %s"
                " ORDER BY seq",
                (tenant_id, start, stop),
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._connection() as connection:
            connection.execute(
                f"INSERT INTO checkpoints ({_CHECKPOINT_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (tenant_id, tree_size) DO NOTHING",
                (
                    checkpoint.tenant_id,
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    checkpoint.note,
                    checkpoint.created_at,
                ),
            )

    def latest_checkpoint(self, tenant_id: str) -> StoredCheckpoint | None:
        with self._connection() as connection:
            row = connection.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant_id = %s"
                " ORDER BY tree_size DESC LIMIT 1",
                (tenant_id,),
            ).fetchone()
        return None if row is None else _checkpoint(row)

    def checkpoints(self, tenant_id: str) -> list[StoredCheckpoint]:
        with self._connection() as connection:
            rows = connection.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant_id = %s"
                " ORDER BY tree_size",
                (tenant_id,),
            ).fetchall()
        return [_checkpoint(r) for r in rows]


def _checkpoint(row: Sequence[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(row[0], row[1], bytes(row[2]), row[3], row[4])


def _split_frontier(blob: bytes) -> tuple[bytes, ...]:
    data = bytes(blob)
    return tuple(data[i : i + 32] for i in range(0, len(data), 32))


def _check_sealed(
    tenant_id: str, head: TreeHead, fresh: Sequence[Event], sealed: SealedBatch
) -> None:
    """Refuse a sealer's output that would break the log before it reaches a table."""
    seqs = [e.seq for e in sealed.events]
    if (
        len(sealed.events) != len(fresh)
        or seqs != list(range(head.size, head.size + len(fresh)))
        or sealed.head.size != head.size + len(fresh)
    ):
        raise InconsistentTree(
            f"the sealer returned seqs {seqs[:3]}… for {len(fresh)} events on a tree of {head.size}"
        )
    if any(e.tenant_id != tenant_id for e in sealed.events):
        raise InconsistentTree(f"the sealer returned events of another tenant than {tenant_id!r}")
