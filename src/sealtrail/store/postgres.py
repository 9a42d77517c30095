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

The statements both engines share live in ``sql.SQLStore``; this module keeps
what is PostgreSQL's own: the pools, partitions, COPY, the look-ups through
``event_ids`` and its ``DIALECT``.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import psycopg
from psycopg import errors, sql
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from sealtrail import export
from sealtrail.errors import DatabaseUnavailable, NotFound
from sealtrail.events import Event, from_micros, to_micros
from sealtrail.limits import REPLICA_WAIT
from sealtrail.query import EventQuery, Field, Page, Term, TimeRange
from sealtrail.store import export_rows, migrations, postgres_export
from sealtrail.store.base import EventShape, FieldErasure, Receipt, SealedBatch, Sealer
from sealtrail.store.codec import COLUMNS, SELECT_LIST, pack_commitments
from sealtrail.store.dialect import Clause, Dialect
from sealtrail.store.postgres_admin import (
    DEFAULT_RUNTIME_ROLE,
    grant_runtime_role,
    libpq_url,
    sqlalchemy_url,
)
from sealtrail.store.postgres_rows import (
    COPY_TYPES,
    ESCAPE,
    escape_text,
    event_from_row,
    event_row,
    unescape_row,
    unescape_text,
)
from sealtrail.store.sql import (
    LATEST_US,
    MAX_SEQ,
    ActorDayCount,
    HourCount,
    Plan,
    SQLStore,
    actors_counted_by_day,
)
from sealtrail.timeline import DAY

if TYPE_CHECKING:  # imports ``limits``: loaded when a server first counts a request
    from sealtrail.store.rate_counters import PostgresRateCounters

log = logging.getLogger(__name__)

Connection = psycopg.Connection[TupleRow]
T = TypeVar("T")

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
_DAY_US: Final = 86_400_000_000
# Partitions are extended once fewer than this many days of them remain ahead.
_EXTEND_MARGIN_US: Final = 62 * _DAY_US
_EXTEND_RETRY_S: Final = 300.0
COUNTER_CONNECTIONS: Final = 4
"""At most this many connections per store charge rate limits (beside its pool)."""
_PURGE_WAIT_S: Final = 30.0
IDLE_CHECK_S: Final = 10.0
"""A pooled connection idle this long is checked with a round trip before it is lent."""
# A newest-first page reads first from the month partitions holding at least this
# much of the recent past (``_page_windows``), then from the rest if it is not full.
RECENT_WINDOW: Final = timedelta(days=30)
# Fields of a few values per tenant (a value matches many events, recent ones
# too), where that first window mostly fills the page; an id or a word is often
# absent from it, and a second statement would cost more than it saves.
_FEW_VALUES: Final = frozenset(
    {Field.ACTION, Field.CATEGORY, Field.KIND, Field.OUTCOME, Field.RESOURCE_TYPE}
)
# How many of an actor's newest active days are summed to find where a page starts
# (``_newest_full_day``): beyond them, the page is read whole.
_ACTOR_DAYS: Final = 62
# A value folded the way the indexed lower(column) is: ASCII only, as NOCASE does.
_FOLDED: Final = 'lower(?::text COLLATE "C")'


def _action_prefix(prefix: str, column: str) -> Clause:
    group = prefix[:-1].partition(".")[0]  # "member." → "member"; "member.role." too
    # Every action has a dot, so "member.*" is exactly "first segment is member": one
    # test the events_by_action_group index answers in time order (a page). The range
    # of everything between "member." and "member/" says the same, or narrows it for a
    # deeper prefix, and is what a count reads index-only from events_by_action: the
    # expression alone made PostgreSQL test split_part on every one of the tenant's
    # entries of that index (25 ms for a 10,000-capped count at 1 M events, 3 ms now).
    return (
        f"(split_part({column}, '.', 1) = ? AND {column} >= ? AND {column} < ?)",
        [group, prefix, prefix[:-1] + "/"],
    )


def _rows_last(source: str, where: str, order: str, direction: str) -> str:
    """The page's keys from index-only reads, then its rows by ``(tenant_id, occurred_at,
    seq)``: one probe of ``events_by_time`` each, in the one partition their time names
    (pruned as the join runs)."""
    return (
        f"SELECT {SELECT_LIST} FROM events JOIN (SELECT tenant_id, occurred_at, seq"
        f" FROM {source} AS matches WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?) AS page"
        f" USING (tenant_id, occurred_at, seq) ORDER BY occurred_at {direction}, seq {direction}"
    )


