"""The store contract: everything Sealtrail keeps, behind one small interface.

``EventStore`` is implemented by the SQLite engine (the embedded default) and
the PostgreSQL engine; one contract suite in ``tests/store`` runs against both.
Filters arrive as data (``sealtrail.query``); ``filters.compile_where`` turns
them into SQL, spelled in each engine's ``Dialect``. The store never decides
who may see what: callers pass the tenant and any account scope explicitly,
and the store applies them to every statement.

Appends are the only writes to events. The caller hands ``append`` a ``Sealer``
that, given the tenant's current tree head and the events that are really new,
assigns their ``seq`` and computes leaf hashes and new tree nodes. The store
runs it inside the same transaction as the inserts, under the tenant's write
serialisation, so events and tree state can never disagree after a crash.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sealtrail.catalog import EventType
from sealtrail.events import Event

if TYPE_CHECKING:  # ``limits`` costs a noticeable import; only servers count requests
    from limits.storage import Storage as RateCounters

from sealtrail.limits import COUNT_CAP as COUNT_CAP  # re-exported for the engines
from sealtrail.limits import ERASE_BATCH
from sealtrail.privacy import Subject
from sealtrail.query import EventQuery, Page
from sealtrail.retention import Hold, Prune, RetentionPolicy, Row
from sealtrail.saved_searches import SavedSearch
from sealtrail.sessions import ViewerSession
from sealtrail.timeline import Counts, Grid


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    created_at: int
    strict: bool = False
    mask_keys: tuple[str, ...] = ()
    """The tenant's own context key patterns to mask, beside the global ones."""
    frame_ancestors: tuple[str, ...] = ()
    """Origins that may frame the tenant's viewer, beside the viewer's own."""


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored: only the SHA-256 of its secret is kept."""

    id: str
    tenant_id: str
    secret_hash: bytes
    scopes: frozenset[str]
    created_at: int
    name: str | None = None
    revoked_at: int | None = None
    expires_at: int | None = None
    """After this a key answers like an unknown one (None: it never expires)."""
    last_used_at: int | None = None
    """When it last authenticated a request, to the minute (see ``touch_api_key``)."""
    replaced_by: str | None = None
    """The key a rotation made in its place; this one works until ``expires_at``."""

    def active_at(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class TenantRateLimits:
    """An operator's per-tenant rate limits; None keeps the configured default.

    Writes count events per second, reads count request units per second
    (``sealtrail.ratelimit`` says what a request costs).
    """

    key_writes: int | None = None
    tenant_writes: int | None = None
    key_reads: int | None = None
    tenant_reads: int | None = None


@dataclass(frozen=True, slots=True)
class EventTypeVersion:
    """One registration of a tenant's own event type: versions count from 1 per name."""

    event_type: EventType
    version: int
    registered_at: int


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A tenant's Merkle tree: its size and the right-edge subtree roots."""

    size: int = 0
    frontier: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class SealedBatch:
    """What a ``Sealer`` returns: the rows to insert and the new tree state."""

    events: Sequence[Event]
    leaf_hashes: Sequence[bytes]
    nodes: Sequence[tuple[int, int, bytes]]  # (level ≥ 1, index, hash)
    head: TreeHead


class Sealer(Protocol):
    def __call__(self, head: TreeHead, fresh: Sequence[Event]) -> SealedBatch: ...


@dataclass(frozen=True, slots=True)
class Receipt:
    """The answer to an append, per event in input order."""

    id: str
    seq: int
    created: bool


@dataclass(frozen=True, slots=True)
class SearchResult:
    events: list[Event]
    total: int | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tenant_id: str
    tree_size: int
    root_hash: bytes
    note: str
    created_at: int


@dataclass(frozen=True, slots=True)
class EventShape:
    """An event's place and type, read from its own columns without decoding the event:
    what a log follower's consumer can choose by before the events are read
    (``follower.Selective``)."""

    seq: int
    action: str
    category: str
    kind: str
    outcome: str
    commitments: bytes | None = None
    """The stored commitments of the event's erased fields (None: nothing erased). Only
    an erasure changes a stored event, and it always adds one: the same commitments
    mean the same event as when it was last decoded."""


