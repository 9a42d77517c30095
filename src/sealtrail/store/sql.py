"""The SQL core both engines share: every statement that is the same is written here once.

``SQLStore`` implements the ``EventStore`` contract over four primitives an
engine supplies — ``_read`` and ``_write`` (run a piece of work on a
connection, the latter in one transaction), ``_rows`` (a streamed query from
one snapshot) and the append steps that really differ (``_existing_ids``,
``_insert``) — plus its ``Dialect``. Statements use ``?`` placeholders; the
dialect's placeholder replaces them on the way to the driver.

What stays in an engine: connections and transactions (SQLite's writer
thread, PostgreSQL's pools), migrations, how a batch is inserted (rows and
FTS5 vs. COPY), how ids and tree nodes are looked up in bulk, and the plan
choice SQLite makes per search (``_plan``).
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Generic, Protocol, TypeVar

from sealtrail.catalog import EventType
from sealtrail.errors import Conflict, InconsistentTree, NotFound
from sealtrail.events import Event, to_micros
from sealtrail.limits import KINDS, MAX_ALERT_EVENTS, OUTCOMES, Kind
from sealtrail.privacy import ACCESS_ACTIONS, Subject
from sealtrail.query import EventQuery, Field, Page, Term, action_prefix
from sealtrail.retention import Hold, Prune, RetentionPolicy, Row, Rule
from sealtrail.saved_searches import SavedSearch
from sealtrail.sessions import ViewerSession, ViewerUser
from sealtrail.store.base import (
    COUNT_CAP,
    AlertGrowth,
    AlertRecord,
    ApiKeyRecord,
    ConsumerState,
    DeliveryRecord,
    DetectionCommit,
    ErasureRecord,
    EventStore,
    EventTypeVersion,
    FieldErasure,
    Receipt,
    SealedBatch,
    Sealer,
    SearchResult,
    StoredCheckpoint,
    StreamRecord,
    Tenant,
    TenantRateLimits,
    TreeHead,
)
from sealtrail.store.codec import SELECT_LIST
from sealtrail.store.dialect import Dialect, unchanged_row
from sealtrail.store.filters import compile_where
from sealtrail.timeline import DAY, HOUR, Counts, Grid

T = TypeVar("T")

MAX_SEQ: Final = 2**63 - 1  # the largest value a 64-bit integer column holds
# Every time an event or a time range can name (Python's datetime, year 1 to 9999),
# in µs, both on a UTC midnight: the bounds of a count with an open side.
EARLIEST_US: Final = to_micros(datetime.min.replace(tzinfo=UTC))
LATEST_US: Final = to_micros(datetime.max.replace(tzinfo=UTC)) + 1
_KEY_COLUMNS: Final = (
    "id, tenant_id, secret_hash, scopes, created_at, name, revoked_at, expires_at,"
    " last_used_at, replaced_by"
)
_RATE_COLUMNS: Final = "key_writes, tenant_writes, key_reads, tenant_reads"
_CHECKPOINT_COLUMNS: Final = "tenant_id, tree_size, root_hash, note, created_at"
_CONSUMER_COLUMNS: Final = (
    "tenant_id, name, next_seq, lease_owner, lease_until, attempts, retry_at,"
    " failing_since, failing, last_error, updated_at"
)
_ALERT_COLUMNS: Final = (
    "tenant_id, id, rule, severity, title, group_json, status, opened_at, updated_at,"
    " first_at, last_at, event_ids, event_seqs, event_count, published, acknowledged_by,"
    " acknowledged_at, resolved_by, resolved_at"
)
_TYPE_COLUMNS: Final = "name, category, kind, description, expects_target, resource_type"
_TENANT_COLUMNS: Final = "id, name, created_at, strict, mask_keys, frame_ancestors"
_SAVED_COLUMNS: Final = "id, tenant_id, name, phrase, owner, created_by, created_at"
_SHARED: Final = ""  # the owner column of a shared saved search
_STREAM_COLUMNS: Final = (
    "tenant_id, id, name, destination, format, filter, status, secrets, created_at, updated_at"
)
_DELIVERY_COLUMNS: Final = (
    "tenant_id, stream_id, id, at, kind, first_seq, last_seq, events, attempt, delivered,"
    " status, duration_us, error"
)
_SESSION_COLUMNS: Final = (
    "tenant_id, id, user_id, user_email, user_name, role, account_ids, created_at, expires_at,"
    " link_expires_at, link_hash, cookie_hash, redeemed_at, revoked_at, revoked_by"
)
_HOLD_COLUMNS: Final = (
    "id, tenant_id, account_id, since, until, reason, created_by, created_at, released_at,"
    " released_by"
)
_PRUNE_COLUMNS: Final = "tenant_id, first_seq, below, record_seq, created_at, finished_at, deleted"
_ERASURE_COLUMNS: Final = (
    "id, tenant_id, subject_kind, subject, reason, requested_by, status, events_matched,"
    " created_at, events_erased, last_seq, finished_at, lease_until"
)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any], /) -> Cursor: ...


C = TypeVar("C", bound=Connection)


@dataclass(frozen=True, slots=True)
class Plan:
    """How ``search`` reads a page: from where, in what order (``{d}``: the direction).

    ``text_first`` compiles the filter to be driven by free text, ``by_rowid`` an
    id-or-email OR by the rowids its two indexes find, ``kept_off`` the terms whose
    indexes must not read the page or the count (``compile_where``); ``total`` is a
    total the plan choice already counted. ``rows_last`` finds the page's keys
    first, sorting what the driving index holds, and reads only those rows
    (``Dialect.rows_last``): a sort of every match reads each match's row first.
    """

    source: str = "events"
    order: str = "occurred_at {d}, seq {d}"
    text_first: bool = False
    by_rowid: bool = False
    total: int | None = None
    kept_off: frozenset[Term] = frozenset()
    rows_last: bool = False


class SQLStore(EventStore, Generic[C]):
    """``EventStore`` over SQL: an engine subclasses it with its connection type ``C``."""

    dialect: ClassVar[Dialect]
    # The event an id names (parameters: tenant, id), and the table of leaf hashes by seq.
    _EVENT_BY_ID: ClassVar[str]
    _LEAVES: ClassVar[str]
    # What the database raises when one of its guards refuses a change.
    _REFUSED: ClassVar[tuple[type[Exception], ...]]

    # -- what an engine supplies ------------------------------------------------
    @abc.abstractmethod
    def _read(self, work: Callable[[C], T], *, replica: bool = False) -> T:
        """Run ``work`` on a reading connection (``replica``: a standby may answer)."""

    @abc.abstractmethod
    def _write(self, work: Callable[[C], T]) -> T:
        """Run ``work`` in one write transaction; an exception rolls it back."""

    @abc.abstractmethod
    def _rows(
        self, sql: str, params: Sequence[Any], chunk_size: int, *, replica: bool = False
    ) -> Iterator[list[Any]]:
        """One query's rows in chunks, from one snapshot (``sql`` has the driver's placeholders)."""

    @abc.abstractmethod
    def _existing_ids(self, connection: C, tenant_id: str, ids: list[str]) -> dict[str, int]:
        """The seq of each of ``ids`` (distinct) that the tenant already has."""

    @abc.abstractmethod
    def _insert(self, connection: C, tenant_id: str, sealed: SealedBatch) -> None:
        """Insert a sealed batch's events and tree nodes (the head moves afterwards)."""

    @abc.abstractmethod
    def _erase(self, connection: C, tenant_id: str, erasures: Sequence[FieldErasure]) -> int:
        """Clear fields as ``erase_fields`` says, inside its transaction."""

    def _add_counts(self, connection: C, tenant_id: str, counts: list[HourCount]) -> None:
        """Add a batch's events to the timeline's counts (``event_counts``), one upsert
        per distinct (hour, kind, outcome), in the append's transaction."""
        for count in counts:
            self._execute(connection, ADD_COUNT, (tenant_id, *count))

    def _add_actor_counts(self, connection: C, tenant_id: str, counts: list[ActorDayCount]) -> None:
        """Add a batch's events to each actor's day counts (``actor_day_counts``), one
        upsert per distinct (actor, day), in the append's transaction."""
        self._execute_many(connection, ADD_ACTOR_COUNT, [(tenant_id, *c) for c in counts])

    def _plan(self, tenant_id: str, query: EventQuery) -> Plan:
        return Plan()

    def _forgetting(self, connection: C) -> contextlib.AbstractContextManager[None]:
        """Around a write that removes personal data: make the engine overwrite it."""
        return contextlib.nullcontext()

    # -- statements ----------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        """A statement written with ``?`` placeholders (none as a literal), in the driver's."""
        placeholder = self.dialect.placeholder
        return sql if placeholder == "?" else sql.replace("?", placeholder)

    def _execute(self, connection: C, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return connection.execute(self._sql(sql), params)

    def _execute_many(self, connection: C, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each of ``rows`` (an engine may send them all at once)."""
        for params in rows:
            self._execute(connection, sql, params)

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        return self._read(lambda c: self._execute(c, sql, params).fetchone())

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._read(lambda c: self._execute(c, sql, params).fetchall())

    def _run(
        self,
        sql: str,
        params: Sequence[Any],
        *,
        taken: str | None = None,
        orphan: str | None = None,
    ) -> int:
        """One write statement; its row count. ``taken``/``orphan`` name the conflicts."""

        def work(connection: C) -> int:
            try:
                return self._execute(connection, sql, params).rowcount
            except self.dialect.unique_violation as exc:
                if taken is None:
                    raise
                raise Conflict(taken) from exc
            except self.dialect.foreign_key_violation as exc:
                if orphan is None:
                    raise
                raise NotFound(orphan) from exc

        return self._write(work)

    def _escape(self, text: str | None) -> str | None:
        return None if text is None else self.dialect.escape(text)

    def schema_revision(self) -> str | None:
        try:
            row = self._one("SELECT version_num FROM alembic_version", ())
        except self.dialect.undefined_table:
            return None
        return None if row is None else str(row[0])

    # -- tenants, keys, event types ---------------------------------------------------
    def create_tenant(self, tenant: Tenant) -> None:
        self._run(
            "INSERT INTO tenants (id, name, created_at, strict, mask_keys) VALUES (?, ?, ?, ?, ?)",
            (
                tenant.id,
                self.dialect.escape(tenant.name),
                tenant.created_at,
                tenant.strict,
                self.dialect.escape(_join_patterns(tenant.mask_keys)),
            ),
            taken=f"tenant {tenant.id!r} already exists",
        )

    def _tenant(self, row: Sequence[Any]) -> Tenant:
        patterns = self.dialect.unescape(row[4])
        return Tenant(
            row[0],
            self.dialect.unescape(row[1]),
            row[2],
            bool(row[3]),
            tuple(p for p in patterns.split("\n") if p),
            tuple(row[5].split()),
        )

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = self._one(f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE id = ?", (tenant_id,))
        return None if row is None else self._tenant(row)

    def list_tenants(self) -> list[Tenant]:
        rows = self._all(f"SELECT {_TENANT_COLUMNS} FROM tenants ORDER BY id")
        return [self._tenant(r) for r in rows]

    def set_mask_keys(self, tenant_id: str, patterns: Sequence[str]) -> None:
        changed = self._run(
            "UPDATE tenants SET mask_keys = ? WHERE id = ?",
            (self.dialect.escape(_join_patterns(patterns)), tenant_id),
        )
        if changed != 1:
            raise NotFound(f"no tenant {tenant_id!r}")

    def add_api_key(self, key: ApiKeyRecord) -> None:
        self._write(lambda connection: self._add_key(connection, key))

    def _add_key(self, connection: C, key: ApiKeyRecord) -> None:
        try:
            self._execute(
                connection,
                "INSERT INTO api_keys (id, tenant_id, secret_hash, scopes, name, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.tenant_id,
                    key.secret_hash,
                    ",".join(sorted(key.scopes)),
                    self._escape(key.name),
                    key.created_at,
                    key.expires_at,
                ),
            )
        except self.dialect.unique_violation as exc:
            raise Conflict(f"API key {key.id!r} already exists") from exc
        except self.dialect.foreign_key_violation as exc:
            raise NotFound(f"no tenant {key.tenant_id!r}") from exc

    def rotate_api_key(self, old_id: str, new: ApiKeyRecord, old_expires_at: int) -> bool:
        def work(connection: C) -> bool:
            changed = self._execute(
                connection,
                "UPDATE api_keys SET replaced_by = ?, expires_at = CASE WHEN expires_at IS NULL"
                " OR expires_at > ? THEN ? ELSE expires_at END"
                " WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL AND replaced_by IS NULL",
                (new.id, old_expires_at, old_expires_at, old_id, new.tenant_id),
            ).rowcount
            if changed != 1:
                return False
            self._add_key(connection, new)
            return True

        return self._write(work)

    def touch_api_key(self, key_id: str, at: int) -> None:
        self._run(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?"
            " AND (last_used_at IS NULL OR last_used_at < ?)",
            (at, key_id, at),
        )

    def get_rate_limits(self, tenant_id: str) -> TenantRateLimits:
        row = self._one(
            f"SELECT {_RATE_COLUMNS} FROM tenant_rate_limits WHERE tenant_id = ?", (tenant_id,)
        )
        return TenantRateLimits() if row is None else TenantRateLimits(*row)

    def set_rate_limits(self, tenant_id: str, limits: TenantRateLimits, at: int) -> None:
        values = (limits.key_writes, limits.tenant_writes, limits.key_reads, limits.tenant_reads)
        changed = self._run(
            f"INSERT INTO tenant_rate_limits (tenant_id, {_RATE_COLUMNS}, updated_at)"
            " SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?)"
            " ON CONFLICT (tenant_id) DO UPDATE SET"
            " key_writes = excluded.key_writes, tenant_writes = excluded.tenant_writes,"
            " key_reads = excluded.key_reads, tenant_reads = excluded.tenant_reads,"
            " updated_at = excluded.updated_at",
            (tenant_id, *values, at, tenant_id),
        )
        if changed != 1:
            raise NotFound(f"no tenant {tenant_id!r}")

    def _key(self, row: Sequence[Any]) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row[0],
            tenant_id=row[1],
            secret_hash=bytes(row[2]),
            scopes=frozenset(s for s in row[3].split(",") if s),
            created_at=row[4],
            name=None if row[5] is None else self.dialect.unescape(row[5]),
            revoked_at=row[6],
            expires_at=row[7],
            last_used_at=row[8],
            replaced_by=row[9],
        )

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        row = self._one(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
        return None if row is None else self._key(row)

    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            sql = f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY tenant_id, created_at, id"
            return [self._key(r) for r in self._all(sql)]
        sql = f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id"
        return [self._key(r) for r in self._all(sql, (tenant_id,))]

    def revoke_api_key(self, key_id: str, at: int) -> bool:
        sql = "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
        return self._run(sql, (at, key_id)) == 1

    def add_event_type_version(self, tenant_id: str, version: EventTypeVersion) -> None:
        event_type = version.event_type
        values = (
            tenant_id,
            event_type.name,
            event_type.category,
            event_type.kind,
            self.dialect.escape(event_type.description),
            event_type.expects_target,
            event_type.resource_type,
        )

        def work(connection: C) -> None:
            try:
                self._execute(
                    connection,
                    f"INSERT INTO event_type_versions (tenant_id, {_TYPE_COLUMNS}, version,"
                    " registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, version.version, version.registered_at),
                )
            except self.dialect.unique_violation as exc:
                raise Conflict(
                    f"version {version.version} of {event_type.name!r} already exists"
                ) from exc
            self._execute(
                connection,
                f"INSERT INTO event_types (tenant_id, {_TYPE_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (tenant_id, name) DO UPDATE SET category = excluded.category,"
                " kind = excluded.kind, description = excluded.description,"
                " expects_target = excluded.expects_target, resource_type = excluded.resource_type",
                values,
            )

        self._write(work)

    def event_type_versions(self, tenant_id: str) -> list[EventTypeVersion]:
        rows = self._all(
            f"SELECT {_TYPE_COLUMNS}, version, registered_at FROM event_type_versions"
            " WHERE tenant_id = ? ORDER BY name, version",
            (tenant_id,),
        )
        return [EventTypeVersion(self._event_type(r), r[6], r[7]) for r in rows]

    def tenant_event_types(self, tenant_id: str) -> list[EventType]:
        rows = self._all(
            f"SELECT {_TYPE_COLUMNS} FROM event_types WHERE tenant_id = ? ORDER BY name",
            (tenant_id,),
        )
        return [self._event_type(r) for r in rows]

    def _event_type(self, row: Sequence[Any]) -> EventType:
        """A tenant's type from the first columns of a row (``_TYPE_COLUMNS``)."""
        return EventType(
            name=row[0],
            category=row[1],
            kind=row[2],
            description=self.dialect.unescape(row[3]),
            expects_target=bool(row[4]),
            resource_type=row[5],
            builtin=False,
        )

    # -- events ---------------------------------------------------------------------
    def append(self, tenant_id: str, events: Sequence[Event], seal: Sealer) -> list[Receipt]:
        def work(connection: C) -> tuple[dict[str, int], set[str]]:
            # The head row is read first (and, where the dialect says so, locked):
            # appends to one tenant take turns from here to the commit.
            row = self._execute(
                connection,
                f"SELECT tree_size, frontier FROM tenants WHERE id = ?{self.dialect.for_update}",
                (tenant_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"no tenant {tenant_id!r}")
            ids = list(dict.fromkeys(e.id for e in events))
            known = self._existing_ids(connection, tenant_id, ids)
            fresh: dict[str, Event] = {}
            for event in events:
                if event.id not in known:
                    fresh.setdefault(event.id, event)
            if fresh:
                head = TreeHead(row[0], split_frontier(row[1]))
                batch = list(fresh.values())
                sealed = seal(head, batch)
                _check_sealed(tenant_id, head, batch, sealed)
                self._insert(connection, tenant_id, sealed)
                self._add_counts(connection, tenant_id, hour_counts(sealed.events))
                self._add_actor_counts(
                    connection, tenant_id, actor_day_counts(sealed.events, self.dialect.escape)
                )
                self._execute(
                    connection,
                    "UPDATE tenants SET tree_size = ?, frontier = ? WHERE id = ?",
                    (sealed.head.size, b"".join(sealed.head.frontier), tenant_id),
                )
                known.update((e.id, e.seq) for e in sealed.events)
            return known, set(fresh)

        known, created = self._write(work)
        receipts: list[Receipt] = []
        for event in events:  # only the first occurrence of a new id was created
            receipts.append(Receipt(event.id, known[event.id], event.id in created))
            created.discard(event.id)
        return receipts

    def search(
        self, tenant_id: str, query: EventQuery, page: Page, *, with_total: bool = True
    ) -> SearchResult:
        plan = self._plan(tenant_id, query)
        direction = "DESC" if query.order == "desc" else "ASC"
        offset = page.offset if page.cursor is None else 0

        def statement(window: EventQuery) -> tuple[str, list[Any]]:
            where, params = compile_where(
                self.dialect,
                tenant_id,
                window,
                text_first=plan.text_first,
                by_rowid=plan.by_rowid,
                kept_off=plan.kept_off,
            )
            if page.cursor is not None:
                op = "<" if query.order == "desc" else ">"
                where += f" AND (occurred_at, seq) {op} (?, ?)"
                params += [page.cursor.occurred_at_us, min(page.cursor.seq, MAX_SEQ)]
            order = plan.order.format(d=direction)
            if plan.rows_last:
                return self.dialect.rows_last(plan.source, where, order, direction), params
            return (
                f"SELECT {SELECT_LIST} FROM {plan.source} WHERE {where}"
                f" ORDER BY {order} LIMIT ? OFFSET ?"
            ), params

        def work(connection: C) -> tuple[list[Any], int | None]:
            windows = [query] if offset else self._page_windows(connection, tenant_id, query, page)
            rows: list[Any] = []
            for window in windows:  # in the page's order, disjoint in time
                sql, params = statement(window)
                wanted = page.limit + 1 - len(rows)
                rows += self._execute(connection, sql, [*params, wanted, offset]).fetchall()
                if len(rows) > page.limit:
                    break
            if not with_total or plan.total is not None:
                return rows, plan.total if with_total else None
            return rows, self._count(
                connection, tenant_id, query, COUNT_CAP, kept_off=plan.kept_off
            )

        rows, total = self._read(work, replica=True)
        events = [self.dialect.event_from_row(r) for r in rows[: page.limit]]
        return SearchResult(events, total, len(rows) > page.limit)

    def _page_windows(
        self, connection: C, tenant_id: str, query: EventQuery, page: Page
    ) -> list[EventQuery]:
        """``query`` cut into time windows read one after another, in the page's order,
        until the page is full: the windows are disjoint and together cover ``query``'s
        time. One window (``query`` itself) unless the engine gains by reading a page
        in parts; a page at an offset is always read whole."""
        return [query]

    def _by_rowid(self, connection: C, tenant_id: str, query: EventQuery) -> bool:
        """Whether an id-or-email term is read as the union of its indexes' rowids
        (``compile_where``): where the engine's dialect asks for it and it is cheap."""
        return False

    def count(self, tenant_id: str, query: EventQuery, cap: int | None = COUNT_CAP) -> int | None:
        return self._read(lambda c: self._count(c, tenant_id, query, cap), replica=True)

    def _count(
        self,
        connection: C,
        tenant_id: str,
        query: EventQuery,
        cap: int | None,
        *,
        by_rowid: bool | None = None,
        kept_off: frozenset[Term] = frozenset(),
    ) -> int | None:
        total = None
        if not query.terms:
            total = self._summed_count(connection, tenant_id, query)
        elif (actors := actors_counted_by_day(query)) is not None:
            total = self._summed_actor_count(connection, tenant_id, actors, query)
        if total is not None:
            return None if cap is not None and total > cap else total
        if by_rowid is None:
            by_rowid = self._by_rowid(connection, tenant_id, query)
        where, params = compile_where(
            self.dialect, tenant_id, query, text_first=True, by_rowid=by_rowid, kept_off=kept_off
        )
        if cap is None:
            row = self._execute(connection, f"SELECT count(*) FROM events WHERE {where}", params)
            return int(row.fetchone()[0])
        row = self._execute(
            connection,
            f"SELECT count(*) FROM (SELECT 1 FROM events WHERE {where} LIMIT ?) AS matches",
            [*params, cap + 1],
        )
        total = int(row.fetchone()[0])
        return None if total > cap else total

    def _summed_count(self, connection: C, tenant_id: str, query: EventQuery) -> int | None:
        """The events of a time range (or of all time), summed as the timeline sums them.

        For a query with no term, the exact count costs what the range spans,
        not what it holds: the whole days from ``event_day_counts``, the whole
        hours beside them from ``event_counts``, and only the clipped first and
        last hour counted in ``events`` (``_aggregated_histogram`` over one
        bucket of whole days that holds the range). Appends, prunes and erasure
        keep both tables exact. None when the range holds no whole hour: the
        time index counts under two hours of events directly.
        """
        since = EARLIEST_US if query.time.since is None else to_micros(query.time.since)
        until = LATEST_US if query.time.until is None else to_micros(query.time.until)
        if since >= until:
            return 0
        origin = since // DAY * DAY
        grid = Grid(since, until, -(-(until - origin) // DAY) * DAY, origin)
        hours = whole_hours(grid)
        if hours is None:
            return None
        (counts,) = self._aggregated_histogram(connection, tenant_id, EventQuery(), grid, hours)
        return counts.count

    def _summed_actor_count(
        self, connection: C, tenant_id: str, actors: Term, query: EventQuery
    ) -> int | None:
        """The events of some actors in a time range (or all time), summed per day.

        The range's whole UTC days are one range of ``actor_day_counts``' key
        per actor (a row per day each was active), and only the clipped first
        and last day are counted in ``events``, through the actor's index, so
        the count costs the days the range spans rather than the events it
        holds. None when the range holds no whole day: the actor's index
        counts under two days of events directly.
        """
        since = EARLIEST_US if query.time.since is None else to_micros(query.time.since)
        until = LATEST_US if query.time.until is None else to_micros(query.time.until)
        lo, hi = -(-since // DAY) * DAY, until // DAY * DAY
        if lo >= hi:
            return None
        where, params = compile_where(self.dialect, tenant_id, EventQuery((actors,)))
        marks = ", ".join("?" * len(actors.values))
        row = self._execute(
            connection,
            "SELECT (SELECT sum(events) FROM actor_day_counts WHERE tenant_id = ?"
            f" AND actor_id IN ({marks}) AND day >= ? AND day < ?),"
            f" (SELECT count(*) FROM events WHERE {where}"
            " AND occurred_at >= ? AND occurred_at < ?),"
            f" (SELECT count(*) FROM events WHERE {where}"
            " AND occurred_at >= ? AND occurred_at < ?)",
            [
                tenant_id,
                *(self.dialect.escape(str(v)) for v in actors.values),
                lo,
                hi,
                *params,
                since,
                lo,
                *params,
                hi,
                until,
            ],
        ).fetchone()
        return sum(int(n or 0) for n in row)

    # -- the timeline ---------------------------------------------------------------
    def histogram(self, tenant_id: str, query: EventQuery, grid: Grid) -> list[Counts]:
        bare = EventQuery(query.terms)  # the grid bounds the time
        kinds = tuple(t for t in bare.terms if t.field is Field.KIND)
        outcomes = tuple(t for t in bare.terms if t.field is Field.OUTCOME)
        left_out = tuple(t for t in bare.terms if _left_out_actions(t))
        hours = whole_hours(grid)
        if hours is not None and len(kinds) + len(outcomes) + len(left_out) == len(bare.terms):
            kept = EventQuery((*kinds, *outcomes))
            counted = self._read(
                lambda c: self._aggregated_histogram(c, tenant_id, kept, grid, hours),
                replica=True,
            )
            if not left_out:
                return counted
            named = tuple(v for t in left_out for v in t.values)
            those = EventQuery((*kinds, *outcomes, Term(Field.ACTION, named)))
            keep_time_index = self._time_drives_histogram(tenant_id, those)
            less = self._read(
                lambda c: self._grouped_histogram(c, tenant_id, those, grid, keep_time_index),
                replica=True,
            )
            return [_less(a, b) for a, b in zip(counted, less, strict=True)]
        if len(kinds) + len(left_out) == len(bare.terms):
            counted = self._read(
                lambda c: self._counted_histogram(c, tenant_id, EventQuery(kinds), grid),
                replica=True,
            )
            if not left_out:
                return counted
            # Events of a few named actions left out (the viewer hides its own reads):
            # counted as above, less those actions' events, read through their index.
            named = tuple(v for t in left_out for v in t.values)
            those = EventQuery((*kinds, Term(Field.ACTION, named)))
            keep_time_index = self._time_drives_histogram(tenant_id, those)
            less = self._read(
                lambda c: self._grouped_histogram(c, tenant_id, those, grid, keep_time_index),
                replica=True,
            )
            return [_less(a, b) for a, b in zip(counted, less, strict=True)]
        keep_time_index = self._time_drives_histogram(tenant_id, bare)
        return self._read(
            lambda c: self._grouped_histogram(c, tenant_id, bare, grid, keep_time_index),
            replica=True,
        )

    def _time_drives_histogram(self, tenant_id: str, query: EventQuery) -> bool:
        """Whether a filtered histogram may read through the time index (the planner's
        choice); False makes the filter's own index read the matches."""
        return True

    def _aggregated_histogram(
        self,
        connection: C,
        tenant_id: str,
        query: EventQuery,
        grid: Grid,
        hours: tuple[int, int],
    ) -> list[Counts]:
        """The whole days and hours of ``hours`` summed from the counts, the rest counted
        in events.

        One statement. When the buckets are whole days from midnight, the
        grid's whole UTC days are one range of ``event_day_counts``' key
        (tenant, day, kind, outcome), every kind and outcome at once, grouped
        by bucket, kind and outcome: a year reads at most days x kinds x
        outcomes rows, however many events they count. The other hours
        (every hour when buckets are shorter than a day; else those of the
        first and last day) are, for each bucket and (kind, outcome) the query
        keeps, one range of ``event_counts``' key (tenant, kind, outcome,
        hour), summed where it lies. The events of the clipped first and last hour, if the
        grid's ends are not on the hour, are read through the time index
        (under an hour each). ``query`` holds kind and outcome terms only.
        """
        keys = [
            (kind, outcome)
            for kind in KINDS
            for outcome in OUTCOMES
            if all(_keeps(t, kind, outcome) for t in query.terms)
        ]
        days = whole_days(grid, hours)
        rest = [hours] if days is None else [(hours[0], days[0]), (days[1], hours[1])]
        edges = grid.edges()
        spans = [
            (i, max(edges[i], lo), min(edges[i + 1], hi))
            for lo, hi in rest
            for i in range(len(edges) - 1)
            if max(edges[i], lo) < min(edges[i + 1], hi)
        ]
        base = grid.origin + grid.first * grid.width  # the first bucket's unclipped start
        parts: list[str] = []
        values: list[Any] = []
        if keys and days is not None:
            # Kind and outcome terms keep a product of kinds and outcomes: the
            # narrowed columns filter the range, the rest need no condition.
            narrowed = [
                (column, chosen)
                for column, chosen, every in (
                    ("kind", sorted({k for k, _ in keys}), KINDS),
                    ("outcome", sorted({o for _, o in keys}), OUTCOMES),
                )
                if len(chosen) < len(every)
            ]
            kept = "".join(
                f" AND {column} IN ({', '.join('?' * len(chosen))})" for column, chosen in narrowed
            )
            parts.append(
                "SELECT * FROM (SELECT (day - ?) / ?, kind, outcome, sum(events)"
                f" FROM event_day_counts WHERE tenant_id = ? AND day >= ? AND day < ?{kept}"
                " GROUP BY 1, 2, 3) AS by_day"
            )
            values += [base, grid.width, tenant_id, *days]
            values += [v for _, chosen in narrowed for v in chosen]
        if keys and spans:
            spanned = ", ".join(["(?, CAST(? AS BIGINT), CAST(? AS BIGINT))"] * len(spans))
            kept = ", ".join(["(?, ?)"] * len(keys))
            parts.append(
                f"SELECT * FROM (WITH spans (i, lo, hi) AS (VALUES {spanned}),"
                f" keys (kind, outcome) AS (VALUES {kept})"
                " SELECT s.i, k.kind, k.outcome, (SELECT sum(events) FROM event_counts"
                " WHERE tenant_id = ? AND kind = k.kind AND outcome = k.outcome"
                " AND hour >= s.lo AND hour < s.hi)"
                " FROM spans AS s CROSS JOIN keys AS k) AS summed"
            )
            values += [v for span in spans for v in span]
            values += [v for key in keys for v in key]
            values.append(tenant_id)
        where, params = compile_where(self.dialect, tenant_id, query)
        for lo, hi in ((grid.since, hours[0]), (hours[1], grid.until)):
            if lo < hi:
                parts.append(
                    "SELECT (occurred_at - ?) / ?, kind, outcome, count(*) FROM events"
                    f" WHERE {where} AND occurred_at >= ? AND occurred_at < ? GROUP BY 1, 2, 3"
                )
                values += [base, grid.width, *params, lo, hi]
        if not parts:
            return [Counts() for _ in range(grid.size)]
        rows = self._execute(connection, " UNION ALL ".join(parts), values).fetchall()
        return _tally((r for r in rows if r[3]), grid.size, 0)

    def _counted_histogram(
        self, connection: C, tenant_id: str, query: EventQuery, grid: Grid
    ) -> list[Counts]:
        """Each bucket counted by kind, then its failures, from the indexes alone.

        One statement: a count per (bucket, kind) through (tenant_id, kind,
        occurred_at) and per bucket through (tenant_id, outcome, occurred_at),
        each a range of index entries counted where it lies; nothing is sorted
        or grouped, and no row of the table is read.
        """
        edges = grid.edges()
        size = len(edges) - 1
        where, params = compile_where(self.dialect, tenant_id, query)
        buckets = ", ".join(["(?, CAST(? AS BIGINT), CAST(? AS BIGINT))"] * size)
        kinds = ", ".join(["(?)"] * len(KINDS))
        window = "occurred_at >= e.lo AND occurred_at < e.hi"
        sql = (
            f"WITH edges (i, lo, hi) AS (VALUES {buckets}), kinds (kind) AS (VALUES {kinds})"
            f" SELECT e.i, k.kind, (SELECT count(*) FROM events"
            f" WHERE {where} AND kind = k.kind AND {window})"
            " FROM edges AS e CROSS JOIN kinds AS k"
            f" UNION ALL SELECT e.i, NULL, (SELECT count(*) FROM events"
            f" WHERE {where} AND outcome = 'failure' AND {window})"
            " FROM edges AS e"
        )
        values = [v for i in range(size) for v in (i, edges[i], edges[i + 1])]
        rows = self._execute(connection, sql, [*values, *KINDS, *params, *params]).fetchall()
        by_kind: list[dict[Kind, int]] = [{} for _ in range(size)]
        failures = [0] * size
        for index, kind, count in rows:
            if kind is None:
                failures[index] = int(count)
            elif count:
                by_kind[index][kind] = int(count)
        return [Counts(k, f) for k, f in zip(by_kind, failures, strict=True)]

    def _grouped_histogram(
        self, connection: C, tenant_id: str, query: EventQuery, grid: Grid, time_index: bool
    ) -> list[Counts]:
        """The matches read once through the filter's index, grouped by bucket, kind, outcome."""
        where, params = compile_where(self.dialect, tenant_id, query, text_first=True)
        at = "occurred_at" if time_index else f"{self.dialect.unindexed}occurred_at"
        sql = (
            "SELECT (occurred_at - ?) / ?, kind, outcome, count(*) FROM events"
            f" WHERE {where} AND {at} >= ? AND {at} < ? GROUP BY 1, 2, 3"
        )
        rows = self._execute(
            connection, sql, [grid.origin, grid.width, *params, grid.since, grid.until]
        ).fetchall()
        return _tally(rows, grid.size, grid.first)

    def _every_match(self, tenant_id: str, query: EventQuery, select: str) -> tuple[str, list[Any]]:
        """``select`` of every event the query matches, in its order: what a stream or an
        export reads (in the engine's parameter style)."""
        where, params = compile_where(self.dialect, tenant_id, query)
        direction = "DESC" if query.order == "desc" else "ASC"
        sql = (
            f"SELECT {select} FROM events WHERE {where}"
            f" ORDER BY occurred_at {direction}, seq {direction}"
        )
        return self._sql(sql), list(params)

    def stream(
        self, tenant_id: str, query: EventQuery, *, chunk_size: int = 1000
    ) -> Iterator[list[Event]]:
        sql, params = self._every_match(tenant_id, query, SELECT_LIST)
        for rows in self._rows(sql, params, chunk_size, replica=True):
            yield [self.dialect.event_from_row(r) for r in rows]

    def scan(
        self, tenant_id: str, start: int = 0, *, chunk_size: int = 5000
    ) -> Iterator[list[tuple[Event, bytes]]]:
        sql = f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq >= ? ORDER BY seq"
        for rows in self._rows(self._sql(sql), [tenant_id, start], chunk_size):
            yield [(self.dialect.event_from_row(r), bytes(r[-1])) for r in rows]

    def scan_rows(
        self, tenant_id: str, start: int = 0, stop: int | None = None, *, chunk_size: int = 5000
    ) -> Iterator[list[Sequence[Any]]]:
        sql = f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq >= ?"
        params: list[Any] = [tenant_id, start]
        if stop is not None:
            sql += " AND seq < ?"
            params.append(stop)
        unescape = self.dialect.unescape_row
        for rows in self._rows(self._sql(sql + " ORDER BY seq"), params, chunk_size):
            yield rows if unescape is unchanged_row else [unescape(r) for r in rows]

    def tree_node_range(
        self, tenant_id: str, level: int, start: int, stop: int
    ) -> list[tuple[int, bytes]]:
        rows = self._all(
            "SELECT idx, hash FROM tree_nodes WHERE tenant_id = ? AND level = ?"
            " AND idx >= ? AND idx < ? ORDER BY idx",
            (tenant_id, level, start, stop),
        )
        return [(idx, bytes(node)) for idx, node in rows]

    def get_event(self, tenant_id: str, event_id: str) -> Event | None:
        row = self._one(self._EVENT_BY_ID, (tenant_id, self.dialect.escape(event_id)))
        return None if row is None else self.dialect.event_from_row(row)

    # -- erasure -------------------------------------------------------------------------
    def _subject_arms(self, subject: Subject) -> list[tuple[str, list[Any]]]:
        """Where the subject's data may be: one condition per filter index that finds it."""
        d = self.dialect
        arms: list[tuple[str, list[Any]]] = []
        if subject.email is not None:
            email = d.escape(subject.email)
            arms += [
                (d.nocase_equals("actor_email"), [email]),
                (d.nocase_equals("target_email"), [email]),
                (
                    f"action IN ({', '.join('?' * len(ACCESS_ACTIONS))}) AND context IS NOT NULL"
                    f" AND {d.contains_nocase('context')}",
                    [*ACCESS_ACTIONS, email],
                ),
            ]
        if subject.actor_id is not None:
            held = _any_held("actor_name", "actor_email", "ip", "user_agent")
            arms.append((f"actor_id = ? AND {held}", [d.escape(subject.actor_id)]))
        if subject.target_id is not None:
            held = _any_held("target_name", "target_email")
            arms.append((f"target_id = ? AND {held}", [d.escape(subject.target_id)]))
        return arms

    def subject_events(
        self, tenant_id: str, subject: Subject, *, after_seq: int = -1, limit: int = 500
    ) -> list[Event]:
        # One read per arm through its own index, united (an event found twice is one
        # row), in seq order: the planner never walks the tenant's rows to find them.
        arms = self._subject_arms(subject)
        sql = " UNION ".join(
            f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? AND seq > ? AND {where}"
            for where, _ in arms
        )
        params = [p for _, values in arms for p in (tenant_id, max(after_seq, -1), *values)]
        rows = self._all(f"{sql} ORDER BY seq LIMIT ?", [*params, limit])
        return [self.dialect.event_from_row(r) for r in rows]

    def count_subject_events(self, tenant_id: str, subject: Subject) -> int:
        arms = self._subject_arms(subject)
        sql = " UNION ".join(
            f"SELECT seq FROM events WHERE tenant_id = ? AND {where}" for where, _ in arms
        )
        params = [p for _, values in arms for p in (tenant_id, *values)]
        row = self._one(f"SELECT count(*) FROM ({sql}) AS matches", params)
        return int(row[0])

    def erase_fields(self, tenant_id: str, erasures: Sequence[FieldErasure]) -> int:
        wanted = [e for e in erasures if e.commitments]
        if not wanted:
            return 0
        return self._write(lambda c: self._erase(c, tenant_id, wanted))

    def add_erasure(self, record: ErasureRecord) -> None:
        self._run(
            f"INSERT INTO erasures ({_ERASURE_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.tenant_id,
                record.subject_kind,
                self._escape(record.subject),
                self.dialect.escape(record.reason),
                self.dialect.escape(record.requested_by),
                record.status,
                record.events_matched,
                record.created_at,
                record.events_erased,
                record.last_seq,
                record.finished_at,
                record.lease_until,
            ),
            taken=f"erasure {record.id!r} already exists",
            orphan=f"no tenant {record.tenant_id!r}",
        )

    def _erasure(self, row: Sequence[Any]) -> ErasureRecord:
        unescape = self.dialect.unescape
        return ErasureRecord(
            id=row[0],
            tenant_id=row[1],
            subject_kind=row[2],
            subject=None if row[3] is None else unescape(row[3]),
            reason=unescape(row[4]),
            requested_by=unescape(row[5]),
            status=row[6],
            events_matched=row[7],
            created_at=row[8],
            events_erased=row[9],
            last_seq=row[10],
            finished_at=row[11],
            lease_until=row[12],
        )

    def get_erasure(self, tenant_id: str, erasure_id: str) -> ErasureRecord | None:
        row = self._one(
            f"SELECT {_ERASURE_COLUMNS} FROM erasures WHERE tenant_id = ? AND id = ?",
            (tenant_id, erasure_id),
        )
        return None if row is None else self._erasure(row)

    def unfinished_erasures(self, tenant_id: str | None = None) -> list[ErasureRecord]:
        sql = f"SELECT {_ERASURE_COLUMNS} FROM erasures WHERE status <> 'done'"
        params: list[Any] = []
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
            params.append(tenant_id)
        return [self._erasure(r) for r in self._all(sql + " ORDER BY created_at, id", params)]

    def claim_erasure(self, tenant_id: str, erasure_id: str, now: int, until: int) -> bool:
        sql = (
            "UPDATE erasures SET lease_until = ?"
            " WHERE tenant_id = ? AND id = ? AND status <> 'done' AND lease_until <= ?"
        )
        return self._run(sql, (until, tenant_id, erasure_id, now)) == 1

    def erasure_progress(
        self, tenant_id: str, erasure_id: str, last_seq: int, events_erased: int, lease_until: int
    ) -> None:
        self._run(
            "UPDATE erasures SET last_seq = ?, events_erased = ?, lease_until = ?"
            " WHERE tenant_id = ? AND id = ?",
            (last_seq, events_erased, lease_until, tenant_id, erasure_id),
        )

    def finish_erasure(self, tenant_id: str, erasure_id: str, at: int) -> None:
        def work(connection: C) -> None:
            with self._forgetting(connection):
                self._execute(
                    connection,
                    "UPDATE erasures SET status = 'done', subject = NULL, finished_at = ?,"
                    " lease_until = 0 WHERE tenant_id = ? AND id = ?",
                    (at, tenant_id, erasure_id),
                )

        self._write(work)

    # -- saved searches ------------------------------------------------------------------
    def add_saved_search(self, search: SavedSearch) -> None:
        escape = self.dialect.escape
        owner = _SHARED if search.owner is None else escape(search.owner)
        self._run(
            f"INSERT INTO saved_searches ({_SAVED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                search.id,
                search.tenant_id,
                escape(search.name),
                escape(search.phrase),
                owner,
                escape(search.created_by),
                search.created_at,
            ),
            taken=f"there is already a {'shared' if search.shared else 'private'} saved search"
            f" named {search.name!r}",
            orphan=f"no tenant {search.tenant_id!r}",
        )

    def _saved(self, row: Sequence[Any]) -> SavedSearch:
        unescape = self.dialect.unescape
        return SavedSearch(
            id=row[0],
            tenant_id=row[1],
            name=unescape(row[2]),
            phrase=unescape(row[3]),
            owner=None if row[4] == _SHARED else unescape(row[4]),
            created_by=unescape(row[5]),
            created_at=row[6],
        )

    def saved_searches(self, tenant_id: str, owner: str | None = None) -> list[SavedSearch]:
        owners = [_SHARED] if owner is None else [_SHARED, self.dialect.escape(owner)]
        rows = self._all(
            f"SELECT {_SAVED_COLUMNS} FROM saved_searches"
            f" WHERE tenant_id = ? AND owner IN ({', '.join('?' * len(owners))})"
            " ORDER BY name, owner, id",
            (tenant_id, *owners),
        )
        return [self._saved(r) for r in rows]

    def get_saved_search(self, tenant_id: str, search_id: str) -> SavedSearch | None:
        row = self._one(
            f"SELECT {_SAVED_COLUMNS} FROM saved_searches WHERE tenant_id = ? AND id = ?",
            (tenant_id, search_id),
        )
        return None if row is None else self._saved(row)

    def delete_saved_search(self, tenant_id: str, search_id: str) -> bool:
        sql = "DELETE FROM saved_searches WHERE tenant_id = ? AND id = ?"
        return self._run(sql, (tenant_id, search_id)) == 1

    def count_saved_searches(self, tenant_id: str) -> int:
        row = self._one("SELECT count(*) FROM saved_searches WHERE tenant_id = ?", (tenant_id,))
        return int(row[0])

    # -- retention and pruning ----------------------------------------------------------
    def get_retention(self, tenant_id: str) -> RetentionPolicy:
        rows = self._all(
            "SELECT action_prefix, days FROM retention_rules WHERE tenant_id = ?"
            " ORDER BY action_prefix",
            (tenant_id,),
        )
        default = [days for prefix, days in rows if prefix == ""]
        rules = tuple(Rule(prefix, days) for prefix, days in rows if prefix != "")
        return RetentionPolicy(default[0] if default else None, rules)

    def set_retention(self, tenant_id: str, policy: RetentionPolicy) -> None:
        rows = [(tenant_id, r.action_prefix, r.days) for r in policy.rules]
        if policy.days is not None:
            rows.insert(0, (tenant_id, "", policy.days))

        def work(connection: C) -> None:
            found = self._execute(connection, "SELECT 1 FROM tenants WHERE id = ?", (tenant_id,))
            if found.fetchone() is None:
                raise NotFound(f"no tenant {tenant_id!r}")
            self._execute(
                connection, "DELETE FROM retention_rules WHERE tenant_id = ?", (tenant_id,)
            )
            for row in rows:
                self._execute(
                    connection,
                    "INSERT INTO retention_rules (tenant_id, action_prefix, days) VALUES (?, ?, ?)",
                    row,
                )

        self._write(work)

    def add_hold(self, hold: Hold) -> None:
        self._run(
            f"INSERT INTO legal_holds ({_HOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                hold.id,
                hold.tenant_id,
                self._escape(hold.account_id),
                hold.since,
                hold.until,
                self.dialect.escape(hold.reason),
                self.dialect.escape(hold.created_by),
                hold.created_at,
                hold.released_at,
                self._escape(hold.released_by),
            ),
            taken=f"legal hold {hold.id!r} already exists",
            orphan=f"no tenant {hold.tenant_id!r}",
        )

    def _hold(self, row: Sequence[Any]) -> Hold:
        unescape = self.dialect.unescape
        return Hold(
            id=row[0],
            tenant_id=row[1],
            account_id=None if row[2] is None else unescape(row[2]),
            since=row[3],
            until=row[4],
            reason=unescape(row[5]),
            created_by=unescape(row[6]),
            created_at=row[7],
            released_at=row[8],
            released_by=None if row[9] is None else unescape(row[9]),
        )

    def holds(self, tenant_id: str, *, active_only: bool = False) -> list[Hold]:
        where = " AND released_at IS NULL" if active_only else ""
        rows = self._all(
            f"SELECT {_HOLD_COLUMNS} FROM legal_holds WHERE tenant_id = ?{where}"
            " ORDER BY created_at, id",
            (tenant_id,),
        )
        return [self._hold(r) for r in rows]

    def release_hold(self, tenant_id: str, hold_id: str, at: int, by: str) -> bool:
        sql = (
            "UPDATE legal_holds SET released_at = ?, released_by = ?"
            " WHERE tenant_id = ? AND id = ? AND released_at IS NULL"
        )
        return self._run(sql, (at, self.dialect.escape(by), tenant_id, hold_id)) == 1

    def retention_rows(self, tenant_id: str, start: int, limit: int) -> list[Row]:
        rows = self._all(
            "SELECT seq, action, occurred_at, account_id FROM events"
            " WHERE tenant_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
            (tenant_id, start, limit),
        )
        unescape = self.dialect.unescape
        return [Row(r[0], r[1], r[2], None if r[3] is None else unescape(r[3])) for r in rows]

    def prunes(self, tenant_id: str) -> list[Prune]:
        rows = self._all(
            f"SELECT {_PRUNE_COLUMNS} FROM prunes WHERE tenant_id = ? ORDER BY below",
            (tenant_id,),
        )
        return [Prune(*r) for r in rows]

    def add_prune(self, prune: Prune) -> None:
        try:
            self._add_prune(prune)
        except self._REFUSED as exc:
            reason = str(exc).strip().splitlines()[0]
            refused = f"the database refused the prune of {prune.tenant_id!r}: {reason}"
            raise Conflict(refused) from exc

    def _add_prune(self, prune: Prune) -> None:
        self._run(
            f"INSERT INTO prunes ({_PRUNE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                prune.tenant_id,
                prune.first_seq,
                prune.below,
                prune.record_seq,
                prune.created_at,
                prune.finished_at,
                prune.deleted,
            ),
            orphan=f"no tenant {prune.tenant_id!r}",
        )

    def keep_leaves(self, tenant_id: str, start: int, stop: int) -> int:
        return self._run(
            "INSERT INTO tree_nodes (tenant_id, level, idx, hash)"
            f" SELECT tenant_id, 0, seq, leaf_hash FROM {self._LEAVES}"
            " WHERE tenant_id = ? AND seq >= ? AND seq < ?"
            " ON CONFLICT (tenant_id, level, idx) DO NOTHING",
            (tenant_id, start, stop),
        )

    def prune_progress(
        self, tenant_id: str, below: int, deleted: int, finished_at: int | None
    ) -> None:
        self._run(
            "UPDATE prunes SET deleted = ?, finished_at = ? WHERE tenant_id = ? AND below = ?",
            (deleted, finished_at, tenant_id, below),
        )

    # -- tree state and checkpoints ------------------------------------------------------
    def tree_head(self, tenant_id: str) -> TreeHead:
        row = self._one("SELECT tree_size, frontier FROM tenants WHERE id = ?", (tenant_id,))
        if row is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return TreeHead(row[0], split_frontier(row[1]))

    def leaf_hashes(self, tenant_id: str, start: int, stop: int) -> list[bytes]:
        # A pruned event's leaf hash is kept as a level-0 tree node.
        rows = self._all(
            f"SELECT seq, leaf_hash FROM {self._LEAVES} WHERE tenant_id = ? AND seq >= ?"
            " AND seq < ? UNION SELECT idx, hash FROM tree_nodes WHERE tenant_id = ?"
            " AND level = 0 AND idx >= ? AND idx < ? ORDER BY 1",
            (tenant_id, start, stop, tenant_id, start, stop),
        )
        found: dict[int, bytes] = {}
        for seq, leaf in rows:
            found.setdefault(seq, bytes(leaf))
        return list(found.values())

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._run(
            f"INSERT INTO checkpoints ({_CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
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
        row = self._one(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant_id = ?"
            " ORDER BY tree_size DESC LIMIT 1",
            (tenant_id,),
        )
        return None if row is None else _checkpoint(row)

    def checkpoints(self, tenant_id: str) -> list[StoredCheckpoint]:
        rows = self._all(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant_id = ? ORDER BY tree_size",
            (tenant_id,),
        )
        return [_checkpoint(r) for r in rows]

    # -- log consumers -------------------------------------------------------------------
    def _consumer(self, row: Sequence[Any]) -> ConsumerState:
        return ConsumerState(
            tenant_id=row[0],
            name=row[1],
            next_seq=row[2],
            lease_owner=row[3],
            lease_until=row[4],
            attempts=row[5],
            retry_at=row[6],
            failing_since=row[7],
            failing=bool(row[8]),
            last_error=None if row[9] is None else self.dialect.unescape(row[9]),
            updated_at=row[10],
        )

    def add_consumer(self, tenant_id: str, name: str, next_seq: int, at: int) -> ConsumerState:
        def work(connection: C) -> Any:
            if (
                self._execute(
                    connection, "SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"no tenant {tenant_id!r}")
            self._execute(
                connection,
                "INSERT INTO log_consumers (tenant_id, name, next_seq, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, name) DO NOTHING",
                (tenant_id, name, next_seq, at),
            )
            return self._execute(
                connection,
                f"SELECT {_CONSUMER_COLUMNS} FROM log_consumers WHERE tenant_id = ? AND name = ?",
                (tenant_id, name),
            ).fetchone()

        return self._consumer(self._write(work))

    def get_consumer(self, tenant_id: str, name: str) -> ConsumerState | None:
        row = self._one(
            f"SELECT {_CONSUMER_COLUMNS} FROM log_consumers WHERE tenant_id = ? AND name = ?",
            (tenant_id, name),
        )
        return None if row is None else self._consumer(row)

    def list_consumers(self, tenant_id: str | None = None) -> list[ConsumerState]:
        if tenant_id is None:
            rows = self._all(
                f"SELECT {_CONSUMER_COLUMNS} FROM log_consumers ORDER BY tenant_id, name"
            )
        else:
            rows = self._all(
                f"SELECT {_CONSUMER_COLUMNS} FROM log_consumers WHERE tenant_id = ? ORDER BY name",
                (tenant_id,),
            )
        return [self._consumer(r) for r in rows]

    def remove_consumer(self, tenant_id: str, name: str) -> bool:
        sql = "DELETE FROM log_consumers WHERE tenant_id = ? AND name = ?"
        return self._run(sql, (tenant_id, name)) == 1

    def take_lease(
        self, tenant_id: str, name: str, owner: str, now: int, until: int
    ) -> ConsumerState | None:
        def work(connection: C) -> Any:
            taken = self._execute(
                connection,
                "UPDATE log_consumers SET lease_owner = ?, lease_until = ?"
                " WHERE tenant_id = ? AND name = ?"
                " AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?)",
                (owner, until, tenant_id, name, owner, now),
            ).rowcount
            if taken != 1:
                return None
            return self._execute(
                connection,
                f"SELECT {_CONSUMER_COLUMNS} FROM log_consumers WHERE tenant_id = ? AND name = ?",
                (tenant_id, name),
            ).fetchone()

        row = self._write(work)
        return None if row is None else self._consumer(row)

    def release_lease(self, tenant_id: str, name: str, owner: str) -> None:
        self._run(
            "UPDATE log_consumers SET lease_owner = NULL, lease_until = 0"
            " WHERE tenant_id = ? AND name = ? AND lease_owner = ?",
            (tenant_id, name, owner),
        )

    def advance_consumer(
        self, tenant_id: str, name: str, owner: str, from_seq: int, to_seq: int, at: int
    ) -> bool:
        sql = (
            "UPDATE log_consumers SET next_seq = ?, attempts = 0, retry_at = 0,"
            " failing_since = NULL, failing = ?, last_error = NULL, updated_at = ?"
            " WHERE tenant_id = ? AND name = ? AND lease_owner = ? AND next_seq = ?"
        )
        params = (to_seq, False, at, tenant_id, name, owner, from_seq)
        return self._run(sql, params) == 1

    def consumer_failed(
        self,
        tenant_id: str,
        name: str,
        owner: str,
        *,
        error: str,
        retry_at: int,
        failing_after: int,
        at: int,
    ) -> bool:
        sql = (
            "UPDATE log_consumers SET attempts = attempts + 1, retry_at = ?,"
            " failing_since = coalesce(failing_since, ?),"
            " failing = (coalesce(failing_since, ?) <= ?), last_error = ?, updated_at = ?"
            " WHERE tenant_id = ? AND name = ? AND lease_owner = ?"
        )
        params = (
            retry_at,
            at,
            at,
            at - failing_after,
            self.dialect.escape(error),
            at,
            tenant_id,
            name,
            owner,
        )
        return self._run(sql, params) == 1

    def move_consumer(self, tenant_id: str, name: str, next_seq: int, at: int) -> bool:
        sql = (
            "UPDATE log_consumers SET next_seq = ?, attempts = 0, retry_at = 0,"
            " failing_since = NULL, failing = ?, last_error = NULL, updated_at = ?"
            " WHERE tenant_id = ? AND name = ?"
        )
        return self._run(sql, (next_seq, False, at, tenant_id, name)) == 1

    def matching_seqs(
        self, tenant_id: str, query: EventQuery, first_seq: int, last_seq: int
    ) -> list[int]:
        where, params = compile_where(self.dialect, tenant_id, query)
        sql = f"SELECT seq FROM events WHERE {where} AND seq >= ? AND seq <= ? ORDER BY seq"
        rows = self._all(sql, [*params, first_seq, min(last_seq, MAX_SEQ)])
        return [int(r[0]) for r in rows]

    # -- streams -------------------------------------------------------------------------
    def _stream_values(self, stream: StreamRecord) -> tuple[Any, ...]:
        escape = self.dialect.escape
        return (
            stream.tenant_id,
            stream.id,
            escape(stream.name),
            escape(stream.destination),
            stream.format,
            self._escape(stream.filter),
            stream.status,
            escape(stream.secrets),
            stream.created_at,
            stream.updated_at,
        )

    def _stream(self, row: Sequence[Any]) -> StreamRecord:
        unescape = self.dialect.unescape
        return StreamRecord(
            tenant_id=row[0],
            id=row[1],
            name=unescape(row[2]),
            destination=unescape(row[3]),
            format=row[4],
            filter=None if row[5] is None else unescape(row[5]),
            status=row[6],
            secrets=unescape(row[7]),
            created_at=row[8],
            updated_at=row[9],
        )

    def add_stream(self, stream: StreamRecord) -> None:
        def work(connection: C) -> None:
            if (
                self._execute(
                    connection, "SELECT 1 FROM tenants WHERE id = ?", (stream.tenant_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"no tenant {stream.tenant_id!r}")
            try:
                self._execute(
                    connection,
                    f"INSERT INTO streams ({_STREAM_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    self._stream_values(stream),
                )
            except self.dialect.unique_violation as exc:
                raise Conflict(f"the tenant already has a stream named {stream.name!r}") from exc

        self._write(work)

    def get_stream(self, tenant_id: str, stream_id: str) -> StreamRecord | None:
        row = self._one(
            f"SELECT {_STREAM_COLUMNS} FROM streams WHERE tenant_id = ? AND id = ?",
            (tenant_id, stream_id),
        )
        return None if row is None else self._stream(row)

    def list_streams(self, tenant_id: str | None = None) -> list[StreamRecord]:
        if tenant_id is None:
            sql = f"SELECT {_STREAM_COLUMNS} FROM streams ORDER BY tenant_id, created_at, id"
            return [self._stream(r) for r in self._all(sql)]
        sql = f"SELECT {_STREAM_COLUMNS} FROM streams WHERE tenant_id = ? ORDER BY created_at, id"
        return [self._stream(r) for r in self._all(sql, (tenant_id,))]

    def update_stream(self, stream: StreamRecord) -> bool:
        values = self._stream_values(stream)
        sql = (
            "UPDATE streams SET name = ?, destination = ?, format = ?, filter = ?, status = ?,"
            " secrets = ?, updated_at = ? WHERE tenant_id = ? AND id = ?"
        )
        params = (*values[2:8], stream.updated_at, stream.tenant_id, stream.id)
        changed = self._run(
            sql, params, taken=f"the tenant already has a stream named {stream.name!r}"
        )
        return changed == 1

    def replace_stream_secrets(self, tenant_id: str, stream_id: str, old: str, new: str) -> bool:
        escape = self.dialect.escape
        sql = "UPDATE streams SET secrets = ? WHERE tenant_id = ? AND id = ? AND secrets = ?"
        return self._run(sql, (escape(new), tenant_id, stream_id, escape(old))) == 1

    def remove_stream(self, tenant_id: str, stream_id: str) -> bool:
        def work(connection: C) -> bool:
            self._execute(
                connection,
                "DELETE FROM stream_deliveries WHERE tenant_id = ? AND stream_id = ?",
                (tenant_id, stream_id),
            )
            return (
                self._execute(
                    connection,
                    "DELETE FROM streams WHERE tenant_id = ? AND id = ?",
                    (tenant_id, stream_id),
                ).rowcount
                == 1
            )

        return self._write(work)

    def add_delivery(self, delivery: DeliveryRecord, keep: int) -> None:
        d = delivery
        values = (
            d.tenant_id,
            d.stream_id,
            d.id,
            d.at,
            d.kind,
            d.first_seq,
            d.last_seq,
            d.events,
            d.attempt,
            d.delivered,
            d.status,
            d.duration_us,
            self._escape(d.error),
        )

        def work(connection: C) -> None:
            self._execute(
                connection,
                f"INSERT INTO stream_deliveries ({_DELIVERY_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            oldest = self._execute(
                connection,
                "SELECT id FROM stream_deliveries WHERE tenant_id = ? AND stream_id = ?"
                " ORDER BY id DESC LIMIT 1 OFFSET ?",
                (d.tenant_id, d.stream_id, keep - 1),
            ).fetchone()
            if oldest is not None:
                self._execute(
                    connection,
                    "DELETE FROM stream_deliveries WHERE tenant_id = ? AND stream_id = ?"
                    " AND id < ?",
                    (d.tenant_id, d.stream_id, oldest[0]),
                )

        self._write(work)

    def deliveries(self, tenant_id: str, stream_id: str, limit: int) -> list[DeliveryRecord]:
        rows = self._all(
            f"SELECT {_DELIVERY_COLUMNS} FROM stream_deliveries"
            " WHERE tenant_id = ? AND stream_id = ? ORDER BY id DESC LIMIT ?",
            (tenant_id, stream_id, limit),
        )
        return [
            DeliveryRecord(
                tenant_id=r[0],
                stream_id=r[1],
                id=r[2],
                at=r[3],
                kind=r[4],
                first_seq=r[5],
                last_seq=r[6],
                events=r[7],
                attempt=r[8],
                delivered=bool(r[9]),
                status=r[10],
                duration_us=r[11],
                error=None if r[12] is None else self.dialect.unescape(r[12]),
            )
            for r in rows
        ]

    # -- viewer sessions -------------------------------------------------------------------
    def set_frame_ancestors(self, tenant_id: str, origins: Sequence[str]) -> None:
        changed = self._run(
            "UPDATE tenants SET frame_ancestors = ? WHERE id = ?", (" ".join(origins), tenant_id)
        )
        if changed != 1:
            raise NotFound(f"no tenant {tenant_id!r}")

    def add_viewer_session(self, session: ViewerSession) -> None:
        escape = self._escape
        accounts = None if session.account_ids is None else "\n".join(sorted(session.account_ids))
        self._run(
            f"INSERT INTO viewer_sessions ({_SESSION_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.tenant_id,
                session.id,
                self.dialect.escape(session.user.id),
                escape(session.user.email),
                escape(session.user.name),
                session.role,
                escape(accounts),
                session.created_at,
                session.expires_at,
                session.link_expires_at,
                session.link_hash,
                session.cookie_hash,
                session.redeemed_at,
                session.revoked_at,
                session.revoked_by,
            ),
            taken=f"viewer session {session.id!r} already exists",
            orphan=f"no tenant {session.tenant_id!r}",
        )

    def _viewer_session(self, row: Sequence[Any]) -> ViewerSession:
        unescape = self.dialect.unescape
        accounts = None if row[6] is None else frozenset(unescape(row[6]).split("\n"))
        return ViewerSession(
            tenant_id=row[0],
            id=row[1],
            user=ViewerUser(
                unescape(row[2]),
                None if row[3] is None else unescape(row[3]),
                None if row[4] is None else unescape(row[4]),
            ),
            role=row[5],
            account_ids=accounts,
            created_at=row[7],
            expires_at=row[8],
            link_expires_at=row[9],
            link_hash=bytes(row[10]),
            cookie_hash=None if row[11] is None else bytes(row[11]),
            redeemed_at=row[12],
            revoked_at=row[13],
            revoked_by=row[14],
        )

    def get_viewer_session(self, tenant_id: str, session_id: str) -> ViewerSession | None:
        row = self._one(
            f"SELECT {_SESSION_COLUMNS} FROM viewer_sessions WHERE tenant_id = ? AND id = ?",
            (tenant_id, session_id),
        )
        return None if row is None else self._viewer_session(row)

    def redeem_viewer_session(
        self, tenant_id: str, session_id: str, cookie_hash: bytes, now: int
    ) -> bool:
        sql = (
            "UPDATE viewer_sessions SET cookie_hash = ?, redeemed_at = ?"
            " WHERE tenant_id = ? AND id = ? AND redeemed_at IS NULL AND revoked_at IS NULL"
            " AND link_expires_at > ? AND expires_at > ?"
        )
        return self._run(sql, (cookie_hash, now, tenant_id, session_id, now, now)) == 1

    def revoke_viewer_sessions(
        self,
        tenant_id: str,
        *,
        at: int,
        by: str,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        sql = (
            "UPDATE viewer_sessions SET revoked_at = ?, revoked_by = ?"
            " WHERE tenant_id = ? AND revoked_at IS NULL AND expires_at > ?"
        )
        params: list[Any] = [at, by, tenant_id, at]
        if session_id is not None:
            sql += " AND id = ?"
            params.append(session_id)
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(self.dialect.escape(user_id))
        return self._run(sql, params)

    def list_viewer_sessions(
        self, tenant_id: str, *, user_id: str | None = None, live_at: int | None = None
    ) -> list[ViewerSession]:
        sql = f"SELECT {_SESSION_COLUMNS} FROM viewer_sessions WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(self.dialect.escape(user_id))
        if live_at is not None:
            sql += " AND revoked_at IS NULL AND expires_at > ?"
            params.append(live_at)
        rows = self._all(sql + " ORDER BY created_at DESC, id", params)
        return [self._viewer_session(r) for r in rows]

    # -- detections (issue 18) -----------------------------------------------------------
    def detection_rules(self, tenant_id: str) -> list[tuple[str, str]]:
        rows = self._all(
            "SELECT name, body FROM detection_rules WHERE tenant_id = ? ORDER BY name",
            (tenant_id,),
        )
        return [(r[0], self.dialect.unescape(r[1])) for r in rows]

    def put_detection_rule(self, tenant_id: str, name: str, body: str, at: int) -> None:
        self._run(
            "INSERT INTO detection_rules (tenant_id, name, body, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, name) DO UPDATE SET body = excluded.body,"
            " updated_at = excluded.updated_at",
            (tenant_id, name, self.dialect.escape(body), at),
            orphan=f"no tenant {tenant_id!r}",
        )

    def remove_detection_rule(self, tenant_id: str, name: str) -> bool:
        sql = "DELETE FROM detection_rules WHERE tenant_id = ? AND name = ?"
        return self._run(sql, (tenant_id, name)) == 1

    def detection_settings(self, tenant_id: str) -> tuple[str, str] | None:
        row = self._one(
            "SELECT timezone, business_hours FROM detection_settings WHERE tenant_id = ?",
            (tenant_id,),
        )
        return None if row is None else (row[0], row[1])

    def put_detection_settings(
        self, tenant_id: str, timezone: str, business_hours: str, at: int
    ) -> None:
        self._run(
            "INSERT INTO detection_settings (tenant_id, timezone, business_hours, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET"
            " timezone = excluded.timezone, business_hours = excluded.business_hours,"
            " updated_at = excluded.updated_at",
            (tenant_id, timezone, business_hours, at),
            orphan=f"no tenant {tenant_id!r}",
        )

    def clear_detection_state(self, tenant_id: str, rule_name: str) -> None:
        # Rule ids are "name@version"; "A" follows "@", so this is every version of the name.
        self._run(
            "DELETE FROM detection_state WHERE tenant_id = ? AND rule >= ? AND rule < ?",
            (tenant_id, f"{rule_name}@", f"{rule_name}A"),
        )

    def detection_progress(self, tenant_id: str, consumer: str) -> int:
        row = self._one(
            "SELECT next_seq FROM detection_progress WHERE tenant_id = ? AND consumer = ?",
            (tenant_id, consumer),
        )
        return 0 if row is None else int(row[0])

    def detection_state(
        self, tenant_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        by_rule: dict[str, list[str]] = {}
        for rule, key in keys:
            by_rule.setdefault(rule, []).append(key)
        for rule, names in by_rule.items():
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows = self._all(
                    "SELECT key, value FROM detection_state"
                    f" WHERE tenant_id = ? AND rule = ? AND key IN ({marks})",
                    (tenant_id, rule, *(self.dialect.escape(k) for k in chunk)),
                )
                for key, value in rows:
                    found[(rule, self.dialect.unescape(key))] = value
        return found

    def commit_detections(
        self,
        tenant_id: str,
        consumer: str,
        from_seq: int,
        to_seq: int,
        commit: DetectionCommit,
        at: int,
    ) -> bool:
        escape = self.dialect.escape

        def work(connection: C) -> bool:
            self._execute(
                connection,
                "INSERT INTO detection_progress (tenant_id, consumer, next_seq, updated_at)"
                " VALUES (?, ?, 0, ?) ON CONFLICT (tenant_id, consumer) DO NOTHING",
                (tenant_id, consumer, at),
            )
            moved = self._execute(
                connection,
                "UPDATE detection_progress SET next_seq = ?, updated_at = ?"
                " WHERE tenant_id = ? AND consumer = ? AND next_seq = ?",
                (to_seq, at, tenant_id, consumer, from_seq),
            ).rowcount
            if moved != 1:
                return False  # another process evaluated this range first
            self._execute_many(
                connection,
                "INSERT INTO detection_state"
                " (tenant_id, rule, key, value, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (tenant_id, rule, key) DO UPDATE SET value = excluded.value,"
                " seen_at = excluded.seen_at, expires_at = excluded.expires_at",
                [
                    (
                        tenant_id,
                        change.rule,
                        escape(change.key),
                        change.value,
                        change.seen_at,
                        change.expires_at,
                    )
                    for change in commit.state
                ],
            )
            if commit.expire_before is not None:
                self._execute(
                    connection,
                    "DELETE FROM detection_state WHERE tenant_id = ? AND expires_at < ?",
                    (tenant_id, commit.expire_before),
                )
            for rule in sorted({change.rule for change in commit.state}):
                cap = commit.caps.get(rule)
                if cap is None:
                    continue
                count = self._execute(
                    connection,
                    "SELECT count(*) FROM detection_state WHERE tenant_id = ? AND rule = ?",
                    (tenant_id, rule),
                ).fetchone()[0]
                if count > cap:
                    self._execute(
                        connection,
                        "DELETE FROM detection_state WHERE tenant_id = ? AND rule = ? AND key IN"
                        " (SELECT key FROM detection_state WHERE tenant_id = ? AND rule = ?"
                        " ORDER BY seen_at, key LIMIT ?)",
                        (tenant_id, rule, tenant_id, rule, count - cap),
                    )
            for alert in commit.opened:
                self._insert_alert(connection, alert)
            for growth in commit.grown:
                self._grow_alert(connection, tenant_id, growth, at)
            return True

        return self._write(work)

    def _insert_alert(self, connection: C, alert: AlertRecord) -> None:
        escape = self.dialect.escape
        self._execute(
            connection,
            f"INSERT INTO alerts ({_ALERT_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                alert.tenant_id,
                alert.id,
                alert.rule,
                alert.severity,
                escape(alert.title),
                escape(json.dumps(dict(alert.group))),
                alert.status,
                alert.opened_at,
                alert.updated_at,
                alert.first_at,
                alert.last_at,
                escape(json.dumps(list(alert.event_ids))),
                json.dumps(list(alert.event_seqs)),
                alert.event_count,
                alert.published,
                None,
                None,
                None,
                None,
            ),
        )
        self._link_alert(connection, alert.tenant_id, alert.id, alert.event_seqs)

    def _link_alert(
        self, connection: C, tenant_id: str, alert_id: str, seqs: Sequence[int]
    ) -> None:
        for seq in seqs:
            self._execute(
                connection,
                "INSERT INTO alert_events (tenant_id, seq, alert_id) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant_id, seq, alert_id) DO NOTHING",
                (tenant_id, seq, alert_id),
            )

    def _grow_alert(self, connection: C, tenant_id: str, growth: AlertGrowth, at: int) -> None:
        row = self._execute(
            connection,
            "SELECT event_ids, event_seqs, event_count, last_at FROM alerts"
            " WHERE tenant_id = ? AND id = ?",
            (tenant_id, growth.alert_id),
        ).fetchone()
        if row is None:
            return
        ids = json.loads(self.dialect.unescape(row[0]))
        seqs = json.loads(row[1])
        room = max(0, MAX_ALERT_EVENTS - len(seqs))
        new_seqs = list(growth.event_seqs[:room])
        ids += list(growth.event_ids[:room])
        seqs += new_seqs
        self._execute(
            connection,
            "UPDATE alerts SET event_ids = ?, event_seqs = ?, event_count = ?, last_at = ?,"
            " updated_at = ? WHERE tenant_id = ? AND id = ?",
            (
                self.dialect.escape(json.dumps(ids)),
                json.dumps(seqs),
                int(row[2]) + growth.added,
                max(int(row[3]), growth.last_at),
                at,
                tenant_id,
                growth.alert_id,
            ),
        )
        self._link_alert(connection, tenant_id, growth.alert_id, new_seqs)

    def _alert(self, row: Sequence[Any]) -> AlertRecord:
        unescape = self.dialect.unescape
        return AlertRecord(
            tenant_id=row[0],
            id=row[1],
            rule=row[2],
            severity=row[3],
            title=unescape(row[4]),
            group=json.loads(unescape(row[5])),
            status=row[6],
            opened_at=row[7],
            updated_at=row[8],
            first_at=row[9],
            last_at=row[10],
            event_ids=tuple(json.loads(unescape(row[11]))),
            event_seqs=tuple(json.loads(row[12])),
            event_count=row[13],
            published=bool(row[14]),
            acknowledged_by=None if row[15] is None else unescape(row[15]),
            acknowledged_at=row[16],
            resolved_by=None if row[17] is None else unescape(row[17]),
            resolved_at=row[18],
        )

    def list_alerts(
        self,
        tenant_id: str,
        *,
        status: str | None = None,
        limit: int = 50,
        before: tuple[int, str] | None = None,
        accounts: Collection[str] | None = None,
    ) -> list[AlertRecord]:
        if accounts is not None and not accounts:
            return []
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if accounts is not None:
            clause, args = self._alert_within(tenant_id, accounts)
            sql += clause
            params += args
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        if before is not None:
            sql += " AND (opened_at < ? OR (opened_at = ? AND id < ?))"
            params += [before[0], before[0], before[1]]
        sql += " ORDER BY opened_at DESC, id DESC LIMIT ?"
        params.append(limit)
        return [self._alert(r) for r in self._all(sql, params)]

    def get_alert(
        self, tenant_id: str, alert_id: str, accounts: Collection[str] | None = None
    ) -> AlertRecord | None:
        if accounts is not None and not accounts:
            return None
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND id = ?"
        params: list[Any] = [tenant_id, alert_id]
        if accounts is not None:
            clause, args = self._alert_within(tenant_id, accounts)
            sql += clause
            params += args
        row = self._one(sql, params)
        return None if row is None else self._alert(row)

    def _alert_within(self, tenant_id: str, accounts: Collection[str]) -> tuple[str, list[Any]]:
        """The condition on an ``alerts`` row that every one of its events is listed (an
        alert lists at most MAX_ALERT_EVENTS) and belongs to one of ``accounts``: its
        count equals the number of its listed events found in those accounts, each read
        by its key. An event pruned since is not found, so the alert is not shown."""
        wanted = sorted({self.dialect.escape(a) for a in accounts})
        marks = ", ".join("?" * len(wanted))
        seqs = self.dialect.json_integers("alerts.event_seqs")
        return (
            " AND alerts.event_count = (SELECT COUNT(*) FROM events e"
            f" WHERE e.tenant_id = ? AND e.seq IN ({seqs}) AND e.account_id IN ({marks}))",
            [tenant_id, *wanted],
        )

    def set_alert_status(
        self, tenant_id: str, alert_id: str, status: str, by: str, at: int
    ) -> AlertRecord | None:
        column = "acknowledged" if status == "acknowledged" else "resolved"
        self._run(
            f"UPDATE alerts SET status = ?, {column}_by = ?, {column}_at = ?, updated_at = ?"
            " WHERE tenant_id = ? AND id = ?",
            (status, self.dialect.escape(by), at, at, tenant_id, alert_id),
        )
        return self.get_alert(tenant_id, alert_id)

    def alerts_for_seqs(
        self, tenant_id: str, seqs: Sequence[int], accounts: Collection[str] | None = None
    ) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        wanted = sorted(set(seqs))
        if accounts is not None and not accounts:
            return found
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT seq, alert_id FROM alert_events WHERE tenant_id = ? AND seq IN ({marks})"
            params: list[Any] = [tenant_id, *chunk]
            if accounts is not None:
                within, args = self._alert_within(tenant_id, accounts)
                sql += (
                    " AND alert_id IN (SELECT id FROM alerts WHERE tenant_id = ?"
                    f" AND id IN (SELECT alert_id FROM alert_events WHERE tenant_id = ?"
                    f" AND seq IN ({marks})){within})"
                )
                params += [tenant_id, tenant_id, *chunk, *args]
            rows = self._all(sql + " ORDER BY seq, alert_id", params)
            for seq, alert_id in rows:
                found.setdefault(int(seq), []).append(alert_id)
        return found

    def unpublished_alerts(self, tenant_id: str, limit: int = 100) -> list[AlertRecord]:
        rows = self._all(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND published = ?"
            " ORDER BY opened_at, id LIMIT ?",
            (tenant_id, False, limit),
        )
        return [self._alert(r) for r in rows]

    def mark_alerts_published(self, tenant_id: str, alert_ids: Sequence[str]) -> None:
        def work(connection: C) -> None:
            for alert_id in alert_ids:
                self._execute(
                    connection,
                    "UPDATE alerts SET published = ? WHERE tenant_id = ? AND id = ?",
                    (True, tenant_id, alert_id),
                )

        self._write(work)


def _checkpoint(row: Sequence[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(row[0], row[1], bytes(row[2]), row[3], row[4])


def _join_patterns(patterns: Sequence[str]) -> str:
    """Mask patterns as stored: one per line (a pattern holds no newline)."""
    if any("\n" in p for p in patterns):
        raise ValueError("a mask pattern holds no newline")
    return "\n".join(patterns)


def _any_held(*columns: str) -> str:
    return "(" + " OR ".join(f"{c} IS NOT NULL" for c in columns) + ")"


def split_frontier(blob: bytes) -> tuple[bytes, ...]:
    data = bytes(blob)
    return tuple(data[i : i + 32] for i in range(0, len(data), 32))


def _left_out_actions(term: Term) -> bool:
    """``-action:a,b``: exact actions left out (no prefix), which their index counts."""
    return (
        term.field is Field.ACTION
        and term.negate
        and all(isinstance(v, str) and action_prefix(v) is None for v in term.values)
    )


HourCount = tuple[int, str, str, int]
"""One row of the timeline's counts: (hour, kind, outcome, events); the hour in µs."""

ADD_COUNT: Final = (
    "INSERT INTO event_counts (tenant_id, hour, kind, outcome, events) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (tenant_id, kind, outcome, hour)"
    " DO UPDATE SET events = event_counts.events + excluded.events"
)
TAKE_COUNT: Final = (
    "UPDATE event_counts SET events = events - ?"
    " WHERE tenant_id = ? AND hour = ? AND kind = ? AND outcome = ?"
)


def _keeps(term: Term, kind: str, outcome: str) -> bool:
    """Whether a kind or outcome term keeps the events of this kind and outcome."""
    value = kind if term.field is Field.KIND else outcome
    return (value in term.values) != term.negate


def hour_of(at: int) -> int:
    """The start of the UTC hour that holds ``at`` (µs; Python's % floors)."""
    return at - at % HOUR


def hour_counts(events: Iterable[Event]) -> list[HourCount]:
    """A batch counted per (hour, kind, outcome), in key order: what ``event_counts`` adds."""
    counted = Counter((hour_of(e.occurred_at), e.kind, e.outcome) for e in events)
    return [(hour, kind, outcome, n) for (hour, kind, outcome), n in sorted(counted.items())]


ActorDayCount = tuple[str, int, int]
"""One row of an actor's day counts: (actor id as stored, day, events); the day in µs."""

ADD_ACTOR_COUNT: Final = (
    "INSERT INTO actor_day_counts (tenant_id, actor_id, day, events) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (tenant_id, actor_id, day)"
    " DO UPDATE SET events = actor_day_counts.events + excluded.events"
)
TAKE_ACTOR_COUNT: Final = (
    "UPDATE actor_day_counts SET events = events - ?"
    " WHERE tenant_id = ? AND actor_id = ? AND day = ?"
)


def day_of(at: int) -> int:
    """The start of the UTC day that holds ``at`` (µs; Python's % floors)."""
    return at - at % DAY


def actor_day_counts(events: Iterable[Event], escape: Callable[[str], str]) -> list[ActorDayCount]:
    """A batch counted per (actor, day), in key order: what ``actor_day_counts`` adds
    (``escape``: the actor id as the engine stores it)."""
    counted = Counter((escape(e.actor.id), day_of(e.occurred_at)) for e in events)
    return [(actor, day, n) for (actor, day), n in sorted(counted.items())]


def actors_counted_by_day(query: EventQuery) -> Term | None:
    """The query's one term when it keeps the events of some actor ids, which
    ``actor_day_counts`` can count; else None."""
    if len(query.terms) != 1:
        return None
    (term,) = query.terms
    return term if term.field is Field.ACTOR_ID and not term.negate else None


def whole_days(grid: Grid, hours: tuple[int, int]) -> tuple[int, int] | None:
    """The whole UTC days ``[lo, hi)`` within the whole hours ``hours`` of a grid that
    ``event_day_counts`` may answer for.

    None when a day could straddle two buckets (buckets shorter than a day, or
    not starting at midnight) or no whole day lies within the hours.
    """
    if grid.width % DAY or grid.origin % DAY:
        return None
    lo, hi = -(-hours[0] // DAY) * DAY, hours[1] // DAY * DAY
    return (lo, hi) if lo < hi else None


def whole_hours(grid: Grid) -> tuple[int, int] | None:
    """The whole hours ``[lo, hi)`` within a grid that ``event_counts`` may answer for.

    None when the buckets are not whole hours (minutes over a short range: the
    time index counts those) or no whole hour lies within the grid.
    """
    if grid.width % HOUR or grid.origin % HOUR:
        return None
    lo, hi = -(-grid.since // HOUR) * HOUR, grid.until // HOUR * HOUR
    return (lo, hi) if lo < hi else None


def _tally(rows: Iterable[Sequence[Any]], size: int, first: int) -> list[Counts]:
    """(bucket, kind, outcome, count) rows, bucket numbered from ``first``, as ``Counts``."""
    by_kind: list[dict[Kind, int]] = [{} for _ in range(size)]
    failures = [0] * size
    for slot, kind, outcome, count in rows:
        index = int(slot) - first
        by_kind[index][kind] = by_kind[index].get(kind, 0) + int(count)
        if outcome == "failure":
            failures[index] += int(count)
    return [
        Counts({k: n for k, n in b.items() if n}, f) for b, f in zip(by_kind, failures, strict=True)
    ]


def _less(counts: Counts, less: Counts) -> Counts:
    by_kind = {k: n - less.by_kind.get(k, 0) for k, n in counts.by_kind.items()}
    return Counts({k: n for k, n in by_kind.items() if n}, counts.failures - less.failures)


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