# Case-insensitive email matches compare lower(column), which under the columns'
# "C" collation folds ASCII letters only — what SQLite's NOCASE does — and is what
# the partial lower(...) indexes are built on. Free text is a phrase over the
# generated ``search`` tsvector (sealtrail_phrase splits the words the way the
# stored vector was split). Text is stored escaped (postgres_rows).
DIALECT: Final = Dialect(
    placeholder="%s",
    for_update=" FOR UPDATE",
    unique_violation=errors.UniqueViolation,
    foreign_key_violation=(errors.ForeignKeyViolation,),
    undefined_table=errors.UndefinedTable,
    true="TRUE",
    false="FALSE",
    unindexed="",
    nocase_equals=lambda column: f"lower({column}) = {_FOLDED}",
    action_prefix=_action_prefix,
    text_match=lambda text: ("search @@ sealtrail_phrase(?)", [text]),
    contains_nocase=lambda column: f"strpos(lower({column}), lower(?)) > 0",
    json_integers=lambda column: (
        f"SELECT j.value::bigint FROM jsonb_array_elements_text({column}::jsonb) AS j (value)"
    ),
    rows_last=_rows_last,
    escape=escape_text,
    unescape=unescape_text,
    event_from_row=event_from_row,
    unescape_row=unescape_row,
)


def _lsn(text: str) -> int:
    """A WAL position (``16/B374D848``) as a number."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def _probe(conninfo: str, connect_timeout: float) -> None:
    """Connect once, so an unreachable server is one error now, not a pool retrying."""
    try:
        psycopg.connect(conninfo, connect_timeout=max(1, round(connect_timeout))).close()
    except psycopg.OperationalError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {reason}") from None


class _PooledConnection(psycopg.Connection[TupleRow]):
    """A pool's connection that remembers when it was last given back."""

    returned_at: float = 0.0  # monotonic seconds


def _has_unread_input(connection: Connection) -> bool:
    """Whether the server sent something to an idle connection, without a round trip.

    An idle connection is sent nothing unasked unless the server is ending it: a
    restart, ``pg_terminate_backend`` or ``idle_session_timeout`` sends an error and
    closes the socket, which makes it readable. A socket that cannot be polled is
    suspect too.
    """
    try:
        fd = connection.fileno()
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover (no poll: Windows)
    except (OSError, ValueError, psycopg.Error):
        return True


def _check_when_suspect(connection: _PooledConnection) -> None:
    """The pool's check before lending a connection: a round trip only when it is due.

    Checking every connection (``ConnectionPool.check_connection``) costs each
    query one more round trip. A connection the server ended (a restart, a
    terminated backend) has unread input, found by polling its socket; one idle
    for ``IDLE_CHECK_S`` or more may have been cut where nothing says so (a
    firewall, a host gone), so it gets the round trip. A failed check makes the
    pool drop the connection and lend another, so neither fails a request.
    """
    idle = time.monotonic() - connection.returned_at
    if idle >= IDLE_CHECK_S or _has_unread_input(connection):
        ConnectionPool.check_connection(connection)


class _Pool:
    """A connection pool opened on first use, so building a store touches nothing."""

    def __init__(
        self,
        conninfo: str,
        name: str,
        size: tuple[int, int],
        timeout: float,
        connect_timeout: float,
        configure: Callable[[Connection], None] | None = None,
        *,
        checked: bool = True,
    ) -> None:
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._configure = configure
        self._pool = ConnectionPool(
            conninfo,
            connection_class=_PooledConnection,
            min_size=size[0],
            max_size=size[1],
            # Nothing is prepared: psycopg prepares a statement after five runs, and
            # PostgreSQL then may switch to one generic plan for every value, where a
            # skewed column needs its own per value (a rare value's index, a common
            # one's time walk). A search is planned in well under a millisecond.
            kwargs={
                "autocommit": True,
                "prepare_threshold": None,
                "connect_timeout": max(1, round(connect_timeout)),
            },
            timeout=timeout,
            check=_check_when_suspect if checked else None,
            configure=self._configured,
            name=name,
            open=False,
        )
        self._lock = threading.Lock()
        self._opened = False

    def _configured(self, connection: _PooledConnection) -> None:
        connection.returned_at = time.monotonic()  # just connected: no check is due
        if self._configure is not None:
            self._configure(connection)

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[Connection]:
        if not self._opened:
            with self._lock:
                if not self._opened:
                    _probe(self._conninfo, self._connect_timeout)
                    self._pool.open()
                    self._opened = True
        with self._pool.connection(timeout=timeout) as connection:
            try:
                yield connection
            finally:
                connection.returned_at = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self._pool.close()
                self._opened = False