@dataclass(frozen=True, slots=True)
class ConsumerState:
    """A background reader of one tenant's log: its cursor, its lease, its failures.

    ``next_seq`` is the first seq not yet handled. ``lease_owner`` may work on it
    until ``lease_until``; ``retry_at`` is when the next attempt is due after a
    failure. ``failing_since`` is the first failure of the current run of failures,
    ``attempts`` how many there were. Times are microseconds since the epoch.
    """

    tenant_id: str
    name: str
    next_seq: int = 0
    lease_owner: str | None = None
    lease_until: int = 0
    attempts: int = 0
    retry_at: int = 0
    failing_since: int | None = None
    failing: bool = False
    last_error: str | None = None
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class FieldErasure:
    """Clear these personal fields of the event at ``seq``, keeping each one's commitment.

    ``commitments`` maps a personal field's path to its base64 commitment.
    """

    seq: int
    commitments: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    """An erasure job. ``subject`` holds the value only while the job runs."""

    id: str
    tenant_id: str
    subject_kind: str
    subject: str | None
    reason: str
    requested_by: str  # the requesting actor, as JSON
    status: str  # "running" or "done"
    events_matched: int
    created_at: int
    events_erased: int = 0
    last_seq: int = -1
    finished_at: int | None = None
    lease_until: int = 0


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """A stream as stored. ``destination`` and ``secrets`` are JSON text (see
    ``sealtrail.streams.config``); ``status`` is ``active`` or ``paused``."""

    tenant_id: str
    id: str
    name: str
    destination: str
    format: str
    filter: str | None
    status: str
    secrets: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One attempt to deliver to a stream: a batch of the log (``kind`` ``batch``,
    ``first_seq..last_seq``) or a test message (``kind`` ``test``, no range)."""

    tenant_id: str
    stream_id: str
    id: str  # time-ordered (UUIDv7): the log lists newest first by it
    at: int
    kind: str
    first_seq: int | None
    last_seq: int | None
    events: int
    attempt: int
    delivered: bool
    status: int | None
    duration_us: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert as stored: the rule that opened it and (up to ``MAX_ALERT_EVENTS`` of) the
    events that made it, by seq and id; ``event_count`` counts them all."""

    tenant_id: str
    id: str
    rule: str
    severity: str
    title: str
    group: Mapping[str, str]
    status: str  # "open", "acknowledged" or "resolved"
    opened_at: int
    updated_at: int
    first_at: int
    last_at: int
    event_ids: tuple[str, ...]
    event_seqs: tuple[int, ...]
    event_count: int
    published: bool = False
    acknowledged_by: str | None = None
    acknowledged_at: int | None = None
    resolved_by: str | None = None
    resolved_at: int | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    """A detection state row to write: its value (JSON), when last seen, when it lapses."""

    rule: str
    key: str
    value: str
    seen_at: int
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class AlertGrowth:
    """More events for an open alert (beyond ``MAX_ALERT_EVENTS`` only counted)."""

    alert_id: str
    event_seqs: tuple[int, ...]
    event_ids: tuple[str, ...]
    added: int
    last_at: int


@dataclass(frozen=True, slots=True)
class DetectionCommit:
    """What evaluating one range of the log changed, written in one transaction."""

    state: Sequence[StateChange] = ()
    opened: Sequence[AlertRecord] = ()
    grown: Sequence[AlertGrowth] = ()
    expire_before: int | None = None
    caps: Mapping[str, int] = field(default_factory=dict)
    """Rule id → the most state rows it keeps (longest-unseen evicted first)."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    tenants: int = 0
    events: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class EventStore(abc.ABC):
    """One contract, two engines. Every method is safe to call from any thread."""

    url: str
    partitioned: bool = False
    """Whether events live in partitions that pruning may drop whole."""

    # -- lifecycle ---------------------------------------------------------
    @abc.abstractmethod
    def migrate(self) -> list[str]:
        """Bring the schema to the newest version; return the revisions applied."""

    @abc.abstractmethod
    def schema_revision(self) -> str | None:
        """The applied schema revision, or None before ``migrate``."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""

    # -- tenants, keys, event types ---------------------------------------
    @abc.abstractmethod
    def create_tenant(self, tenant: Tenant) -> None:
        """Raise ``Conflict`` if the id is taken."""

    @abc.abstractmethod
    def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    @abc.abstractmethod
    def list_tenants(self) -> list[Tenant]: ...

    @abc.abstractmethod
    def set_mask_keys(self, tenant_id: str, patterns: Sequence[str]) -> None:
        """Replace the tenant's own mask patterns; ``NotFound`` without the tenant."""

    @abc.abstractmethod
    def add_api_key(self, key: ApiKeyRecord) -> None: ...

    @abc.abstractmethod
    def get_api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    @abc.abstractmethod
    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]: ...

    @abc.abstractmethod
    def revoke_api_key(self, key_id: str, at: int) -> bool:
        """Mark the key revoked; False if there is no such (unrevoked) key."""

    @abc.abstractmethod
    def rotate_api_key(self, old_id: str, new: ApiKeyRecord, old_expires_at: int) -> bool:
        """Add ``new`` in place of ``old_id`` in one transaction: the old key is marked
        ``replaced_by`` the new one and expires at ``old_expires_at`` (or earlier, if it
        already would). False, adding nothing, if the old key is revoked or replaced."""

    @abc.abstractmethod
    def touch_api_key(self, key_id: str, at: int) -> None:
        """Set ``last_used_at`` to ``at`` unless it is already as late."""

    @abc.abstractmethod
    def get_rate_limits(self, tenant_id: str) -> TenantRateLimits:
        """The tenant's own rate limits (all None when the operator set none)."""

    @abc.abstractmethod
    def set_rate_limits(self, tenant_id: str, limits: TenantRateLimits, at: int) -> None:
        """Replace the tenant's own rate limits; ``NotFound`` without the tenant."""

    @abc.abstractmethod
    def rate_counters(self) -> RateCounters:
        """Where rate-limit counters live, as a ``limits`` storage with sliding-window
        counter support: shared by every process on the database where the engine can
        share them cheaply (``shares_rate_counters``), in this process otherwise."""

    shares_rate_counters: bool = False

    @abc.abstractmethod
    def add_event_type_version(self, tenant_id: str, version: EventTypeVersion) -> None:
        """Keep a new version of one of a tenant's own types and make it the current one.

        Versions are never changed or removed. Raise ``Conflict`` if the tenant
        already has this version of this name (another process registered first).
        """

    @abc.abstractmethod
    def tenant_event_types(self, tenant_id: str) -> list[EventType]:
        """The current version of each of a tenant's own types, by name."""

    @abc.abstractmethod
    def event_type_versions(self, tenant_id: str) -> list[EventTypeVersion]:
        """Every version of every one of a tenant's own types, by name then version."""

    # -- events ------------------------------------------------------------
    @abc.abstractmethod
    def append(self, tenant_id: str, events: Sequence[Event], seal: Sealer) -> list[Receipt]:
        """Store the events whose ids are new to the tenant, all or nothing.

        Events whose ``id`` the tenant already has (or that repeat an earlier id
        of the same batch) are not stored again; their receipt carries the
        original ``seq`` and ``created=False``. Returns one receipt per input.
        """

    @abc.abstractmethod
    def search(
        self,
        tenant_id: str,
        query: EventQuery,
        page: Page,
        *,
        with_total: bool = True,
    ) -> SearchResult: ...

    @abc.abstractmethod
    def count(self, tenant_id: str, query: EventQuery, cap: int | None = COUNT_CAP) -> int | None:
        """Matching events, or None when there are more than ``cap``."""

    @abc.abstractmethod
    def histogram(self, tenant_id: str, query: EventQuery, grid: Grid) -> list[Counts]:
        """The matches in each bucket of ``grid``, by kind, with their failures.

        ``grid`` bounds the time (``query.time`` is not read); one ``Counts``
        per bucket, oldest first. When the buckets are whole hours and the only
        filters are kinds and outcomes, the whole hours are summed from the
        pre-aggregate ``event_counts`` (kept exact by ``append`` and the prune
        paths) — when the buckets are whole days, the whole days from its
        rollup ``event_day_counts`` — and only a clipped first and last hour is
        counted in events;
        sub-hour buckets without filters (or with kinds only) are counted from
        the (tenant, kind, time) and (tenant, outcome, time) indexes alone.
        Exact actions left out (``-action:a,b``) are then subtracted, read
        through their index. Any other filter reads its matches once.
        """

    @abc.abstractmethod
    def stream(
        self, tenant_id: str, query: EventQuery, *, chunk_size: int = 1000
    ) -> Iterator[list[Event]]:
        """Every matching event in query order, in chunks, from one snapshot."""

    @abc.abstractmethod
    def export_body(
        self, tenant_id: str, query: EventQuery, fmt: Literal["csv", "ndjson"]
    ) -> Iterator[bytes]:
        """The matching events written, in chunks, from one snapshot: CSV rows without the
        header (``export.csv_header`` goes first) or NDJSON lines. The bytes are those
        ``export.csv_chunks`` / ``ndjson_chunks`` write from each event's ``to_dict()``;
        each engine has the database write the lines, and ``store.export_rows`` the rows
        it cannot write the same way."""

    @abc.abstractmethod
    def scan(
        self, tenant_id: str, start: int = 0, *, chunk_size: int = 5000
    ) -> Iterator[list[tuple[Event, bytes]]]:
        """Every event of a tenant with its stored leaf hash, in ``seq`` order from ``start``.

        For verification, which recomputes each leaf and compares.
        """

    @abc.abstractmethod
    def scan_rows(
        self, tenant_id: str, start: int = 0, stop: int | None = None, *, chunk_size: int = 5000
    ) -> Iterator[list[Sequence[Any]]]:
        """The rows ``scan`` decodes, seq ``start`` up to ``stop`` (excluded), in seq order.

        Each row holds ``codec.COLUMNS`` with its text unescaped, so
        ``codec.from_row`` turns it into the event ``scan`` would yield. One
        snapshot per call. For verification, which rebuilds leaves from the
        columns without building an ``Event`` per row.
        """

    @abc.abstractmethod
    def tree_node_range(
        self, tenant_id: str, level: int, start: int, stop: int
    ) -> list[tuple[int, bytes]]:
        """The stored tree nodes ``(idx, hash)`` of ``level`` ≥ 1 with ``start <= idx < stop``,
        in idx order (one that is missing is simply not there)."""

    @abc.abstractmethod
    def get_event(self, tenant_id: str, event_id: str) -> Event | None: ...

    @abc.abstractmethod
    def get_events_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> list[Event]: ...

    @abc.abstractmethod
    def event_shapes(self, tenant_id: str, start: int, stop: int) -> list[EventShape]:
        """The shape of every stored event with ``start <= seq < stop``, in seq order (a
        pruned seq has none): a few columns of each row, far cheaper than the events."""

    # -- erasure -------------------------------------------------------------
    @abc.abstractmethod
    def subject_events(
        self, tenant_id: str, subject: Subject, *, after_seq: int = -1, limit: int = ERASE_BATCH
    ) -> list[Event]:
        """Events after ``after_seq``, in seq order, that still hold something of ``subject``.

        That is: the subject is the actor and the actor's name, email, ip or user
        agent is still there; or the subject is the target and its name or email
        is; or (for an email) a Sealtrail access record whose context holds it.
        """

    @abc.abstractmethod
    def count_subject_events(self, tenant_id: str, subject: Subject) -> int:
        """How many events ``subject_events`` would return in all."""

    @abc.abstractmethod
    def erase_fields(self, tenant_id: str, erasures: Sequence[FieldErasure]) -> int:
        """Clear the named fields (value and salt, and from free-text search), append their
        commitments; one transaction. Fields already cleared are skipped, so running it
        twice changes nothing. Returns how many events changed."""

    @abc.abstractmethod
    def purge_erased(self, tenant_id: str, seqs: Sequence[int]) -> list[str]:
        """Make the engine drop what it still keeps of the values cleared from these events
        (old FTS segments, WAL, dead row versions) as far as this connection may; say what
        was done."""

    @abc.abstractmethod
    def add_erasure(self, record: ErasureRecord) -> None: ...

    @abc.abstractmethod
    def get_erasure(self, tenant_id: str, erasure_id: str) -> ErasureRecord | None: ...

    @abc.abstractmethod
    def unfinished_erasures(self, tenant_id: str | None = None) -> list[ErasureRecord]: ...

    @abc.abstractmethod
    def claim_erasure(self, tenant_id: str, erasure_id: str, now: int, until: int) -> bool:
        """Take the job's lease until ``until`` if nobody holds it at ``now``."""

    @abc.abstractmethod
    def erasure_progress(
        self, tenant_id: str, erasure_id: str, last_seq: int, events_erased: int, lease_until: int
    ) -> None:
        """Record how far the job got (and keep its lease)."""

    @abc.abstractmethod
    def finish_erasure(self, tenant_id: str, erasure_id: str, at: int) -> None:
        """Mark the job done and forget the subject's value."""

    # -- saved searches ------------------------------------------------------------
    @abc.abstractmethod
    def add_saved_search(self, search: SavedSearch) -> None:
        """Keep a saved search. Raise ``Conflict`` when the tenant already has one of that
        name among its shared ones (``owner`` None) or among that owner's private ones,
        ``NotFound`` without the tenant."""

    @abc.abstractmethod
    def saved_searches(self, tenant_id: str, owner: str | None = None) -> list[SavedSearch]:
        """The tenant's shared searches and ``owner``'s private ones, by name (shared
        first on a tie)."""

    @abc.abstractmethod
    def get_saved_search(self, tenant_id: str, search_id: str) -> SavedSearch | None: ...

    @abc.abstractmethod
    def delete_saved_search(self, tenant_id: str, search_id: str) -> bool:
        """Forget a saved search; False when the tenant has none of that id."""

    @abc.abstractmethod
    def count_saved_searches(self, tenant_id: str) -> int:
        """How many the tenant keeps, shared and private."""

    # -- retention and pruning ----------------------------------------------
    @abc.abstractmethod
    def get_retention(self, tenant_id: str) -> RetentionPolicy:
        """The tenant's retention policy (keep forever when none was set)."""

    @abc.abstractmethod
    def set_retention(self, tenant_id: str, policy: RetentionPolicy) -> None:
        """Replace the tenant's retention policy; ``NotFound`` without the tenant."""

    @abc.abstractmethod
    def add_hold(self, hold: Hold) -> None: ...

    @abc.abstractmethod
    def holds(self, tenant_id: str, *, active_only: bool = False) -> list[Hold]:
        """The tenant's legal holds, oldest first (released ones too, unless ``active_only``)."""

    @abc.abstractmethod
    def release_hold(self, tenant_id: str, hold_id: str, at: int, by: str) -> bool:
        """Release an active hold; False when the tenant has no such active hold."""

    @abc.abstractmethod
    def retention_rows(self, tenant_id: str, start: int, limit: int) -> list[Row]:
        """Up to ``limit`` events from seq ``start`` on, in seq order, as pruning reads them."""

    @abc.abstractmethod
    def prunes(self, tenant_id: str) -> list[Prune]:
        """The tenant's recorded prunes, oldest first."""

    @abc.abstractmethod
    def add_prune(self, prune: Prune) -> None:
        """Record a prune before any row goes. The database refuses one that does not start
        where the last ended, ends beyond the newest signed checkpoint, or was not
        announced in the log (an ``audit_log.events_pruned`` event after the range)."""

    @abc.abstractmethod
    def keep_leaves(self, tenant_id: str, start: int, stop: int) -> int:
        """Keep the leaf hashes of seq ``start``..``stop - 1`` as level-0 tree nodes
        (idempotent); how many were newly kept."""

    @abc.abstractmethod
    def prune_events(self, tenant_id: str, limit: int) -> int:
        """Delete the tenant's lowest ``limit`` events below its recorded prune, their
        leaf hashes kept first, in one transaction; how many went (0: none left)."""

    @abc.abstractmethod
    def prune_progress(
        self, tenant_id: str, below: int, deleted: int, finished_at: int | None
    ) -> None:
        """Record how many events of the prune ending at ``below`` went, and when it ended."""

    def drop_pruned_partitions(self) -> list[str]:
        """Drop whole storage partitions every row of which is pruned; their names.

        An engine without partitions drops nothing."""
        return []

    # -- tree state and checkpoints ----------------------------------------
    @abc.abstractmethod
    def tree_head(self, tenant_id: str) -> TreeHead: ...

    @abc.abstractmethod
    def tree_nodes(self, tenant_id: str, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        """Complete-subtree hashes by (level, index); level 0 is the leaf hashes.

        Raise ``NotFound`` if any is missing.
        """

    @abc.abstractmethod
    def leaf_hashes(self, tenant_id: str, start: int, stop: int) -> list[bytes]:
        """Stored leaf hashes for seq in [start, stop)."""

    @abc.abstractmethod
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Keep a signed checkpoint; one per (tenant, size)."""

    @abc.abstractmethod
    def latest_checkpoint(self, tenant_id: str) -> StoredCheckpoint | None: ...

    @abc.abstractmethod
    def checkpoints(self, tenant_id: str) -> list[StoredCheckpoint]: ...

    # -- log consumers: durable cursors and leases -------------------------------
    # Each change is one statement, atomic on both engines; the ones a lease
    # holder makes are conditional on still holding the lease (and, for the
    # cursor, on the cursor being where it read it), so a process whose lease
    # ran out, or a replay that moved the cursor, wins over a late write.
    @abc.abstractmethod
    def add_consumer(self, tenant_id: str, name: str, next_seq: int, at: int) -> ConsumerState:
        """The consumer, created at ``next_seq`` if it does not exist yet."""

    @abc.abstractmethod
    def get_consumer(self, tenant_id: str, name: str) -> ConsumerState | None: ...

    @abc.abstractmethod
    def list_consumers(self, tenant_id: str | None = None) -> list[ConsumerState]: ...

    @abc.abstractmethod
    def remove_consumer(self, tenant_id: str, name: str) -> bool: ...

    @abc.abstractmethod
    def take_lease(
        self, tenant_id: str, name: str, owner: str, now: int, until: int
    ) -> ConsumerState | None:
        """Take or extend the lease when it is free, expired (``lease_until <= now``) or
        already ``owner``'s; the consumer as it is then, or None when another holds it."""

    @abc.abstractmethod
    def release_lease(self, tenant_id: str, name: str, owner: str) -> None: ...

    @abc.abstractmethod
    def advance_consumer(
        self, tenant_id: str, name: str, owner: str, from_seq: int, to_seq: int, at: int
    ) -> bool:
        """Move the cursor from ``from_seq`` to ``to_seq`` and clear its failures, if
        ``owner`` holds the lease and the cursor is still at ``from_seq``."""

    @abc.abstractmethod
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
        """Count a failed attempt (when ``owner`` holds the lease): keep ``error``, wait
        until ``retry_at``, and mark the consumer failing once its failures have lasted
        ``failing_after`` microseconds."""

    @abc.abstractmethod
    def move_consumer(self, tenant_id: str, name: str, next_seq: int, at: int) -> bool:
        """Set the cursor (a replay) whoever holds the lease, clearing failures."""

    @abc.abstractmethod
    def matching_seqs(
        self, tenant_id: str, query: EventQuery, first_seq: int, last_seq: int
    ) -> list[int]:
        """The seqs in ``first_seq..last_seq`` (inclusive) of the events ``query`` matches,
        ascending: a stream's filter, read exactly as search reads it."""

    # -- streams ----------------------------------------------------------------
    @abc.abstractmethod
    def add_stream(self, stream: StreamRecord) -> None:
        """Raise ``Conflict`` if the tenant has a stream of that name, ``NotFound``
        without the tenant."""

    @abc.abstractmethod
    def get_stream(self, tenant_id: str, stream_id: str) -> StreamRecord | None: ...

    @abc.abstractmethod
    def list_streams(self, tenant_id: str | None = None) -> list[StreamRecord]:
        """A tenant's streams by creation, or every tenant's (by tenant)."""

    @abc.abstractmethod
    def update_stream(self, stream: StreamRecord) -> bool:
        """Replace the stream's configuration (by tenant and id); False if there is none,
        ``Conflict`` if the new name is another stream's."""

    @abc.abstractmethod
    def replace_stream_secrets(self, tenant_id: str, stream_id: str, old: str, new: str) -> bool:
        """Set the stream's ``secrets`` to ``new`` if they are still ``old`` (a re-encryption
        that must not undo a rotation made meanwhile); False if they were not."""

    @abc.abstractmethod
    def remove_stream(self, tenant_id: str, stream_id: str) -> bool:
        """Delete the stream and its delivery log; False if there was none."""

    @abc.abstractmethod
    def add_delivery(self, delivery: DeliveryRecord, keep: int) -> None:
        """Record one attempt and drop the stream's attempts beyond the newest ``keep``."""

    @abc.abstractmethod
    def deliveries(self, tenant_id: str, stream_id: str, limit: int) -> list[DeliveryRecord]:
        """The stream's latest attempts, newest first."""

    # -- detections (issue 18) -----------------------------------------------------------
    @abc.abstractmethod
    def detection_rules(self, tenant_id: str) -> list[tuple[str, str]]:
        """The tenant's own rules and tuned built-ins: (name, JSON body), by name."""

    @abc.abstractmethod
    def put_detection_rule(self, tenant_id: str, name: str, body: str, at: int) -> None: ...

    @abc.abstractmethod
    def remove_detection_rule(self, tenant_id: str, name: str) -> bool: ...

    @abc.abstractmethod
    def detection_settings(self, tenant_id: str) -> tuple[str, str] | None:
        """The tenant's (time zone, business hours), None when never set."""

    @abc.abstractmethod
    def put_detection_settings(
        self, tenant_id: str, timezone: str, business_hours: str, at: int
    ) -> None: ...

    @abc.abstractmethod
    def clear_detection_state(self, tenant_id: str, rule_name: str) -> None:
        """Forget a rule's windows and first-seen sets (every version of it)."""

    @abc.abstractmethod
    def detection_progress(self, tenant_id: str, consumer: str) -> int:
        """The first seq the detection consumer has not evaluated (0 before any)."""

    @abc.abstractmethod
    def detection_state(
        self, tenant_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """The stored values (JSON) of these (rule id, key) rows; absent rows are left out."""

    @abc.abstractmethod
    def commit_detections(
        self,
        tenant_id: str,
        consumer: str,
        from_seq: int,
        to_seq: int,
        commit: DetectionCommit,
        at: int,
    ) -> bool:
        """Record seqs ``from_seq..to_seq - 1`` as evaluated together with what that
        changed, in one transaction — only if the consumer's progress is still
        ``from_seq`` (False otherwise, and nothing is written)."""

    @abc.abstractmethod
    def list_alerts(
        self,
        tenant_id: str,
        *,
        status: str | None = None,
        limit: int = 50,
        before: tuple[int, str] | None = None,
        accounts: Collection[str] | None = None,
    ) -> list[AlertRecord]:
        """Alerts newest first (by ``opened_at``, ``id``), after the ``before`` key;
        with ``accounts``, only those whose every event is listed and in one of them."""

    @abc.abstractmethod
    def get_alert(
        self, tenant_id: str, alert_id: str, accounts: Collection[str] | None = None
    ) -> AlertRecord | None: ...

    @abc.abstractmethod
    def set_alert_status(
        self, tenant_id: str, alert_id: str, status: str, by: str, at: int
    ) -> AlertRecord | None:
        """Acknowledge or resolve; the alert as it is then (None: no such alert)."""

    @abc.abstractmethod
    def alerts_for_seqs(
        self, tenant_id: str, seqs: Sequence[int], accounts: Collection[str] | None = None
    ) -> dict[int, list[str]]:
        """For each of these seqs that an alert names: the alerts' ids (with ``accounts``,
        only the alerts ``list_alerts`` shows for them)."""

    @abc.abstractmethod
    def unpublished_alerts(self, tenant_id: str, limit: int = 100) -> list[AlertRecord]:
        """Opened alerts not yet recorded in the tenant's log, oldest first."""

    @abc.abstractmethod
    def mark_alerts_published(self, tenant_id: str, alert_ids: Sequence[str]) -> None: ...
    # -- viewer sessions (issue 16) ------------------------------------------------
    @abc.abstractmethod
    def set_frame_ancestors(self, tenant_id: str, origins: Sequence[str]) -> None:
        """Replace the origins that may frame the tenant's viewer; ``NotFound`` without it."""

    @abc.abstractmethod
    def add_viewer_session(self, session: ViewerSession) -> None:
        """Keep a freshly minted session (``NotFound`` without its tenant)."""

    @abc.abstractmethod
    def get_viewer_session(self, tenant_id: str, session_id: str) -> ViewerSession | None: ...

    @abc.abstractmethod
    def redeem_viewer_session(
        self, tenant_id: str, session_id: str, cookie_hash: bytes, now: int
    ) -> bool:
        """Spend the link: set the cookie's hash, if the link is unused, unexpired and
        the session not revoked — one conditional UPDATE, so only one caller wins."""

    @abc.abstractmethod
    def revoke_viewer_sessions(
        self,
        tenant_id: str,
        *,
        at: int,
        by: str,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        """Revoke the tenant's session ``session_id``, or every session of ``user_id``,
        that is not revoked yet and has not ended; how many were."""

    @abc.abstractmethod
    def list_viewer_sessions(
        self, tenant_id: str, *, user_id: str | None = None, live_at: int | None = None
    ) -> list[ViewerSession]:
        """The tenant's sessions, newest first (of one user; only those not ended at
        ``live_at``: not revoked, not expired)."""