class PostgresStore(SQLStore[Connection]):
    """``EventStore`` on a PostgreSQL database (``postgresql://user@host:5432/db``).

    ``read_url``, when given, names a hot standby (a streaming replica) that
    ``search``, ``count`` and ``stream`` read from; everything else, and every
    write, goes to ``url``. Results read there may trail the primary by the
    replication lag. ``runtime_role`` is the role ``migrate`` creates and
    grants the runtime privileges to (None: leave roles alone).
    ``months_ahead`` is how many month partitions beyond the current one are
    kept ready.

    Read-your-writes with a standby: after each write the store notes the
    primary's WAL position; a search, count or stream that follows waits (up to
    ``replica_wait`` seconds) until the standby has replayed that far, and reads
    from the primary instead when it has not — so a process always finds what it
    wrote itself. Another process's writes may show up there after the
    replication lag (docs/operations.md). ``configure`` is called on every new
    connection of both pools (the statement-capturing test hook).
    """

    dialect = DIALECT
    partitioned = True
    _EVENT_BY_ID = f"{_BY_ID_JOIN} WHERE i.tenant_id = ? AND i.id = ?"
    _LEAVES = "event_ids"
    _REFUSED = (errors.RestrictViolation,)

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
        connect_timeout: float = 5.0,
        replica_wait: float = REPLICA_WAIT,
        configure: Callable[[Connection], None] | None = None,
    ) -> None:
        self.url = url
        self._conninfo = libpq_url(url)
        self._runtime_role = runtime_role
        self._months_ahead = months_ahead
        size = (min_connections, max_connections)
        self._connect_timeout = connect_timeout
        self._pool = _Pool(
            self._conninfo, "sealtrail", size, pool_timeout, connect_timeout, configure
        )
        self._read_pool = (
            self._pool
            if read_url is None
            else _Pool(
                libpq_url(read_url),
                "sealtrail-read",
                size,
                pool_timeout,
                connect_timeout,
                configure,
            )
        )
        self._counters: PostgresRateCounters | None = None
        # The rate-limit counters' own few connections, lent without the round trip
        # that checks a connection first: a charge is one short statement, so a
        # connection the server dropped is found by using it (and it is tried once
        # more on a fresh one, ``_counter_rows``).
        self._counter_pool = _Pool(
            self._conninfo,
            "sealtrail-counters",
            (1, COUNTER_CONNECTIONS),
            pool_timeout,
            connect_timeout,
            configure,
            checked=False,
        )
        self._replica_wait = replica_wait
        self._written_lsn = 0  # the primary's WAL position after this store's last write
        self._lsn_lock = threading.Lock()
        self._partition_lock = threading.Lock()
        self._partitions_until = 0  # µs: month partitions exist up to here
        self._partitions_checked = 0.0  # monotonic time of the last attempt

    # -- connections -----------------------------------------------------------
    def _connection(
        self, timeout: float | None = None
    ) -> contextlib.AbstractContextManager[Connection]:
        return self._pool.connection(timeout)

    def _read(self, work: Callable[[Connection], T], *, replica: bool = False) -> T:
        if replica and self._read_pool is not self._pool:
            with self._read_pool.connection() as connection:
                if self._caught_up(connection):
                    return work(connection)
        with self._pool.connection() as connection:
            return work(connection)

    def _write(self, work: Callable[[Connection], T]) -> T:
        with self._connection() as connection:
            with connection.transaction():
                result = work(connection)
            if self._read_pool is not self._pool:
                self._note_write(connection)
            return result

    def _note_write(self, connection: Connection) -> None:
        row = connection.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        assert row is not None
        lsn = _lsn(row[0])
        with self._lsn_lock:
            self._written_lsn = max(self._written_lsn, lsn)

    def _caught_up(self, connection: Connection) -> bool:
        """Whether the standby behind ``connection`` has replayed this store's last write,
        waiting up to ``replica_wait`` seconds for it."""
        wanted = self._written_lsn
        if not wanted:
            return True
        deadline = time.monotonic() + self._replica_wait
        pause = 0.001
        while True:
            row = connection.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
            if row is None or row[0] is None or _lsn(row[0]) >= wanted:
                return True  # caught up, or not a standby at all
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)  # polling the standby, bounded by replica_wait
            pause = min(pause * 2, 0.05)

    # -- rate limits -----------------------------------------------------------
    shares_rate_counters = True

    def rate_counters(self) -> PostgresRateCounters:
        if self._counters is None:
            from sealtrail.store.rate_counters import PostgresRateCounters

            self._counters = PostgresRateCounters(self._first_row, self._counter_rows)
        return self._counters

    def _first_row(self, sql: str, params: Mapping[str, Any]) -> Any:
        return self._read(lambda connection: connection.execute(sql, params).fetchone())

    def _counter_rows(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """One statement on a counters connection (autocommit): all its rows, if any."""
        for attempt in (1, 2):
            with self._counter_pool.connection() as connection:
                try:
                    cursor = connection.execute(sql, params)
                    return cursor.fetchall() if cursor.description is not None else []
                except psycopg.OperationalError:
                    if attempt == 2 or not connection.broken:
                        raise  # a broken connection goes back to the pool, which drops it
        raise AssertionError("unreachable")

    # -- lifecycle -------------------------------------------------------------
    def migrate(self) -> list[str]:
        _probe(self._conninfo, self._connect_timeout)
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

    def close(self) -> None:
        self._pool.close()
        self._read_pool.close()
        self._counter_pool.close()

    def ping(self) -> None:
        with self._connection(timeout=5.0) as connection:
            connection.execute("SELECT 1").fetchone()

    # -- events ------------------------------------------------------------------
    def append(self, tenant_id: str, events: Sequence[Event], seal: Sealer) -> list[Receipt]:
        self._keep_partitions_ahead()
        return super().append(tenant_id, events, seal)

    def _existing_ids(
        self, connection: Connection, tenant_id: str, ids: list[str]
    ) -> dict[str, int]:
        return {
            unescape_text(ident): seq
            for ident, seq in connection.execute(
                # One primary-key probe per id, whatever the statistics say.
                "SELECT i.id, i.seq FROM unnest(%s::text[]) AS k (id)"
                " JOIN event_ids i ON i.tenant_id = %s AND i.id = k.id",
                ([escape_text(i) for i in ids], tenant_id),
            )
        }

    def _insert(self, connection: Connection, tenant_id: str, sealed: SealedBatch) -> None:
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

    def _add_counts(self, connection: Connection, tenant_id: str, counts: list[HourCount]) -> None:
        if not counts:
            return
        hours, kinds, outcomes, events = zip(*counts, strict=True)
        # One statement for the batch, one row per distinct (hour, kind, outcome).
        connection.execute(
            "INSERT INTO event_counts (tenant_id, hour, kind, outcome, events)"
            " SELECT %s, u.hour, u.kind, u.outcome, u.events"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[])"
            " AS u (hour, kind, outcome, events)"
            " ON CONFLICT (tenant_id, kind, outcome, hour)"
            " DO UPDATE SET events = event_counts.events + excluded.events",
            (tenant_id, list(hours), list(kinds), list(outcomes), list(events)),
        )

    def _add_actor_counts(
        self, connection: Connection, tenant_id: str, counts: list[ActorDayCount]
    ) -> None:
        if not counts:
            return
        actors, days, events = zip(*counts, strict=True)
        # One statement for the batch, one row per distinct (actor, day).
        connection.execute(
            "INSERT INTO actor_day_counts (tenant_id, actor_id, day, events)"
            " SELECT %s, u.actor_id, u.day, u.events"
            " FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS u (actor_id, day, events)"
            " ON CONFLICT (tenant_id, actor_id, day)"
            " DO UPDATE SET events = actor_day_counts.events + excluded.events",
            (tenant_id, list(actors), list(days), list(events)),
        )

    def _erase(
        self, connection: Connection, tenant_id: str, erasures: Sequence[FieldErasure]
    ) -> int:
        # The runtime role may not UPDATE events: sealtrail_erase (SECURITY DEFINER)
        # is its one way to change a row, and it clears only what the entries name.
        row = connection.execute(
            "SELECT sealtrail_erase(%s, %s, %s)",
            (
                tenant_id,
                [e.seq for e in erasures],
                [pack_commitments(e.commitments) for e in erasures],
            ),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def prune_events(self, tenant_id: str, limit: int) -> int:
        # The runtime role may not DELETE: sealtrail_prune (SECURITY DEFINER) keeps the
        # batch's leaf hashes, then removes its rows, and only below a recorded prune.
        row = self._write(
            lambda c: c.execute("SELECT sealtrail_prune(%s, %s)", (tenant_id, limit)).fetchone()
        )
        assert row is not None
        return int(row[0])

    def drop_pruned_partitions(self) -> list[str]:
        with self._connection() as connection, connection.transaction():
            # Detaching a partition briefly locks the events table: rather than queue
            # every reader behind a long export, give up and leave it to the batches.
            connection.execute("SET LOCAL lock_timeout = '5s'")
            try:
                row = connection.execute("SELECT sealtrail_drop_pruned_partitions()").fetchone()
            except errors.LockNotAvailable:
                log.warning("pruning: a partition stayed (its table was busy)")
                return []
        assert row is not None
        return [str(name) for name in row[0]]

    def purge_erased(self, tenant_id: str, seqs: Sequence[int]) -> list[str]:
        # The old row versions stay in the partitions' pages (with their index and
        # tsvector entries) until they are rewritten; plain VACUUM only marks the
        # space free. VACUUM FULL rewrites the partitions that held these events, and
        # the erasures table, into new files — but it must keep a version any open
        # transaction may still see, so it first waits until every transaction that
        # began before the erasure committed has ended. Only the owner may rewrite; the
        # runtime role leaves it to autovacuum and the operator (docs/privacy.md).
        with self._connection() as connection:
            owner = connection.execute(
                "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c"
                " WHERE c.oid = 'events'::regclass"
            ).fetchone()
            if not owner or not owner[0]:
                return [
                    "left the old row versions to autovacuum: this role may not rewrite"
                    " tables (run sealtrail erase as the owner to rewrite them now)"
                ]
            partitions = [
                str(name)
                for (name,) in connection.execute(
                    "SELECT DISTINCT c.relname FROM event_ids i JOIN events e"
                    " ON e.tenant_id = i.tenant_id AND e.seq = i.seq"
                    " AND e.occurred_at = i.occurred_at JOIN pg_class c ON c.oid = e.tableoid"
                    " WHERE i.tenant_id = %s AND i.seq = ANY(%s)",
                    (tenant_id, list(seqs)),
                )
            ]
            if not self._wait_for_older_transactions(connection):
                return [
                    "left the old row versions in place: a transaction older than the"
                    f" erasure is still open after {_PURGE_WAIT_S:.0f} s; run sealtrail erase"
                    " again later to rewrite them"
                ]
            for table in [*partitions, "erasures"]:
                connection.execute(sql.SQL("VACUUM FULL {}").format(sql.Identifier(table)))
        return [f"rewrote {', '.join(partitions) or 'no partition'} and erasures (VACUUM FULL)"]

    @staticmethod
    def _wait_for_older_transactions(connection: Connection) -> bool:
        """Wait (up to ``_PURGE_WAIT_S``) until no transaction older than now is open."""
        mark = connection.execute("SELECT pg_current_xact_id()").fetchone()
        assert mark is not None
        deadline = time.monotonic() + _PURGE_WAIT_S
        while True:
            row = connection.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) > %s::text::xid8", (str(mark[0]),)
            ).fetchone()
            if row is not None and row[0]:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    @contextlib.contextmanager
    def _streamed(
        self, sql: str, params: Sequence[Any], chunk_size: int, *, replica: bool
    ) -> Iterator[tuple[Connection, Iterator[list[TupleRow]]]]:
        """A server-side cursor's chunks, and its connection, inside one read-only
        transaction whose statements all read one snapshot (REPEATABLE READ), on a
        replica that has caught up when ``replica`` allows one. The connection goes
        back to the pool when the block ends."""
        pool = self._pool
        if replica and self._read_pool is not self._pool:
            with self._read_pool.connection() as probe:
                if self._caught_up(probe):  # replay only moves on: a later connection too
                    pool = self._read_pool
        with (
            pool.connection() as connection,
            connection.transaction(),
            connection.cursor(name="sealtrail_stream") as cursor,
        ):
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.itersize = chunk_size
            cursor.execute(sql, params)
            yield connection, iter(lambda: cursor.fetchmany(chunk_size), [])

    def _rows(
        self, sql: str, params: Sequence[Any], chunk_size: int, *, replica: bool = False
    ) -> Iterator[list[TupleRow]]:
        # One snapshot, bounded memory; the generator may be closed early.
        with self._streamed(sql, params, chunk_size, replica=replica) as (_connection, chunks):
            yield from chunks

    def export_body(
        self, tenant_id: str, query: EventQuery, fmt: Literal["csv", "ndjson"]
    ) -> Iterator[bytes]:
        # The server writes each row's line (postgres_export); the few it cannot write the
        # same way come back NULL and are written from their columns (export_rows), read
        # in the same snapshot.
        statement, params = self._every_match(tenant_id, query, postgres_export.line_select(fmt))
        chunk = export.ROWS_PER_CHUNK
        with self._streamed(statement, params, chunk, replica=True) as (connection, chunks):
            for rows in chunks:
                lines: list[str] = [line for line, _seq in rows]
                if None not in lines:
                    text = "".join(lines)
                    if ESCAPE not in text:
                        yield text.encode()
                        continue
                left = [seq for line, seq in rows if line is None or ESCAPE in line]
                written = self._written_rows(connection, tenant_id, left, fmt)
                lines = [written.get(seq) or line for line, seq in rows]  # lines are never ""
                yield "".join(lines).encode()

    def _written_rows(
        self,
        connection: Connection,
        tenant_id: str,
        seqs: list[int],
        fmt: Literal["csv", "ndjson"],
    ) -> dict[int, str]:
        """Rows ``seqs`` written from their columns, by seq."""
        rows = connection.execute(
            f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = %s AND seq = ANY(%s)",
            (tenant_id, seqs),
        ).fetchall()
        seq_at = COLUMNS.index("seq")
        return {row[seq_at]: export_rows.written(unescape_row(row), fmt).decode() for row in rows}

    def _plan(self, tenant_id: str, query: EventQuery) -> Plan:
        """The planner's own choice, except for a network (``ip:10.1.2.0/24``): no index
        holds its matches in time order, so they are sorted, and sorted as the entries
        of ``events_by_ip`` (index-only) the page's rows alone are read after, not every
        match's (41 ms p95 for a /24 at 10 M events)."""
        if len(query.terms) == 1 and query.terms[0].field is Field.IP and not query.terms[0].negate:
            return Plan(rows_last=True)
        return Plan()

    def _page_windows(
        self, connection: Connection, tenant_id: str, query: EventQuery, page: Page
    ) -> list[EventQuery]:
        """Newest first: the partitions that hold the page's newest matches, then the rest.

        PostgreSQL plans a statement over every partition it may touch, each with
        its 16 indexes: ~0.9 ms of a newest page's ~1.2 ms in the server at 17
        partitions, against ~0.2 ms when the time bounds confine it to one or two
        (plan-time pruning needs constants, which a cursor's row comparison is
        not). So a page is read first from a recent window, with constant
        bounds, and from everything older in a second statement, on the same
        connection, only if the first did not fill it:

        * a page of actor ids alone starts its window at the newest UTC day from
          which the actors' whole days before the page's upper bound hold a full
          page (``actor_day_counts``: one small read of its key), so the window
          holds the page unless events were removed meanwhile;
        * a page with no term, or whose terms match many events (negated, or on
          a field of few values), starts it at the first of the month 30 days or
          more before that bound.

        Other ids and words are often absent from any recent window, and
        oldest-first pages and pages at an offset are read whole.
        """
        if query.order != "desc":
            return [query]
        actors = actors_counted_by_day(query)
        few = all(term.negate or term.field in _FEW_VALUES for term in query.terms)
        if actors is None and not few:
            return [query]
        try:
            upper = query.time.until
            if page.cursor is not None:
                after = from_micros(page.cursor.occurred_at_us + 1)  # its own µs, by seq
                upper = after if upper is None else min(upper, after)
            if actors is not None:
                split = self._newest_full_day(connection, tenant_id, actors, upper, page.limit + 1)
            else:
                recent = (upper or datetime.now(UTC)) - RECENT_WINDOW
                split = datetime(recent.year, recent.month, 1, tzinfo=UTC)
        except (OverflowError, ValueError):  # a cursor or bound near the ends of time
            return [query]
        since = query.time.since
        if split is None or (since is not None and since >= split):
            return [query]  # no window holds a page, or its own bounds confine it already
        return [
            EventQuery(query.terms, TimeRange(split, upper), query.order),
            EventQuery(query.terms, TimeRange(since, split), query.order),
        ]

    def _newest_full_day(
        self,
        connection: Connection,
        tenant_id: str,
        actors: Term,
        upper: datetime | None,
        wanted: int,
    ) -> datetime | None:
        """The start of the newest UTC day from which the actors' events before ``upper``
        number at least ``wanted``, counted in their whole days before ``upper``'s own
        (which may hold events after it); None when their newest ``_ACTOR_DAYS`` active
        days hold fewer."""
        bound = LATEST_US if upper is None else to_micros(upper)
        rows = connection.execute(
            "SELECT day, sum(events) FROM actor_day_counts"
            " WHERE tenant_id = %s AND actor_id = ANY(%s) AND day <= %s"
            " GROUP BY day ORDER BY day DESC LIMIT %s",
            (tenant_id, [escape_text(str(v)) for v in actors.values], bound - DAY, _ACTOR_DAYS),
        ).fetchall()
        held = 0
        for day, events in rows:
            held += int(events)
            if held >= wanted:
                return from_micros(int(day))
        return None

    def get_events_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        if not seqs:
            return []
        with self._connection() as connection:
            rows = connection.execute(
                f"{_BY_ID_JOIN} WHERE i.tenant_id = %s AND i.seq = ANY(%s) ORDER BY i.seq",
                (tenant_id, [s for s in seqs if 0 <= s <= MAX_SEQ]),
            ).fetchall()
        return [event_from_row(r) for r in rows]

    def event_shapes(self, tenant_id: str, start: int, stop: int) -> list[EventShape]:
        start, stop = max(start, 0), min(stop, MAX_SEQ + 1)
        if start >= stop:
            return []
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT i.seq, e.action, e.category, e.kind, e.outcome, e.commitments"
                " FROM event_ids i"
                " JOIN events e ON e.tenant_id = i.tenant_id AND e.seq = i.seq"
                " AND e.occurred_at = i.occurred_at"
                " WHERE i.tenant_id = %s AND i.seq >= %s AND i.seq < %s ORDER BY i.seq",
                (tenant_id, start, stop),
            ).fetchall()
        return [
            EventShape(
                r[0],
                unescape_text(r[1]),
                unescape_text(r[2]),
                unescape_text(r[3]),
                unescape_text(r[4]),
                None if r[5] is None else bytes(r[5]),
            )
            for r in rows
        ]

    # -- tree state and checkpoints ------------------------------------------------
    def tree_nodes(self, tenant_id: str, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        if not keys:
            return []
        leaves = sorted({idx for level, idx in keys if level == 0 and 0 <= idx <= MAX_SEQ})
        inner: list[tuple[int, int]] = sorted(
            {(level, idx) for level, idx in keys if 0 < level < 64 and 0 <= idx <= MAX_SEQ}
        )
        found: dict[tuple[int, int], bytes] = {}
        with self._connection() as connection:
            if leaves:
                for seq, leaf in connection.execute(
                    "SELECT seq, leaf_hash FROM event_ids WHERE tenant_id = %s AND seq = ANY(%s)",
                    (tenant_id, leaves),
                ):
                    found[(0, seq)] = bytes(leaf)
            pruned = [(0, seq) for seq in leaves if (0, seq) not in found]
            if pruned:  # a pruned event's leaf hash is kept as a level-0 node
                inner = sorted({*inner, *pruned})
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
