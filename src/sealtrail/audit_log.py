"""``AuditLog``: the one place where Sealtrail's rules live.

Every edge — the HTTP API, the viewer page, the CLI, the in-process SDK — is a
thin translator over this class. Each use case takes the caller's
``Principal`` and applies, here and only here, the scope it needs, the tenant
and account it may see, and the recording of access (a viewer's searches and
views, anyone's export). Results carry what an edge needs to answer (a page
with its ``next_cursor``, an export with its media type and filename), so no
edge reaches the store or the ledger.

The operator API (migrations, tenants, API keys, readiness, verifying the
whole database) takes no principal: whoever holds the database URL is the
operator. The store itself is private.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import itertools
import json
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, Unpack

from uuid_utils import uuid7

from sealtrail import bundle, export, inclusion, keys, pruning, ratelimit, timeline, verify
from sealtrail import saved_searches as saved
from sealtrail.access import RecentViews
from sealtrail.auth import (
    Principal,
    Scope,
    generate_api_key,
    parse_scopes,
    secret_matches,
    split_api_key,
)
from sealtrail.catalog import Catalog, EventType, event_type_from_body
from sealtrail.detections.consumer import DetectionConsumer
from sealtrail.detections.manager import Detections, ReplayAlert, alert_dict, replay_start
from sealtrail.detections.rules import DetectionSettings, Rule, rule_from_body
from sealtrail.errors import (
    AuthenticationFailed,
    ClassificationFixed,
    ConfigurationError,
    Conflict,
    FieldError,
    InconsistentTree,
    InvalidEvent,
    InvalidInput,
    InvalidQuery,
    LedgerError,
    NoteError,
    NotFound,
    NotMigrated,
    PermissionDenied,
)
from sealtrail.events import (
    Actor,
    Event,
    EventInput,
    Resource,
    Target,
    format_timestamp,
    from_micros,
    now_micros,
    validate_batch,
)
from sealtrail.follower import Consumer, Follower, RecentEvents
from sealtrail.follower_pool import ConsumerPlan
from sealtrail.ledger import leaf, tree
from sealtrail.ledger.checkpoint import (
    Checkpoint,
    CheckpointSigner,
    load_or_create_signer_key,
    load_signer_key,
    origin_for_tenant,
)
from sealtrail.ledger.leaf import PERSONAL_FIELDS, SALT_SIZE, LeafTemplate
from sealtrail.ledger.merkle import hash_leaf
from sealtrail.ledger.note import Verifier
from sealtrail.ledger.policy import Policy
from sealtrail.ledger.proof_file import tlog_proof
from sealtrail.ledger.signer_state import SignerState, default_state_dir
from sealtrail.limits import (
    ALERT_STATUSES,
    DEFAULT_BUCKETS,
    DEFAULT_PAGE,
    DEFAULT_ROTATION_OVERLAP,
    DEFAULT_SECRET_OVERLAP,
    DETECTION_BATCH,
    DETECTION_PACE,
    ERASE_BATCH,
    EXPORT_FORMATS,
    MAX_PAGE,
    MAX_REPLAY_EVENTS,
    MAX_SECRET_OVERLAP,
    MAX_STREAMS_PER_TENANT,
    STREAM_BATCH,
    STREAM_DELIVERY_LOG,
    STREAM_PACE,
    TAIL_BATCH,
    DeliveryKind,
    ExportFormat,
)
from sealtrail.masking import Masker, parse_patterns
from sealtrail.privacy import Subject, check_reason, plan
from sealtrail.pruning import PruneReport
from sealtrail.query import Cursor, EventQuery, Page, TimeRange, format_phrase
from sealtrail.query.matcher import matches
from sealtrail.recording import RecordFields, build_event
from sealtrail.retention import PRUNED_ACTION, Hold, Prune, RetentionPolicy, check_hold
from sealtrail.saved_searches import SavedSearch, SavedSearchRequest
from sealtrail.sessions import (
    SessionRequest,
    Sessions,
    ViewerSession,
    parse_frame_ancestors,
    viewer_url,
)
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.store.base import (
    AlertRecord,
    ApiKeyRecord,
    DeliveryRecord,
    ErasureRecord,
    EventStore,
    EventTypeVersion,
    FieldErasure,
    Receipt,
    SealedBatch,
    StoredCheckpoint,
    StreamRecord,
    Tenant,
    TenantRateLimits,
    TreeHead,
)
from sealtrail.stream_admin import (
    CreatedStream,
    StreamDelivery,
    StreamView,
    consumer_name,
    recorded_destination,
)
from sealtrail.stream_delivery import StreamConsumer, send_test
from sealtrail.streams import Batch, ConsistencyProof, DeliveryResult, WebhookSigner
from sealtrail.streams.config import SecretSet, SigningChoice, StreamSpec, WebhookDestination
from sealtrail.streams.guard import DestinationGuard
from sealtrail.streams.sealing import SecretBox, is_sealed, load_or_create_key_file, parse_keys
from sealtrail.timeline import Histogram
from sealtrail.witness.submit import Submitter

__all__ = [
    "AlertRecord",
    "ApiKeyRecord",
    "AuditLog",
    "Browse",
    "CreatedKey",
    "DetectionSettings",
    "Erasure",
    "Export",
    "MintedSession",
    "Readiness",
    "Receipt",
    "ReplayAlert",
    "Rule",
    "SearchPage",
    "SignedCheckpoint",
    "Tenant",
    "TenantRateLimits",
    "alert_dict",
    "replay_start",
]

CATALOG_TTL = 5.0
WITNESS_RETRY = 30.0

_log = logging.getLogger("sealtrail.signer")

_EXPORT_MEDIA_TYPES: Mapping[ExportFormat, tuple[str, str]] = {
    "csv": (export.CSV_MEDIA_TYPE, "csv"),
    "ndjson": (export.NDJSON_MEDIA_TYPE, "ndjson"),
    "bundle": (export.NDJSON_MEDIA_TYPE, "bundle.ndjson"),  # a bundle is NDJSON
}


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: ApiKeyRecord
    plain: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of events, with the cursor that reads the next one (None at the end)."""

    events: list[Event]
    total: int | None
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Tail:
    """One look of the live tail: the new events selected, and where the next look starts."""

    events: tuple[Event, ...]
    last_seq: int
    """The last seq read (-1 on an empty log); the next look reads after it."""
    caught_up: bool
    """Nothing after ``last_seq`` was recorded yet when this look read the log."""


@dataclass(frozen=True, slots=True)
class Browse:
    """A page newest first, as the viewer pages: with cursors both ways.

    ``older_cursor`` continues towards older rows, ``newer_cursor`` back towards
    newer ones; each is None where there is nothing more that way.
    """

    events: list[Event]
    total: int | None
    newer_cursor: str | None
    older_cursor: str | None


@dataclass(frozen=True, slots=True)
class Export:
    """An export ready to stream: ``chunks`` is lazy, the rest is known before the first byte."""

    media_type: str
    filename: str
    chunks: Iterator[bytes]


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    tenant_id: str
    tree_size: int
    root_hash: bytes
    note: str
    verifier_key: str


@dataclass(frozen=True, slots=True)
class MintedSession:
    url: str
    token: str  # the link's one-time token
    expires_at: str  # RFC 3339: the session ends then
    session_id: str
    link_expires_at: str  # RFC 3339: the link opens nothing after this


@dataclass(frozen=True, slots=True)
class Erasure:
    """An erasure as its requester sees it (``POST``/``GET /v1/erasures``).

    ``status`` is ``running``, ``done``, or ``dry_run`` (nothing changed, no id).
    ``events_matched`` counts the events that held something of the subject
    when it was requested; ``events_erased`` those changed so far.
    """

    erasure_id: str | None
    status: str
    events_matched: int
    events_erased: int = 0
    subject: str | None = None  # how the subject was named ("email", "id", …), never the value
    reason: str | None = None
    created_at: int | None = None
    finished_at: int | None = None
    purged: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: ErasureRecord, purged: Sequence[str] = ()) -> Erasure:
        return cls(
            record.id,
            record.status,
            record.events_matched,
            record.events_erased,
            record.subject_kind,
            record.reason,
            record.created_at,
            record.finished_at,
            tuple(purged),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "erasure_id": self.erasure_id,
            "events_matched": self.events_matched,
            "status": self.status,
        }
        if self.erasure_id is not None:
            out["events_erased"] = self.events_erased
            out["subject"] = self.subject
            out["reason"] = self.reason
            out["created_at"] = (
                None if self.created_at is None else format_timestamp(self.created_at)
            )
            out["finished_at"] = (
                None if self.finished_at is None else format_timestamp(self.finished_at)
            )
        return out


ERASURE_LEASE_US = 60_000_000
"""How long a process holds an erasure job without reporting progress."""
PRUNE_LEASE = "retention:prune"
"""The log consumer whose lease a process holds while it prunes a tenant."""
PRUNE_LEASE_US = 600_000_000
"""How long a process holds a tenant's prune lease without deleting a batch."""


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    schema: str | None = None
    reason: str | None = None
    signer_refused: Mapping[str, str] | None = None
    """Tenants whose tree the signer refuses, with why (see ``signer_refusals``)."""


def _display(name: str | None, email: str | None, ident: str) -> str:
    return name or email or ident


def _cursor_after(event: Event, order: Literal["asc", "desc"]) -> str:
    """The one way a cursor is made: the position just past ``event`` in ``order``."""
    return Cursor(event.occurred_at, event.seq, order).encode()


def _decode_cursor(token: str | None, parameter: str) -> Cursor | None:
    if not token or not token.strip():
        return None
    cursor = Cursor.decode(token.strip())
    if cursor.order != "desc":
        raise InvalidQuery("cursor is not valid", parameter)
    return cursor


class AuditLog:
    """Record, search, export and prove one database's audit events."""

    def __init__(
        self,
        store: EventStore,
        *,
        settings: Settings | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self._store = store
        self._settings = settings or Settings()
        self._signer: CheckpointSigner | None = None
        self._sessions = Sessions(store)
        self._catalog = catalog or Catalog.builtin()
        self._tenant_catalogs: dict[str, tuple[float, Catalog]] = {}
        self._tenants: dict[str, tuple[float, Tenant, Masker]] = {}
        self._signer_refusals: dict[str, str] = {}
        self._signer_refusal_count = 0
        self._signer_checked = False
        self._submitter: Submitter | None = None
        self._witness_attempts: dict[str, tuple[str, float]] = {}
        self._recent_views = RecentViews()
        self._append_listeners: list[Callable[[str], None]] = []
        # Events the log followers of this process decoded last, shared among them.
        self._recent_events = RecentEvents()
        self._stream_listeners: list[Callable[[], None]] = []
        self._last_use = keys.LastUse()
        self._limiter: ratelimit.RateLimiter | None = None
        self._secret_box: SecretBox | None = None

    @classmethod
    def open(
        cls,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        serving: bool = False,
    ) -> AuditLog:
        """An AuditLog on the configured database.

        ``serving`` connects as the API does: with ``runtime_database_url`` when
        one is set (PostgreSQL's INSERT/SELECT-only role), otherwise with
        ``database_url``; searches go to ``read_database_url`` when set.
        """
        settings = settings or Settings.load()
        url = database_url or settings.database_url
        if serving and database_url is None and settings.runtime_database_url:
            url = settings.runtime_database_url
        store = open_store(
            url,
            sqlite_cache_mib=settings.sqlite_cache_mib,
            read_url=settings.read_database_url,
            connect_timeout=settings.connect_timeout,
        )
        return cls(store, settings=settings)

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def database_url(self) -> str:
        """The URL this log connects with (the runtime role's when serving with one)."""
        return self._store.url

    def close(self) -> None:
        if self._submitter is not None:
            self._submitter.close()
        self._store.close()

    # -- the operator API -----------------------------------------------------------
    def migrate(self) -> list[str]:
        """Create or upgrade the schema; the revisions applied. Stream secrets stored in
        the clear by an older version are encrypted (``seal_stream_secrets``)."""
        applied = self._store.migrate()
        self.seal_stream_secrets(rekey=False)
        return applied

    def schema_revision(self) -> str | None:
        return self._store.schema_revision()

    def require_schema(self) -> None:
        """Raise ``NotMigrated`` unless the database holds Sealtrail's schema."""
        if self._store.schema_revision() is None:
            raise NotMigrated()

    def readiness(self) -> Readiness:
        """Whether this process can serve: the database answers and its schema is current."""
        try:
            self._store.ping()
            revision = self._store.schema_revision()
        except Exception as exc:  # readiness reports any failure, it does not raise
            return Readiness(False, reason=type(exc).__name__)
        if revision is None:
            return Readiness(False, reason="schema not migrated: run sealtrail migrate")
        refused = self.signer_refusals()
        if refused:
            return Readiness(
                False,
                schema=revision,
                reason="the signer refuses to sign trees that do not extend what it signed",
                signer_refused=refused,
            )
        return Readiness(True, schema=revision)

    def signer_refusals(self, *, check: bool = True) -> dict[str, str]:
        """Tenants whose tree the signer refuses now, with why.

        The first call in a process (with ``check``) brings every tenant's
        checkpoint up to date, so a restarted server finds a rolled-back
        database before anyone asks for a checkpoint.
        """
        if check and not self._signer_checked:
            self._signer_checked = True
            for known in self._store.list_tenants():
                with contextlib.suppress(LedgerError):
                    self._checkpoint(known.id)
        return dict(self._signer_refusals)

    def signer_refusal_count(self) -> int:
        """How many times this process's signer refused a tree."""
        return self._signer_refusal_count

    def create_tenant(
        self, tenant_id: str, name: str | None = None, *, strict: bool = False
    ) -> Tenant:
        _check_tenant_id(tenant_id)
        tenant = Tenant(tenant_id, name or tenant_id, now_micros(), strict)
        self._store.create_tenant(tenant)
        return tenant

    def tenant(self, tenant_id: str) -> Tenant:
        """The tenant; ``NotFound`` when there is none."""
        return self._tenant_entry(tenant_id)[1]

    def _tenant_entry(self, tenant_id: str) -> tuple[float, Tenant, Masker]:
        """The tenant and its masker, cached briefly: another process may change its
        mask patterns, and this one picks them up within ``CATALOG_TTL`` seconds."""
        now = time.monotonic()
        cached = self._tenants.get(tenant_id)
        if cached is not None and now - cached[0] <= CATALOG_TTL:
            return cached
        found = self._store.get_tenant(tenant_id)
        if found is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        patterns = parse_patterns(self._settings.mask_context_keys) + found.mask_keys
        entry = (now, found, Masker(patterns, cards=self._settings.mask_card_numbers))
        self._tenants[tenant_id] = entry
        return entry

    def mask_keys(self, tenant_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The global mask patterns and the tenant's own."""
        return parse_patterns(self._settings.mask_context_keys), self.tenant(tenant_id).mask_keys

    def set_mask_keys(self, tenant_id: str, patterns: Sequence[str]) -> Tenant:
        """Replace the tenant's own context key patterns (masked beside the global ones)."""
        self.tenant(tenant_id)
        self._store.set_mask_keys(tenant_id, parse_patterns(patterns))
        self._tenants.pop(tenant_id, None)
        return self.tenant(tenant_id)

    def tenants(self) -> list[Tenant]:
        return self._store.list_tenants()

    def tree_size(self, tenant_id: str) -> int:
        """How many events the tenant's log holds."""
        self.tenant(tenant_id)
        return self._store.tree_head(tenant_id).size

    def create_api_key(
        self,
        tenant_id: str,
        scopes: str | Sequence[Scope],
        *,
        name: str | None = None,
        expires_in: int | None = None,
    ) -> CreatedKey:
        """A new key (``expires_in`` seconds from now, or never), recorded in the
        tenant's log as ``audit_log.api_key_created``."""
        self.tenant(tenant_id)
        wanted = parse_scopes(scopes if isinstance(scopes, str) else ",".join(scopes))
        fresh = generate_api_key()
        now = now_micros()
        record = ApiKeyRecord(
            fresh.id,
            tenant_id,
            fresh.secret_hash,
            frozenset(wanted),
            now,
            name,
            expires_at=None if expires_in is None else now + expires_in * 1_000_000,
        )
        self._store.add_api_key(record)
        self._append(tenant_id, [keys.key_change("api_key_created", _operator(tenant_id), record)])
        return CreatedKey(record, fresh.plain)

    def api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        if tenant_id is not None:
            self.tenant(tenant_id)
        return self._store.list_api_keys(tenant_id)

    def revoke_api_key(self, key_id: str) -> None:
        """Revoke a key at once (recorded as ``audit_log.api_key_revoked``)."""
        found = self._store.get_api_key(key_id)
        if found is None or not self._store.revoke_api_key(key_id, now_micros()):
            raise NotFound(f"no active API key {key_id!r}")
        self._append(
            found.tenant_id, [keys.key_change("api_key_revoked", _operator(found.tenant_id), found)]
        )

    # -- key lifecycle and rate limits (issue 16) ---------------------------------------
    def api_key(self, key_id: str) -> ApiKeyRecord:
        found = self._store.get_api_key(key_id)
        if found is None:
            raise NotFound(f"no API key {key_id!r}")
        return found

    def rotate_api_key(
        self,
        key_id: str,
        *,
        overlap: int = DEFAULT_ROTATION_OVERLAP,
        expires_in: int | None = None,
    ) -> CreatedKey:
        """A new key in place of ``key_id``, with its scopes and name; the old key keeps
        working for ``overlap`` seconds (or until it expires, if sooner), so clients
        can move over. The new key lives ``expires_in`` seconds, by default as long as
        the old one was given. Recorded as ``audit_log.api_key_rotated``."""
        old = self._store.get_api_key(key_id)
        now = now_micros()
        if old is None or not old.active_at(now):
            raise NotFound(f"no active API key {key_id!r}")
        if old.replaced_by is not None:
            raise Conflict(f"API key {key_id} was already rotated to {old.replaced_by}")
        if expires_in is None and old.expires_at is not None:
            expires_in = max(1, (old.expires_at - old.created_at) // 1_000_000)
        fresh = generate_api_key()
        record = ApiKeyRecord(
            fresh.id,
            old.tenant_id,
            fresh.secret_hash,
            old.scopes,
            now,
            old.name,
            expires_at=None if expires_in is None else now + expires_in * 1_000_000,
        )
        old_until = now + overlap * 1_000_000
        if not self._store.rotate_api_key(key_id, record, old_until):
            raise Conflict(f"API key {key_id} was revoked or rotated meanwhile")
        rotated = self._store.get_api_key(key_id)
        assert rotated is not None
        change = keys.key_change(
            "api_key_rotated",
            _operator(old.tenant_id),
            rotated,
            new_key_id=record.id,
            new_key_expires_at=None
            if record.expires_at is None
            else format_timestamp(record.expires_at),
        )
        self._append(old.tenant_id, [change])
        return CreatedKey(record, fresh.plain)

    def rate_limits(self, tenant_id: str) -> tuple[TenantRateLimits, TenantRateLimits]:
        """The tenant's own rate limits (None where unset) and those in force."""
        self.tenant(tenant_id)
        return self._store.get_rate_limits(tenant_id), self._rate_limiter().limits_for(tenant_id)

    def set_rate_limits(self, tenant_id: str, wanted: TenantRateLimits) -> None:
        """Replace the tenant's own rate limits (None: the default), recorded in its log
        as ``audit_log.rate_limits_changed``. Other processes apply them within seconds."""
        self.tenant(tenant_id)
        ratelimit.check_limits(wanted)
        before = self._store.get_rate_limits(tenant_id)
        self._store.set_rate_limits(tenant_id, wanted, now_micros())
        self._rate_limiter().forget(tenant_id)
        change = EventInput(
            action="audit_log.rate_limits_changed",
            actor=_operator(tenant_id),
            resource=Resource("audit_log", tenant_id),
            context={"before": ratelimit.as_dict(before), "after": ratelimit.as_dict(wanted)},
            account_id=None,
        )
        self._append(tenant_id, [change])

    def _rate_limiter(self) -> ratelimit.RateLimiter:
        if self._limiter is None:
            s = self._settings
            defaults = TenantRateLimits(
                s.rate_limit_key_writes,
                s.rate_limit_tenant_writes,
                s.rate_limit_key_reads,
                s.rate_limit_tenant_reads,
            )
            self._limiter = ratelimit.RateLimiter(
                self._store.rate_counters(), defaults, self._store.get_rate_limits
            )
        return self._limiter

    def _meter(self, principal: Principal, direction: ratelimit.Direction, cost: int) -> None:
        """Charge an API key's request to its key's and tenant's limits (``ratelimit``)."""
        if principal.kind == "api_key" and self._settings.rate_limits:
            self._rate_limiter().charge(principal.tenant_id, principal.actor.id, direction, cost)

    def verify_database(
        self,
        verifier_key: str | Verifier | None,
        *,
        tenants: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int = 1,
    ) -> verify.Report:
        """Recompute every leaf, tree and checkpoint of the database (``sealtrail verify``).

        The verifier key comes from the caller; this never reads or creates the
        signing key. With none, signatures are reported as not checked. ``workers``
        processes check a big tenant's seq ranges in parallel; the report is the same.
        """
        return verify.verify_store(
            self._store,
            verifier_key,
            tenants=tenants or None,
            progress=progress,
            workers=workers,
        )

    # -- who is asking ------------------------------------------------------------------
    def authenticate_api_key(self, plain: str) -> Principal:
        key_id, secret = split_api_key(plain)
        record = self._store.get_api_key(key_id)
        now = now_micros()
        if (
            record is None
            or not record.active_at(now)
            or not secret_matches(secret, record.secret_hash)
        ):
            raise AuthenticationFailed("the API key is not valid")
        if self._last_use.due(record.id, now):
            self._store.touch_api_key(record.id, now)
        return Principal(
            tenant_id=record.tenant_id,
            kind="api_key",
            actor=Actor("api_key", record.id, name=record.name),
            scopes=record.scopes,
        )

    def open_viewer_session(self, cookie: str) -> ViewerSession:
        """The live session a viewer cookie carries; ``SessionInvalid``,
        ``SessionRevoked`` or ``SessionExpired`` if none."""
        return self._sessions.open(cookie, now_micros())

    def authenticate_viewer(self, cookie: str) -> Principal:
        return self.open_viewer_session(cookie).principal()

    def mint_viewer_session(
        self,
        principal: Principal,
        wanted: SessionRequest | object,
        *,
        base_url: str | None = None,
        ttl: int | None = None,
        link_ttl: int | None = None,
    ) -> MintedSession:
        """A viewer session for one user of the principal's tenant, and its one-time
        link (SPEC §5). ``wanted`` is a ``SessionRequest`` or the JSON body of one,
        validated here. The link opens the session once, within ``link_ttl`` seconds
        (``viewer_link_ttl``); the session lasts ``ttl`` (``viewer_session_ttl``).
        """
        principal.require("viewer:mint")
        self._meter(principal, "read", 1)
        if not isinstance(wanted, SessionRequest):
            wanted = SessionRequest.from_body(wanted)
        self.tenant(principal.tenant_id)
        settings = self._settings
        session, link = self._sessions.mint(
            principal.tenant_id,
            wanted,
            settings.viewer_session_ttl if ttl is None else ttl,
            settings.viewer_link_ttl if link_ttl is None else link_ttl,
            now_micros(),
        )
        return MintedSession(
            url=viewer_url(base_url or settings.base_url, link),
            token=link,
            expires_at=format_timestamp(session.expires_at),
            session_id=session.id,
            link_expires_at=format_timestamp(session.link_expires_at),
        )

    def viewer_link_session(self, link: str) -> ViewerSession:
        """The session an unused link would open, without spending the link."""
        return self._sessions.link_session(link, now_micros())

    def redeem_viewer_link(self, link: str) -> tuple[ViewerSession, str]:
        """Spend a session link once: its session and the cookie value that carries it."""
        return self._sessions.redeem(link, now_micros())

    def sign_out_viewer(self, cookie: str, *, replaced: bool = False) -> None:
        """End the session a viewer cookie carries (a cookie naming none is ignored)."""
        try:
            session = self._sessions.open(cookie, now_micros())
        except AuthenticationFailed:
            return
        self._sessions.revoke(
            session.tenant_id,
            "replaced" if replaced else "sign_out",
            now_micros(),
            session_id=session.id,
        )

    def revoke_viewer_session(self, principal: Principal, session_id: str) -> bool:
        """The host product ends one session of its tenant (``viewer:mint``).

        True when it was live; False when it had already ended. ``NotFound`` when
        the tenant has no such session (another tenant's answers the same).
        """
        principal.require("viewer:mint")
        self._meter(principal, "read", 1)
        tenant_id = principal.tenant_id
        if self._sessions.revoke(tenant_id, "host", now_micros(), session_id=session_id):
            return True
        if self._store.get_viewer_session(tenant_id, session_id) is None:
            raise NotFound(f"no viewer session {session_id!r}")
        return False

    def revoke_user_viewer_sessions(self, principal: Principal, user_id: str) -> int:
        """The host product ends every live session of one of its users; how many."""
        principal.require("viewer:mint")
        self._meter(principal, "read", 1)
        if not user_id:
            raise InvalidInput("name the user whose sessions to revoke")
        return self._sessions.revoke(principal.tenant_id, "host", now_micros(), user_id=user_id)

    def viewer_sessions(
        self, tenant_id: str, *, user_id: str | None = None, live: bool = False
    ) -> list[ViewerSession]:
        """The operator's view of a tenant's sessions, newest first."""
        self.tenant(tenant_id)
        return self._sessions.list(tenant_id, now_micros(), user_id=user_id, live=live)

    def revoke_viewer_sessions(
        self, tenant_id: str, *, session_id: str | None = None, user_id: str | None = None
    ) -> int:
        """The operator ends a tenant's session, or all of one user's; how many."""
        self.tenant(tenant_id)
        if (session_id is None) == (user_id is None):
            raise InvalidInput("name one session id or one user id")
        revoked = self._sessions.revoke(
            tenant_id, "operator", now_micros(), session_id=session_id, user_id=user_id
        )
        if (
            session_id is not None
            and not revoked
            and self._store.get_viewer_session(tenant_id, session_id) is None
        ):
            raise NotFound(f"no viewer session {session_id!r} in tenant {tenant_id!r}")
        return revoked

    def frame_ancestors(self, tenant_id: str) -> tuple[str, ...]:
        """The origins that may frame the tenant's viewer, beside its own."""
        return self.tenant(tenant_id).frame_ancestors

    def set_frame_ancestors(self, tenant_id: str, origins: str | Sequence[str]) -> Tenant:
        """Replace the origins that may frame the tenant's viewer (none: only its own)."""
        self.tenant(tenant_id)
        self._store.set_frame_ancestors(tenant_id, parse_frame_ancestors(origins))
        self._tenants.pop(tenant_id, None)
        return self.tenant(tenant_id)

    # -- the catalog --------------------------------------------------------------
    def catalog(self, principal: Principal) -> Catalog:
        """The built-in catalog plus the tenant's own types (any credential of the tenant
        that may do anything: a member's session, which may read nothing, is refused)."""
        principal.require_some_scope()
        self._meter(principal, "read", 1)
        return self._tenant_catalog(principal.tenant_id)

    def _tenant_catalog(self, tenant_id: str) -> Catalog:
        """Cached briefly: another API process may register a type, and this one
        picks it up within ``CATALOG_TTL`` seconds."""
        now = time.monotonic()
        cached = self._tenant_catalogs.get(tenant_id)
        if cached is None or now - cached[0] > CATALOG_TTL:
            found = self._catalog.with_types(self._store.tenant_event_types(tenant_id))
            cached = (now, found)
            self._tenant_catalogs[tenant_id] = cached
        return cached[1]

    def register_event_type(
        self, principal: Principal, event_type: EventType | object
    ) -> tuple[EventTypeVersion, bool]:
        """Register a version of one of the tenant's own types (an ``EventType`` or its
        JSON body); True when the version is new.

        A type's category and kind are fixed by its first registration (or by the
        built-in catalog): the events recorded under it carry them, so another
        category or kind raises ``ClassificationFixed``. Registering the same type
        again changes nothing; another description or target/resource expectation
        is a new version. Every new version is recorded in the tenant's own log as
        ``audit_log.event_type_registered``, so the catalog's history is signed.
        """
        principal.require("events:write")
        self._meter(principal, "write", 1)
        if not isinstance(event_type, EventType):
            event_type = event_type_from_body(event_type)
        tenant_id = principal.tenant_id
        self.tenant(tenant_id)
        self._catalog.with_types([event_type])  # validates, raising InvalidInput
        wanted = replace(event_type, builtin=False)
        for _ in range(3):  # another process may register the same name at the same time
            history = [
                v
                for v in self._store.event_type_versions(tenant_id)
                if v.event_type.name == wanted.name
            ]
            current = history[-1] if history else None
            fixed = current.event_type if current else self._catalog.lookup(wanted.name)
            if fixed is not None and (fixed.category, fixed.kind) != (wanted.category, wanted.kind):
                raise ClassificationFixed(
                    f"{wanted.name} is already {fixed.category}/{fixed.kind}"
                    f"{'' if current else ' (built in)'}: the events recorded under it carry "
                    "that category and kind, so they cannot change; register a new action name"
                )
            if current is not None and current.event_type == wanted:
                return current, False
            version = EventTypeVersion(wanted, current.version + 1 if current else 1, now_micros())
            try:
                self._store.add_event_type_version(tenant_id, version)
            except Conflict:
                continue
            break
        else:
            raise Conflict(f"{wanted.name} is being registered by someone else: try again")
        self._tenant_catalogs.pop(tenant_id, None)
        self._append(
            tenant_id,
            [
                EventInput(
                    action="audit_log.event_type_registered",
                    actor=principal.actor,
                    resource=Resource("event_type", wanted.name),
                    context={**wanted.to_dict(), "version": version.version},
                    account_id=None,
                )
            ],
        )
        return version, True

    # -- recording -------------------------------------------------------------------
    def ingest(self, principal: Principal, body: object) -> list[Receipt]:
        """Validate and store one event or a ``{"events": [...]}`` batch, all or nothing."""
        return self.append(principal, validate_batch(body))

    def record(self, *, tenant: str | None = None, **fields: Unpack[RecordFields]) -> str:
        """Record one event in-process, with ``sealtrail.Client.record``'s fields
        (``sealtrail.recording.RecordFields``).

        The tenant comes from ``tenant`` or the surrounding ``sealtrail.context``.
        Unlike the HTTP client this waits for the event to be stored. Returns its id.
        """
        scoped_tenant, payload = build_event(**fields)
        tenant_id = tenant or scoped_tenant
        if tenant_id is None:
            raise InvalidInput(
                "name the tenant: record(..., tenant=...) or sealtrail.context(tenant=...)"
            )
        return self.append(Principal.operator(tenant_id), validate_batch(payload))[0].id

    def append(self, principal: Principal, inputs: Sequence[EventInput]) -> list[Receipt]:
        """Store already-validated events in the principal's tenant (idempotent on ``id``).

        ``audit_log.events_pruned`` is refused: only Sealtrail's own pruning records it,
        since verification reads the pruned range from it."""
        principal.require("events:write")
        self._meter(principal, "write", len(inputs))
        reserved = [
            FieldError("action", f"{PRUNED_ACTION} is recorded by Sealtrail itself", i)
            for i, e in enumerate(inputs)
            if e.action == PRUNED_ACTION
        ]
        if reserved:
            raise InvalidEvent("an event of this batch may not be recorded by a client", reserved)
        return self._append(principal.tenant_id, inputs)

    def _append(self, tenant_id: str, inputs: Sequence[EventInput]) -> list[Receipt]:
        _, tenant, masker = self._tenant_entry(tenant_id)
        catalog = self._tenant_catalog(tenant_id)
        if tenant.strict:
            unknown = [
                FieldError("action", f"{e.action} is not a registered event type", i)
                for i, e in enumerate(inputs)
                if not catalog.is_known(e.action)
            ]
            if unknown:
                raise InvalidEvent("this tenant accepts only registered event types", unknown)
        received = now_micros()
        self._check_clock(inputs, received)
        # One draw of randomness per batch; each personal field gets 16 bytes of it.
        pool = os.urandom(SALT_SIZE * len(PERSONAL_FIELDS) * len(inputs))
        pending: list[Event] = []
        templates: dict[str, LeafTemplate] = {}
        for index, raw in enumerate(inputs):
            if raw.context is not None:  # secrets are masked before anything is hashed
                masked = masker.mask(raw.context)
                if masked is not raw.context:
                    raw = replace(raw, context=masked)
            event = self._prepare(tenant_id, raw, catalog, received, pool, index)
            pending.append(event)
            # The leaf's costly part, done before the store takes the tenant's write lock.
            if event.id not in templates:
                templates[event.id] = LeafTemplate.of_event(event)
        receipts = self._store.append(tenant_id, pending, functools.partial(_seal, templates))
        for listener in self._append_listeners:
            listener(tenant_id)
        return receipts

    def _check_clock(self, inputs: Sequence[EventInput], received: int) -> None:
        """Refuse events said to occur beyond ``max_clock_skew`` ahead of our clock."""
        skew = self._settings.max_clock_skew
        latest = received + skew * 1_000_000
        late = [
            FieldError(
                "occurred_at",
                f"must not lie more than {skew} s ahead of the server's clock"
                f" (now {format_timestamp(received)})",
                i,
            )
            for i, e in enumerate(inputs)
            if e.occurred_at is not None and e.occurred_at > latest
        ]
        if late:
            raise InvalidEvent(
                f"{len(late)} of {len(inputs)} events are invalid; none were stored", late
            )

    @staticmethod
    def _prepare(
        tenant_id: str, raw: EventInput, catalog: Catalog, received: int, pool: bytes, index: int
    ) -> Event:
        """The event as it will be stored, all but its seq."""
        event_type = catalog.classify(raw.action)
        actor, target, resource = raw.actor, raw.target, raw.resource
        description = raw.description
        if description is None:
            description = catalog.describe(
                raw.action,
                actor="System"
                if actor.type == "system"
                else _display(actor.name, actor.email, actor.id),
                target=None if target is None else _display(target.name, target.email, target.id),
                resource=None if resource is None else (resource.name or resource.id),
                resource_type=None if resource is None else resource.type,
                resource_id=None if resource is None else resource.id,
            )
            if raw.outcome == "failure":
                description = f"Failed: {description}"
        values = (
            actor.name,
            actor.email,
            None if target is None else target.name,
            None if target is None else target.email,
            description,
            raw.context,
            raw.ip,
            raw.user_agent,
        )
        offset = index * len(PERSONAL_FIELDS) * SALT_SIZE
        salts = {
            path: pool[offset + i * SALT_SIZE : offset + (i + 1) * SALT_SIZE]
            for i, (path, value) in enumerate(zip(PERSONAL_FIELDS, values, strict=True))
            if value is not None
        }
        return Event(
            tenant_id=tenant_id,
            seq=-1,
            id=raw.id or str(uuid7()),
            action=raw.action,
            category=event_type.category,
            kind=event_type.kind,
            occurred_at=raw.occurred_at if raw.occurred_at is not None else received,
            received_at=received,
            outcome=raw.outcome,
            actor=actor,
            target=target,
            resource=resource,
            account_id=raw.account_id,
            description=description,
            context=raw.context,
            ip=raw.ip,
            user_agent=raw.user_agent,
            request_id=raw.request_id,
            salts=salts,
        )

    def _record_access(
        self,
        principal: Principal,
        action: Literal["audit_log.viewed", "audit_log.exported"],
        context: Mapping[str, Any],
        ip: str | None,
    ) -> None:
        """A viewer's search or view, or anyone's export, in the tenant's own log (SPEC §5)."""
        event = EventInput(
            action=action,
            actor=principal.actor,
            resource=Resource("audit_log", principal.tenant_id),
            context=dict(context),
            ip=ip,
            account_id=None,
        )
        self._append(principal.tenant_id, [event])

    def _record_view(
        self, principal: Principal, subject: str, context: Mapping[str, Any], ip: str | None
    ) -> None:
        """A viewer's look, recorded once per session and ``subject`` within the window."""
        key = (principal.tenant_id, principal.actor.id, principal.session, subject)
        if not self._recent_views.first_in_window(key, now_micros()):
            return
        try:
            self._record_access(principal, "audit_log.viewed", context, ip)
        except BaseException:
            self._recent_views.forget(key)
            raise

    # -- reading -------------------------------------------------------------------------
    def search(
        self,
        principal: Principal,
        query: EventQuery,
        page: Page,
        *,
        with_total: bool = True,
        ip: str | None = None,
    ) -> SearchPage:
        """One page of the principal's events; a viewer's search is itself recorded."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        result = self._store.search(
            principal.tenant_id, principal.scoped(query), page, with_total=with_total
        )
        if principal.kind == "viewer":
            phrase = format_phrase(query)
            self._record_view(
                principal,
                f"search {phrase}",
                {"phrase": phrase, "offset": page.offset, "results": len(result.events)},
                ip,
            )
        next_cursor = (
            _cursor_after(result.events[-1], query.order)
            if result.has_more and result.events
            else None
        )
        return SearchPage(result.events, result.total, result.has_more, next_cursor)

    def tail(
        self,
        principal: Principal,
        query: EventQuery,
        after_seq: int | None = None,
        *,
        limit: int = TAIL_BATCH,
    ) -> Tail:
        """The live tail: events recorded after ``after_seq`` that the query selects.

        Reads the next ``limit`` seqs of the tenant's log (only below the tree size,
        so every seq read is committed and none can appear behind it later) and keeps
        those the principal may see and the query selects. ``after_seq=None`` starts
        at the end of the log: only what is recorded from now on. A caller resumes
        with ``Tail.last_seq``, which moves past the seqs read even when none matched.
        Opening a tail is a search: the caller records it once with ``record_tail``.
        """
        principal.require("events:read")
        tenant_id = principal.tenant_id
        size = self._store.tree_head(tenant_id).size
        if after_seq is None or after_seq >= size:
            return Tail((), size - 1 if after_seq is None else after_seq, caught_up=True)
        start = max(after_seq + 1, 0)
        stop = min(size, start + limit)
        scoped = principal.scoped(query)
        events = tuple(
            e
            for e in self._store.get_events_by_seq(tenant_id, range(start, stop))
            if principal.may_see(e) and matches(scoped, e)
        )
        return Tail(events, stop - 1, caught_up=stop == size)

    def record_tail(
        self, principal: Principal, query: EventQuery, *, ip: str | None = None
    ) -> None:
        """A viewer watching the live tail is recorded as one search of those filters."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        if principal.kind == "viewer":
            phrase = format_phrase(query)
            self._record_view(principal, f"live {phrase}", {"phrase": phrase, "live": True}, ip)

    def browse(
        self,
        principal: Principal,
        query: EventQuery,
        limit: int,
        *,
        after: str | None = None,
        before: str | None = None,
        ip: str | None = None,
    ) -> Browse:
        """One page newest first, paging either way (the viewer's list).

        ``after`` (parameter ``cursor``) pages towards older rows; ``before``
        towards newer ones, by reading ascending from that row. When the rows
        newer than ``before`` fit on one page, the first page is shown instead, so
        paging back always ends on a full page.
        """
        older_from = _decode_cursor(after, "cursor")
        newer_from = _decode_cursor(before, "before")
        if newer_from is not None:
            newer = EventQuery(
                query.terms, query.time.intersect(TimeRange(since=newer_from.occurred_at)), "desc"
            )
            count = self.count(principal, newer, cap=limit)
            if count is not None and count <= limit:
                newer_from = None
        if newer_from is not None:
            ascending = EventQuery(query.terms, query.time, "asc")
            start = Cursor(newer_from.occurred_at_us, newer_from.seq, "asc")
            found = self.search(principal, ascending, Page(limit, cursor=start), ip=ip)
            events = list(reversed(found.events))
            has_newer, has_older = found.has_more, True
            total = found.total
        else:
            found = self.search(principal, query, Page(limit, cursor=older_from), ip=ip)
            events = found.events
            has_newer, has_older = older_from is not None, found.has_more
            total = found.total
        return Browse(
            events,
            total,
            newer_cursor=_cursor_after(events[0], "desc") if events and has_newer else None,
            older_cursor=_cursor_after(events[-1], "desc") if events and has_older else None,
        )

    # -- saved searches (issue 15; the rules: sealtrail.saved_searches) ----------------------
    def saved_searches(self, principal: Principal) -> list[SavedSearch]:
        """The tenant's shared searches and, for a viewer, the viewer's private ones, by name."""
        saved.check_user(principal)
        self._meter(principal, "read", 1)
        owner = principal.actor.id if principal.kind == "viewer" else None
        return self._store.saved_searches(principal.tenant_id, owner)

    def saved_search(self, principal: Principal, search_id: str) -> SavedSearch:
        """One saved search the principal sees; ``NotFound`` for any other id."""
        saved.check_user(principal)
        self._meter(principal, "read", 1)
        found = self._store.get_saved_search(principal.tenant_id, search_id)
        if found is None or not saved.visible_to(principal, found):
            raise NotFound(f"no saved search {search_id!r}")
        return found

    def saved_search_named(self, principal: Principal, name: str) -> SavedSearch:
        """The saved search of that name the principal sees (a viewer's own private one
        before a shared one); ``NotFound`` naming the ones there are."""
        found = self.saved_searches(principal)
        for search in sorted(found, key=lambda s: s.shared):
            if search.name == name.strip():
                return search
        there = ", ".join(repr(s.name) for s in found) or "none"
        raise NotFound(f"no saved search named {name.strip()!r} (there are: {there})")

    def save_search(
        self, principal: Principal, wanted: SavedSearchRequest | object, *, ip: str | None = None
    ) -> SavedSearch:
        """Keep a search phrase under a name, shared with the tenant's admins or private
        (``wanted``: a ``SavedSearchRequest`` or its JSON body); recorded in the tenant's
        log as ``audit_log.saved_search_created``."""
        saved.check_user(principal)
        self._meter(principal, "read", 1)
        if not isinstance(wanted, SavedSearchRequest):
            wanted = SavedSearchRequest.from_body(wanted)
        tenant_id = principal.tenant_id
        self.tenant(tenant_id)
        if self._store.count_saved_searches(tenant_id) >= saved.MAX_SAVED_SEARCHES:
            raise Conflict(
                f"{tenant_id} keeps {saved.MAX_SAVED_SEARCHES} saved searches, the most it may:"
                " delete one first"
            )
        search = SavedSearch(
            id=f"ss_{uuid7().hex}",
            tenant_id=tenant_id,
            name=wanted.name,
            phrase=wanted.phrase,
            owner=saved.owner_of(principal, wanted.shared),
            created_by=json.dumps(principal.actor.to_dict()),
            created_at=now_micros(),
        )
        self._store.add_saved_search(search)
        self._record_saved_search(principal, "audit_log.saved_search_created", search, ip)
        return search

    def delete_saved_search(
        self, principal: Principal, search_id: str, *, ip: str | None = None
    ) -> SavedSearch:
        """Forget a saved search the principal sees; recorded as
        ``audit_log.saved_search_deleted``. ``NotFound`` for any other id."""
        search = self.saved_search(principal, search_id)
        if not self._store.delete_saved_search(principal.tenant_id, search.id):
            raise NotFound(f"no saved search {search_id!r}")
        self._record_saved_search(principal, "audit_log.saved_search_deleted", search, ip)
        return search

    def _record_saved_search(
        self, principal: Principal, action: str, search: SavedSearch, ip: str | None
    ) -> None:
        event = EventInput(
            action=action,
            actor=principal.actor,
            resource=Resource("saved_search", search.id, search.name),
            context={"name": search.name, "phrase": search.phrase, "shared": search.shared},
            ip=ip,
            account_id=None,
        )
        self._append(principal.tenant_id, [event])

    def count(self, principal: Principal, query: EventQuery, cap: int | None = None) -> int | None:
        principal.require("events:read")
        self._meter(principal, "read", 1)
        return self._store.count(principal.tenant_id, principal.scoped(query), cap)

    # -- the timeline (issue 15) ----------------------------------------------------------
    def histogram(
        self,
        principal: Principal,
        query: EventQuery,
        buckets: int = DEFAULT_BUCKETS,
        *,
        as_of: datetime | None = None,
        ip: str | None = None,
    ) -> Histogram:
        """How many of the principal's matching events fell in each bucket, by kind.

        The range is the query's, ending at ``as_of`` at the latest (a page
        counts what its listing found, not the view recorded since); an open
        ``until`` ends now (or just after the latest match, if that lies ahead),
        an open ``since`` starts at the oldest match (``timeline.EMPTY_SPAN``
        before ``until`` when nothing matches). Account restrictions apply as in
        ``search``, and a viewer's look is recorded as its search of the same
        filters is (once within the window).
        """
        principal.require("events:read")
        self._meter(principal, "read", 1)
        counted = query
        if as_of is not None:
            counted = replace(query, time=query.time.intersect(TimeRange(until=as_of)))
        scoped = principal.scoped(counted)
        tenant_id = principal.tenant_id
        since, until = timeline.open_ends(
            counted.time.since_us,
            counted.time.until_us,
            now_micros(),
            lambda order: self._edge_match(tenant_id, scoped, order),
        )
        grid = timeline.Grid.over(since, until, buckets)
        found = timeline.Histogram.of(grid, self._store.histogram(tenant_id, scoped, grid))
        if principal.kind == "viewer":
            phrase = format_phrase(query)
            context = {"phrase": phrase, "offset": 0, "results": found.total}
            self._record_view(principal, f"search {phrase}", context, ip)
        return found

    def _edge_match(
        self, tenant_id: str, query: EventQuery, order: Literal["asc", "desc"]
    ) -> int | None:
        """The time of the oldest (``asc``) or newest (``desc``) match, or None."""
        found = self._store.search(
            tenant_id, replace(query, order=order), Page(1), with_total=False
        )
        return found.events[0].occurred_at if found.events else None

    def get_event(self, principal: Principal, event_id: str) -> Event:
        """One event the principal may see, not recorded as a view (see ``view_event``)."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        event = self._store.get_event(principal.tenant_id, event_id)
        if event is None or not principal.may_see(event):
            raise NotFound(f"no event {event_id!r}")
        return event

    def view_event(self, principal: Principal, event_id: str, *, ip: str | None = None) -> Event:
        """One event, shown to someone: a viewer's look at it is recorded."""
        event = self.get_event(principal, event_id)
        if principal.kind == "viewer":
            self._record_view(
                principal, f"event {event.id}", {"event_id": event.id, "results": 1}, ip
            )
        return event

    def event_with_proof(
        self,
        principal: Principal,
        event_id: str,
        *,
        include_salts: bool = False,
        ip: str | None = None,
    ) -> dict[str, Any]:
        """The event's JSON object with its inclusion proof against the latest checkpoint."""
        event = self.view_event(principal, event_id, ip=ip)
        body = event.to_dict(include_salts=include_salts)
        checkpoint = self._checkpoint(principal.tenant_id)
        body["proof"] = self._inclusion_body(principal.tenant_id, event.seq, checkpoint)
        return body

    def proof_file(self, principal: Principal, event_id: str) -> str:
        """The event's C2SP tlog-proof against the latest (cosigned) checkpoint; its
        ``extra`` is the event's leaf bytes, so no Sealtrail code is needed to check it."""
        event = self.get_event(principal, event_id)
        checkpoint = self._checkpoint(principal.tenant_id)
        if event.seq >= checkpoint.tree_size:
            raise NotFound(f"event {event_id!r} is not in the signed tree yet")
        body = event.to_dict()
        leaf_bytes = leaf.leaf_bytes(body, event.salts, body.get("commitments"))
        reader = _NodeReader(self._store, principal.tenant_id)
        if hash_leaf(leaf_bytes) != reader.nodes([(0, event.seq)])[0]:
            raise InconsistentTree(
                f"event {event_id!r} (seq {event.seq}) no longer hashes to its stored leaf"
            )
        path = tree.inclusion_proof_from_nodes(reader, event.seq, checkpoint.tree_size)
        return tlog_proof(event.seq, path, checkpoint.note, extra=leaf_bytes)

    def verify_events(
        self, principal: Principal, events: Sequence[Event]
    ) -> dict[str, inclusion.Verification]:
        """The "verified ✓" mark of each event, by id: its leaf recomputed from what is
        shown, proven into the latest checkpoint, the checkpoint's signature checked.

        Not recorded: the events were recorded as viewed when they were shown.
        """
        principal.require("events:read")
        visible = [e for e in events if principal.may_see(e)]
        if not visible:
            return {}
        tenant_id = principal.tenant_id
        try:
            stored = self._checkpoint(tenant_id)
            signed = self.signer().open(stored.note, origin_for_tenant(tenant_id))
        except LedgerError as exc:
            failed = inclusion.unsigned(exc.message)
            return {e.id: failed for e in visible}

        def prove(seq: int, size: int) -> dict[str, Any]:
            return self._inclusion_body(tenant_id, seq, stored, size)

        return {e.id: inclusion.check(e, signed, prove) for e in visible}

    # -- detections and alerts (issue 18; logic in sealtrail.detections) ----------------
    @functools.cached_property
    def _detections(self) -> Detections:
        return Detections(self._store)

    def detection_rules(self, principal: Principal) -> list[Rule]:
        """The tenant's rules: the built-in ones (as tuned) and its own."""
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.rules(principal.tenant_id)

    def detection_rule(self, principal: Principal, name: str) -> Rule:
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.rule(principal.tenant_id, name)

    def add_detection(self, principal: Principal, body: object) -> Rule:
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.add(principal.tenant_id, body)

    def update_detection(self, principal: Principal, name: str, body: object) -> Rule:
        """Change a rule's fields (a built-in one is tuned; its name stays)."""
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.update(principal.tenant_id, name, body)

    def remove_detection(self, principal: Principal, name: str) -> Rule | None:
        """Delete a rule of the tenant's own, or put a built-in one back to its defaults."""
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.remove(principal.tenant_id, name)

    def detection_settings(self, principal: Principal) -> DetectionSettings:
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.settings(principal.tenant_id)

    def set_detection_settings(self, principal: Principal, body: object) -> DetectionSettings:
        principal.require("detections:manage")
        self._meter(principal, "read", 1)
        return self._detections.set_settings(principal.tenant_id, body)

    def test_detection(
        self, principal: Principal, rule: str | Mapping[str, Any], since: int
    ) -> list[ReplayAlert]:
        """What a rule (a name, or a rule's JSON not yet saved) would have opened over the
        events since ``since`` (µs), replayed oldest first with empty state. Stores nothing."""
        principal.require("detections:manage")
        principal.require("events:read")
        self._meter(principal, "read", ratelimit.REPLAY_COST)
        tenant_id = principal.tenant_id
        if isinstance(rule, str):
            chosen = replace(self._detections.rule(tenant_id, rule), enabled=True)
        else:
            chosen = replace(rule_from_body(rule), enabled=True)
        query = EventQuery(time=TimeRange(since=from_micros(since)), order="asc")
        chunks = self._store.stream(tenant_id, principal.scoped(query))
        return list(self._detections.replay(tenant_id, [chosen], _capped(chunks)))

    def alerts(
        self,
        principal: Principal,
        *,
        status: str | None = None,
        limit: int = DEFAULT_PAGE,
        before: str | None = None,
    ) -> list[AlertRecord]:
        """Alerts newest first; ``before`` an alert id to page on from. A principal
        limited to some accounts sees only the alerts whose every event is in them
        (``_visible_alert``)."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        if status is not None and status not in ALERT_STATUSES:
            raise InvalidQuery(f"status must be one of {', '.join(ALERT_STATUSES)}", "status")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidQuery(f"limit must be between 1 and {MAX_PAGE}", "limit")
        key = None
        if before is not None:
            after = self._visible_alert(principal, before)
            key = (after.opened_at, after.id)
        return self._store.list_alerts(
            principal.tenant_id,
            status=status,
            limit=limit,
            before=key,
            accounts=principal.accounts,
        )

    def alert(self, principal: Principal, alert_id: str) -> AlertRecord:
        principal.require("events:read")
        self._meter(principal, "read", 1)
        return self._visible_alert(principal, alert_id)

    def _visible_alert(self, principal: Principal, alert_id: str) -> AlertRecord:
        """The alert if this principal may see it, else NotFound (as if there were none).

        Alerts are the tenant's; a principal limited to some accounts sees an alert only
        when every event it counted is listed and in those accounts — all, not any, so
        that its event ids, summary, group and count say nothing about another account.
        An alert also counting events of no account, of another account, or more events
        than it lists (MAX_ALERT_EVENTS) stays with the tenant-wide admins.
        """
        # No alert id holds a NUL (PostgreSQL's text cannot): answer as for any unknown id
        # instead of sending it (found by fuzzing: ?before=%00 was a 500 on PostgreSQL).
        found = (
            None
            if "\x00" in alert_id
            else self._store.get_alert(principal.tenant_id, alert_id, principal.accounts)
        )
        if found is None:
            raise NotFound(f"no alert {alert_id!r}")
        return found

    def acknowledge_alert(
        self, principal: Principal, alert_id: str, *, ip: str | None = None
    ) -> AlertRecord:
        """Mark an alert seen (``detections:manage``, or a tenant admin's viewer session:
        ``Principal.may_handle_alerts``), recorded as audit_log.alert_acknowledged."""
        return self._alert_status(principal, alert_id, "acknowledged", ip)

    def resolve_alert(
        self, principal: Principal, alert_id: str, *, ip: str | None = None
    ) -> AlertRecord:
        """Close an alert (as ``acknowledge_alert``), recorded as audit_log.alert_resolved."""
        return self._alert_status(principal, alert_id, "resolved", ip)

    def _alert_status(
        self,
        principal: Principal,
        alert_id: str,
        status: Literal["acknowledged", "resolved"],
        ip: str | None,
    ) -> AlertRecord:
        principal.require_alert_handling()
        self._meter(principal, "read", 1)
        tenant_id = principal.tenant_id
        alert = self._visible_alert(principal, alert_id)
        if alert.status == status or alert.status == "resolved":
            return alert
        actor = principal.actor
        by = actor.email or actor.name or actor.id
        changed = self._store.set_alert_status(tenant_id, alert_id, status, by, now_micros())
        assert changed is not None
        action = (
            "audit_log.alert_acknowledged"
            if status == "acknowledged"
            else "audit_log.alert_resolved"
        )
        self._append(
            tenant_id,
            [
                EventInput(
                    action=action,
                    actor=actor,
                    resource=Resource("alert", alert_id, alert.title),
                    context={"rule": alert.rule, "severity": alert.severity},
                    account_id=None,
                    ip=ip,
                )
            ],
        )
        return changed

    def alert_marks(self, principal: Principal, events: Sequence[Event]) -> dict[str, list[str]]:
        """The alerts that name each of these events, by event id (the viewer's marks)."""
        principal.require("events:read")
        if not events:
            return {}
        seqs = [e.seq for e in events]
        found = self._store.alerts_for_seqs(principal.tenant_id, seqs, principal.accounts)
        return {e.id: found[e.seq] for e in events if e.seq in found}

    def detection_consumers(self) -> list[tuple[str, str, Consumer]]:
        """Every tenant's detection consumer, for a runner of log followers to follow:
        (tenant, consumer name, consumer). Each one's cursor is created at the tenant's
        first stored event (seq 0 unless a prefix was pruned), so its history is
        evaluated once, then its new events as they arrive."""
        out: list[tuple[str, str, Consumer]] = []
        existing = {(c.tenant_id, c.name) for c in self._store.list_consumers()}
        for tenant in self._store.list_tenants():
            consumer = DetectionConsumer(
                self._store,
                tenant.id,
                rules=self._detections.effective,
                publish=self._publish_alerts,
            )
            if (tenant.id, consumer.name) not in existing:
                # From the first event still stored: a pruned prefix is not there to read.
                prunes = self._store.prunes(tenant.id)
                start = max((p.below for p in prunes), default=0)
                self._store.add_consumer(tenant.id, consumer.name, start, now_micros())
            out.append((tenant.id, consumer.name, consumer))
        return out

    def detection_plans(self) -> list[ConsumerPlan]:
        """``detection_consumers`` as the server's follower pool runs them
        (``sealtrail.server.background``)."""
        options = {"batch_size": DETECTION_BATCH, "pace": DETECTION_PACE}
        return [
            ConsumerPlan(
                tenant_id, name, "detections", functools.partial(_built, consumer), options
            )
            for tenant_id, name, consumer in self.detection_consumers()
        ]

    def _publish_alerts(self, tenant_id: str, alerts: Sequence[AlertRecord]) -> None:
        """Each opened alert as audit_log.alert_opened in the tenant's log (streams carry
        it); the event id comes from the alert's, so recording it again stores nothing."""
        self._append(
            tenant_id,
            [
                EventInput(
                    action="audit_log.alert_opened",
                    actor=DETECTIONS_ACTOR,
                    id=f"alert-{alert.id}",
                    occurred_at=alert.opened_at,
                    resource=Resource("alert", alert.id, alert.title),
                    context={
                        "rule": alert.rule,
                        "severity": alert.severity,
                        "summary": alert_dict(alert)["summary"],
                        "event_ids": list(alert.event_ids),
                    },
                    account_id=None,
                )
                for alert in alerts
            ],
        )

    def stream(self, principal: Principal, query: EventQuery) -> Iterator[list[Event]]:
        """Every matching event, in chunks, oldest first or as the query orders."""
        principal.require("events:read")
        return self._store.stream(principal.tenant_id, principal.scoped(query))

    def export(
        self,
        principal: Principal,
        query: EventQuery,
        fmt: ExportFormat,
        *,
        ip: str | None = None,
    ) -> Export:
        """Every matching event as CSV, NDJSON or a verifiable bundle, streamed.

        The export is recorded in the tenant's log before the first byte is
        written, whoever asks (SPEC §5).
        """
        principal.require("events:read")
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput(f"unknown export format {fmt!r}")
        self._meter(principal, "read", ratelimit.export_cost(fmt))
        media_type, suffix = _EXPORT_MEDIA_TYPES[fmt]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        filename = f"sealtrail-{principal.tenant_id}-{stamp}.{suffix}"
        self._record_access(
            principal, "audit_log.exported", {"format": fmt, "phrase": format_phrase(query)}, ip
        )
        chunks: Iterator[bytes]
        if fmt == "bundle":
            whole_log = principal.sees_whole_tenant and query.selects_everything
            chunks = bundle.write(
                self._store,
                self._checkpoint(principal.tenant_id),
                self.verifier_key,
                query,
                None if whole_log else self.stream(principal, query),
            )
        else:  # written by the store from its columns, no Event object per row
            body = self._store.export_body(principal.tenant_id, principal.scoped(query), fmt)
            chunks = itertools.chain([export.csv_header()], body) if fmt == "csv" else body
        return Export(media_type, filename, chunks)

    # -- erasure (GDPR Art. 17) ---------------------------------------------------------------
    def erase(
        self, principal: Principal, subject: Subject, reason: str, *, dry_run: bool = False
    ) -> Erasure:
        """Request the erasure of a data subject's personal fields in the principal's tenant.

        Needs ``events:erase`` and the whole tenant. A dry run only counts. Otherwise
        an erasure job is created (or the unfinished one for the same subject is
        taken up again) and returned running; ``run_erasure`` does the work. When
        nothing of the subject is left, the job is done at once and nothing is
        recorded: a second erasure is a no-op.
        """
        principal.require("events:erase")
        self._meter(principal, "write", 1)
        if not principal.sees_whole_tenant:
            raise PermissionDenied("only a credential for the whole tenant may erase")
        tenant_id = principal.tenant_id
        self.tenant(tenant_id)
        reason = check_reason(reason, subject)
        if dry_run:
            matched = self._store.count_subject_events(tenant_id, subject)
            return Erasure(None, "dry_run", matched)
        for job in self._store.unfinished_erasures(tenant_id):
            if (job.subject_kind, job.subject) == (subject.kind, subject.value):
                return Erasure.of(job)
        now = now_micros()
        record = ErasureRecord(
            id=f"er_{uuid7().hex}",
            tenant_id=tenant_id,
            subject_kind=subject.kind,
            subject=subject.value,
            reason=reason,
            requested_by=json.dumps(principal.actor.to_dict()),
            status="running",
            events_matched=self._store.count_subject_events(tenant_id, subject),
            created_at=now,
        )
        self._store.add_erasure(record)
        if record.events_matched == 0:
            self._store.finish_erasure(tenant_id, record.id, now)
            return Erasure.of(replace(record, status="done", subject=None, finished_at=now))
        return Erasure.of(record)

    def erasure(self, principal: Principal, erasure_id: str) -> Erasure:
        """An erasure of the principal's tenant, by id."""
        principal.require("events:erase")
        self._meter(principal, "read", 1)
        found = self._store.get_erasure(principal.tenant_id, erasure_id)
        if found is None:
            raise NotFound(f"no erasure {erasure_id!r}")
        return Erasure.of(found)

    def run_erasure(
        self, tenant_id: str, erasure_id: str, *, progress: Callable[[int], None] | None = None
    ) -> Erasure:
        """Do (or finish) an erasure job, ``ERASE_BATCH`` events per transaction.

        Resumable: progress is kept per batch, and fields already cleared are
        skipped, so after a crash running it again goes on where it stopped. A job
        another process holds the lease of is left alone. At the end the erasure is
        recorded as ``audit_log.subject_erased`` (who, why, how many — never the
        value), the subject's value is forgotten, and the engine is asked to drop
        what it still keeps of the cleared values (``EventStore.purge_erased``).
        """
        job = self._store.get_erasure(tenant_id, erasure_id)
        if job is None:
            raise NotFound(f"no erasure {erasure_id!r}")
        if job.status == "done" or job.subject is None:
            return Erasure.of(job)
        if not self._store.claim_erasure(
            tenant_id, job.id, now_micros(), now_micros() + ERASURE_LEASE_US
        ):
            return Erasure.of(job)
        subject = Subject.named(job.subject_kind, job.subject)
        last_seq, erased = job.last_seq, job.events_erased
        changed: list[int] = []
        while found := self._store.subject_events(
            tenant_id, subject, after_seq=last_seq, limit=ERASE_BATCH
        ):
            changes = [FieldErasure(e.seq, plan(e, subject)) for e in found]
            erased += self._store.erase_fields(tenant_id, changes)
            changed += [c.seq for c in changes if c.commitments]
            last_seq = found[-1].seq
            self._store.erasure_progress(
                tenant_id, job.id, last_seq, erased, now_micros() + ERASURE_LEASE_US
            )
            if progress is not None:
                progress(len(found))
        if erased:
            self._record_erasure(job, subject, erased)
        finished = now_micros()
        self._store.finish_erasure(tenant_id, job.id, finished)
        purged = self._store.purge_erased(tenant_id, changed)
        done = replace(job, status="done", subject=None, events_erased=erased, finished_at=finished)
        return Erasure.of(done, purged)

    def _record_erasure(self, job: ErasureRecord, subject: Subject, erased: int) -> None:
        requested_by = json.loads(job.requested_by)
        target = (
            Target("user", subject.value)
            if subject.kind != "email"
            else Target("data_subject", job.id)
        )
        event = EventInput(
            action="audit_log.subject_erased",
            actor=Actor(**requested_by),
            target=target,
            resource=Resource("audit_log", job.tenant_id),
            context={
                "erasure_id": job.id,
                "reason": job.reason,
                "subject": job.subject_kind,
                "events_erased": erased,
            },
        )
        self._append(job.tenant_id, [event])

    def resume_erasures(self) -> list[Erasure]:
        """Run every unfinished erasure job no live process holds (a server at start)."""
        return [self.run_erasure(j.tenant_id, j.id) for j in self._store.unfinished_erasures()]

    # -- retention, legal holds and pruning (issue 13) ---------------------------------------
    def retention(self, principal: Principal) -> RetentionPolicy:
        """The tenant's retention policy (``events:read``)."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        self.tenant(principal.tenant_id)
        return self._store.get_retention(principal.tenant_id)

    def set_retention(
        self, principal: Principal, policy: RetentionPolicy | object
    ) -> RetentionPolicy:
        """Replace the tenant's retention policy (an object or the JSON body of one).

        Needs ``events:erase`` (a policy decides what gets deleted) and the whole
        tenant. A change is recorded in the tenant's log as ``audit_log.retention_changed``.
        """
        tenant_id = self._whole_tenant_eraser(principal)
        self._meter(principal, "write", 1)
        if not isinstance(policy, RetentionPolicy):
            policy = RetentionPolicy.from_body(policy)
        before = self._store.get_retention(tenant_id)
        if before != policy:
            self._store.set_retention(tenant_id, policy)
            self._record_retention(
                principal,
                "audit_log.retention_changed",
                None,
                {"before": before.to_dict(), "after": policy.to_dict()},
            )
        return policy

    def holds(self, principal: Principal, *, active_only: bool = False) -> list[Hold]:
        """The tenant's legal holds, released ones too unless ``active_only``."""
        tenant_id = self._whole_tenant_eraser(principal)
        return self._store.holds(tenant_id, active_only=active_only)

    def add_hold(
        self,
        principal: Principal,
        reason: str,
        *,
        account_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Hold:
        """Place a legal hold: nothing it covers is pruned until it is released.

        Recorded as ``audit_log.legal_hold_placed``."""
        tenant_id = self._whole_tenant_eraser(principal)
        text, account, lo, hi = check_hold(reason, account_id, since, until)
        hold = Hold(
            id=f"hold_{uuid7().hex}",
            tenant_id=tenant_id,
            reason=text,
            created_by=json.dumps(principal.actor.to_dict()),
            created_at=now_micros(),
            account_id=account,
            since=lo,
            until=hi,
        )
        self._store.add_hold(hold)
        self._record_retention(principal, "audit_log.legal_hold_placed", hold, {"reason": text})
        return hold

    def release_hold(self, principal: Principal, hold_id: str) -> Hold:
        """Release a legal hold (recorded as ``audit_log.legal_hold_released``)."""
        tenant_id = self._whole_tenant_eraser(principal)
        by = json.dumps(principal.actor.to_dict())
        if not self._store.release_hold(tenant_id, hold_id, now_micros(), by):
            raise NotFound(f"no active legal hold {hold_id!r}")
        released = next(h for h in self._store.holds(tenant_id) if h.id == hold_id)
        self._record_retention(principal, "audit_log.legal_hold_released", released, {})
        return released

    def prunes(self, tenant_id: str) -> list[Prune]:
        """The tenant's recorded prunes, oldest first (operator API)."""
        self.tenant(tenant_id)
        return self._store.prunes(tenant_id)

    def prune(
        self,
        *,
        tenants: Sequence[str] | None = None,
        dry_run: bool = False,
        archive: BinaryIO | None = None,
        progress: Callable[[int], None] | None = None,
        now: int | None = None,
    ) -> PruneReport:
        """Prune every tenant's log (or ``tenants``) under its policy and legal holds.

        Operator API (``sealtrail prune``, the server's schedule). Each tenant loses
        a prefix of its log: the events before the first one its policy or a hold
        keeps (see ``sealtrail.pruning``). A dry run only says what would go.
        ``archive`` receives the pruned range of the one tenant named as an export
        bundle first. ``progress`` is told how many events each batch deleted.
        """
        at = now_micros() if now is None else now
        ids = list(tenants) if tenants else [t.id for t in self._store.list_tenants()]
        if archive is not None and len(ids) != 1:
            raise InvalidInput("an archive holds one tenant's events: name the tenant")
        report = PruneReport(dry_run, at)
        owner = f"prune_{uuid7().hex}"
        leased: list[str] = []
        try:
            for tenant_id in ids:
                self.tenant(tenant_id)
                policy = self._store.get_retention(tenant_id)
                holds = self._store.holds(tenant_id, active_only=True)
                if policy.keeps_forever and not pruning.unfinished(self._store, tenant_id):
                    below = pruning.pruned_below(self._store, tenant_id)
                    size = self._store.tree_head(tenant_id).size
                    kept = pruning.TenantPrune(tenant_id, policy.describe(), below, below, size)
                    report.tenants.append(kept)
                    continue
                if dry_run:
                    size = self._store.tree_head(tenant_id).size
                    report.tenants.append(
                        pruning.plan(self._store, tenant_id, policy, holds, at, size)
                    )
                    continue
                if not self._lease_prune(tenant_id, owner):
                    found = pruning.TenantPrune(tenant_id, policy.describe(), 0, 0, 0)
                    found.skipped = "skipped: another process is pruning it"
                    report.tenants.append(found)
                    continue
                leased.append(tenant_id)
                checkpoint = self._checkpoint(tenant_id)
                found = pruning.plan(
                    self._store, tenant_id, policy, holds, at, checkpoint.tree_size
                )
                report.tenants.append(found)
                if not found.events:
                    continue
                if archive is not None:
                    self._archive(checkpoint, found.first_seq, found.below, archive)
                    found.archived = True
                found.record_seq = self._announce_prune(found)
                self._store.add_prune(
                    Prune(tenant_id, found.first_seq, found.below, found.record_seq, at)
                )
            if dry_run:
                return report
            if self._store.partitioned:
                for found in report.tenants:
                    if found.record_seq is not None:
                        pruning.keep_leaves(
                            self._store, found.tenant_id, found.first_seq, found.below
                        )
                report.partitions_dropped = self._store.drop_pruned_partitions()
            for tenant_id in leased:
                if not pruning.unfinished(self._store, tenant_id):
                    continue

                def step(count: int, tenant_id: str = tenant_id) -> None:
                    self._lease_prune(tenant_id, owner)
                    if progress is not None:
                        progress(count)

                deleted = pruning.delete(self._store, tenant_id, step)
                for found in report.tenants:
                    if found.tenant_id == tenant_id:
                        found.deleted = deleted
                pruning.finish(self._store, tenant_id, now_micros())
                self._checkpoint(tenant_id)  # sign the announcement too
        finally:
            for tenant_id in leased:
                self._store.release_lease(tenant_id, PRUNE_LEASE, owner)
        return report

    def _whole_tenant_eraser(self, principal: Principal) -> str:
        principal.require("events:erase")
        if not principal.sees_whole_tenant:
            raise PermissionDenied("only a credential for the whole tenant may change retention")
        self.tenant(principal.tenant_id)
        return principal.tenant_id

    def _record_retention(
        self, principal: Principal, action: str, hold: Hold | None, context: dict[str, Any]
    ) -> None:
        resource = (
            Resource("legal_hold", hold.id)
            if hold is not None
            else Resource("audit_log", principal.tenant_id)
        )
        if hold is not None:
            context = {**context, "hold": hold.describe()}
        self._append(
            principal.tenant_id,
            [EventInput(action=action, actor=principal.actor, resource=resource, context=context)],
        )

    def _lease_prune(self, tenant_id: str, owner: str) -> bool:
        """Take (or keep) the tenant's prune lease: one process prunes a tenant at a time."""
        now = now_micros()
        self._store.add_consumer(tenant_id, PRUNE_LEASE, 0, now)
        taken = self._store.take_lease(tenant_id, PRUNE_LEASE, owner, now, now + PRUNE_LEASE_US)
        return taken is not None

    def _announce_prune(self, found: pruning.TenantPrune) -> int:
        """Record the prune in the tenant's own log, before any row goes; its seq."""
        context: dict[str, Any] = {
            "first_seq": found.first_seq,
            "last_seq": found.below - 1,
            "events": found.events,
            "policy": found.policy,
            "active_holds": found.holds,
            "archived": found.archived,
        }
        if found.stopped is not None:
            context["kept_from"] = found.stopped.seq
        event = EventInput(
            action=PRUNED_ACTION,
            actor=Actor("system", "sealtrail", name="Sealtrail retention"),
            resource=Resource("audit_log", found.tenant_id),
            context=context,
        )
        return self._append(found.tenant_id, [event])[0].seq

    def _archive(self, checkpoint: StoredCheckpoint, first: int, below: int, out: BinaryIO) -> None:
        """Write events ``first``..``below - 1`` as an export bundle against ``checkpoint``."""

        def chunks() -> Iterator[list[Event]]:
            for pairs in self._store.scan(checkpoint.tenant_id, first):
                events = [event for event, _ in pairs if event.seq < below]
                if events:
                    yield events
                if len(events) < len(pairs):
                    return

        for chunk in bundle.write(
            self._store, checkpoint, self.verifier_key, EventQuery(), chunks()
        ):
            out.write(chunk)
        out.flush()

    # -- proofs and checkpoints ----------------------------------------------------------------
    def signer(self) -> CheckpointSigner:
        """The checkpoint signer, its key file created (0600) on first use, with its
        own record of what it signed kept beside the key (``signer_state_dir``)."""
        if self._signer is None:
            settings = self._settings
            state = SignerState(
                settings.signer_state_dir or default_state_dir(settings.signing_key_file)
            )
            self._signer = CheckpointSigner(
                load_or_create_signer_key(settings.signing_key_file), state
            )
        return self._signer

    def existing_verifier_key(self) -> str | None:
        """The vkey of the configured signing key file, or None if there is no such file.

        For verification, which must never create the key it checks signatures with.
        """
        if self._signer is not None:
            return self._signer.vkey
        path = Path(self._settings.signing_key_file)
        return load_signer_key(path).vkey if path.exists() else None

    @property
    def verifier_key(self) -> str:
        """The log's public key (C2SP vkey): what auditors verify checkpoints with."""
        return self.signer().vkey

    def checkpoint(self, principal: Principal) -> SignedCheckpoint:
        """The latest checkpoint of the principal's tenant, signing one first if the tree grew."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        stored = self._checkpoint(principal.tenant_id)
        return SignedCheckpoint(
            stored.tenant_id, stored.tree_size, stored.root_hash, stored.note, self.verifier_key
        )

    def _checkpoint(self, tenant_id: str) -> StoredCheckpoint:
        """The latest checkpoint, signing a new one first if the tree has grown.

        The signer compares the database's tree with its own record of what it
        signed and refuses (InconsistentTree) a tree that is not an extension of
        it (or a stored checkpoint its key did not sign); the refusal is remembered
        for ``signer_refusals`` and logged.
        """
        self.tenant(tenant_id)
        signer = self.signer()
        origin = origin_for_tenant(tenant_id)
        head = self._store.tree_head(tenant_id)
        latest = self._store.latest_checkpoint(tenant_id)
        try:
            kept = signer.last_signed(origin)
            if (
                latest is not None
                and latest.tree_size >= head.size
                and (kept is None or (kept[0].size, kept[0].root_hash) == _key_of(latest))
            ):
                self._signer_refusals.pop(tenant_id, None)
                if kept is None:
                    return latest
                return replace(latest, note=self._witnessed(tenant_id, kept[0], kept[1]))
            fresh = Checkpoint(origin, head.size, tree.root_from_frontier(head.frontier, head.size))
            previous = None if latest is None else _stored_previous(signer, latest, origin)
            reader = _NodeReader(self._store, tenant_id)
            note = signer.sign(
                fresh,
                previous=previous,
                proof=lambda old, new: tree.consistency_proof_from_nodes(reader, old, new),
            )
        except LedgerError as exc:  # an inconsistent tree, or a stored note not ours
            self._signer_refusals[tenant_id] = exc.message
            self._signer_refusal_count += 1
            _log.error("signer refused: %s", exc.message)
            raise
        self._signer_refusals.pop(tenant_id, None)
        signed = signer.open(note, origin)
        stored = StoredCheckpoint(tenant_id, signed.size, signed.root_hash, note, now_micros())
        self._store.add_checkpoint(stored)
        return replace(stored, note=self._witnessed(tenant_id, signed, note))

    def witness_submitter(self) -> Submitter | None:
        """What submits checkpoints to the witnesses of ``witness_policy_file``, if set."""
        path = self._settings.witness_policy_file
        if path and self._submitter is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read witness_policy_file {path}: {exc.strerror}"
                ) from None
            try:
                policy = Policy.parse(text)
            except NoteError as exc:
                raise ConfigurationError(f"witness_policy_file {path}: {exc.message}") from None
            self._submitter = Submitter(policy, timeout=self._settings.witness_timeout)
        return self._submitter

    def _witnessed(self, tenant_id: str, checkpoint: Checkpoint, note: str) -> str:
        """``note`` with the cosignatures the policy's witnesses give it now (kept with the
        signer's record); tried again at most every WITNESS_RETRY seconds per note."""
        submitter = self.witness_submitter()
        if submitter is None:
            return note
        now = time.monotonic()
        last = self._witness_attempts.get(tenant_id)
        if last is not None and last[0] == note and now - last[1] < WITNESS_RETRY:
            return note
        self._witness_attempts[tenant_id] = (note, now)
        if not submitter.missing(note):
            return note
        reader = _NodeReader(self._store, tenant_id)
        cosigned = submitter.cosign(
            note,
            checkpoint,
            lambda old, new: tree.consistency_proof_from_nodes(reader, old, new),
        )
        if cosigned != note and self.signer().keep_cosigned(cosigned, checkpoint.origin):
            self._witness_attempts[tenant_id] = (cosigned, now)
        return cosigned

    def inclusion_proof(
        self, principal: Principal, seq: int, size: int | None = None
    ) -> dict[str, Any]:
        """The proof that leaf ``seq`` is in the signed tree (of ``size``, or the latest).

        An account-scoped principal may prove only its accounts' events: any
        other seq answers like a missing one.
        """
        principal.require("events:read")
        self._meter(principal, "read", 1)
        tenant_id = principal.tenant_id
        checkpoint = self._checkpoint(tenant_id)
        if not principal.sees_whole_tenant:
            found = self._store.get_events_by_seq(tenant_id, [seq]) if seq >= 0 else []
            if not found or not principal.may_see(found[0]):
                raise NotFound(f"no leaf {seq} among the events you may see")
        body = self._inclusion_body(tenant_id, seq, checkpoint, size)
        body.pop("checkpoint", None)
        return body

    def _inclusion_body(
        self, tenant_id: str, seq: int, checkpoint: StoredCheckpoint, size: int | None = None
    ) -> dict[str, Any]:
        tree_size = checkpoint.tree_size if size is None else size
        if not 0 <= seq < tree_size or tree_size > checkpoint.tree_size:
            raise NotFound(f"no leaf {seq} in a signed tree of size {tree_size}")
        reader = _NodeReader(self._store, tenant_id)
        leaf = reader.nodes([(0, seq)])[0]
        path = tree.inclusion_proof_from_nodes(reader, seq, tree_size)
        return {
            "seq": seq,
            "tree_size": tree_size,
            "leaf_hash": _b64(leaf),
            "proof": [_b64(h) for h in path],
            "checkpoint": checkpoint.note if tree_size == checkpoint.tree_size else None,
        }

    def consistency_proof(
        self, principal: Principal, first: int, second: int | None = None
    ) -> dict[str, Any]:
        """The proof that the tree of size ``second`` extends the tree of size ``first``."""
        principal.require("events:read")
        self._meter(principal, "read", 1)
        tenant_id = principal.tenant_id
        checkpoint = self._checkpoint(tenant_id)
        second = checkpoint.tree_size if second is None else second
        if not 0 <= first <= second or second > checkpoint.tree_size:
            raise InvalidQuery(
                f"need 0 <= first <= second <= {checkpoint.tree_size} (the signed tree size)",
                "second" if second > checkpoint.tree_size else "first",
            )
        reader = _NodeReader(self._store, tenant_id)
        path = (
            [] if first in (0, second) else tree.consistency_proof_from_nodes(reader, first, second)
        )
        return {"first": first, "second": second, "proof": [_b64(h) for h in path]}

    # -- streams (issue 17): configuration, delivery log, and the background followers ------
    def _stream_manager(self, principal: Principal) -> str:
        principal.require("streams:manage")
        self._meter(principal, "read", 1)
        if not principal.sees_whole_tenant:
            raise PermissionDenied("only a credential for the whole tenant may manage streams")
        self.tenant(principal.tenant_id)
        return principal.tenant_id

    def _stream_record(self, tenant_id: str, stream_id: str) -> StreamRecord:
        found = self._store.get_stream(tenant_id, stream_id)
        if found is None:
            raise NotFound(f"no stream {stream_id!r}")
        return found

    def _stream_view(self, record: StreamRecord) -> StreamView:
        spec = StreamSpec.stored(record.name, record.destination, record.format, record.filter)
        state = self._store.get_consumer(record.tenant_id, consumer_name(record.id))
        size = self._store.tree_head(record.tenant_id).size
        return StreamView(record, spec, state, size, self._stream_secrets(record))

    def _box(self) -> SecretBox:
        """The key stream secrets are encrypted with (``streams.sealing``): the
        ``stream_secrets_key`` setting, else the key file (made on first use)."""
        if self._secret_box is None:
            configured = self._settings.stream_secrets_key
            keys = (
                parse_keys(configured, "stream_secrets_key")
                if configured
                else load_or_create_key_file(self._settings.stream_secrets_key_path)
            )
            self._secret_box = SecretBox(keys)
        return self._secret_box

    def _stream_secrets(self, record: StreamRecord) -> SecretSet:
        if record.secrets in ("", "[]"):  # a syslog stream: nothing to decrypt
            return SecretSet()
        return SecretSet.from_json(self._box().open(record.secrets))

    def _sealed(self, secrets: SecretSet) -> str:
        return self._box().seal(secrets.to_json()) if secrets.keys else "[]"

    def seal_stream_secrets(self, *, rekey: bool = True) -> int:
        """Encrypt every stream's secrets under the first stream secrets key: those
        stored in the clear and, with ``rekey``, those sealed under an older key. Returns
        how many streams were rewritten. A stream changed meanwhile is left as its
        change wrote it (already sealed under the first key)."""
        changed = 0
        for record in self._store.list_streams():
            stored = record.secrets
            if stored in ("", "[]") or (is_sealed(stored) and not rekey):
                continue
            box = self._box()
            if box.current(stored):
                continue
            if self._store.replace_stream_secrets(
                record.tenant_id, record.id, stored, box.reseal(stored)
            ):
                changed += 1
        return changed

    def destination_guard(self) -> DestinationGuard:
        """Where streams may connect (``streams.guard``), as the operator configured."""
        return DestinationGuard(
            self._settings.stream_allow_private_destinations, self._settings.stream_networks()
        )

    def _check_destination(self, spec: StreamSpec) -> None:
        self.destination_guard().check_host(*spec.destination.endpoint())

    def _record_stream(
        self,
        principal: Principal,
        action: str,
        record: StreamRecord,
        context: Mapping[str, Any],
    ) -> None:
        """A change to a stream, in the tenant's own log (never its secret)."""
        event = EventInput(
            action=action,
            actor=principal.actor,
            resource=Resource("stream", record.id, record.name),
            context=dict(context),
        )
        self._append(record.tenant_id, [event])

    def _streams_changed(self) -> None:
        for listener in self._stream_listeners:
            listener()

    def create_stream(
        self, principal: Principal, spec: StreamSpec, signing: SigningChoice | None = None
    ) -> CreatedStream:
        """A new stream, delivering from the next event on (``replay_stream`` backfills).
        A webhook stream signs with ``signing`` (default: a new HMAC ``v1`` secret,
        returned here, once; ``v1a``: a new Ed25519 key pair, whose public key it shows).
        Its destination must be a public address unless the operator allows more."""
        tenant_id = self._stream_manager(principal)
        if signing is not None and not isinstance(spec.destination, WebhookDestination):
            raise InvalidInput("signing is for webhook streams (syslog is not signed)")
        if len(self._store.list_streams(tenant_id)) >= MAX_STREAMS_PER_TENANT:
            raise Conflict(f"a tenant has at most {MAX_STREAMS_PER_TENANT} streams")
        self._check_destination(spec)
        secrets, secret = SecretSet(), None
        if isinstance(spec.destination, WebhookDestination):
            choice = signing or SigningChoice()
            key = choice.make()
            secrets, secret = SecretSet.of(key), choice.shown(key)
        now = now_micros()
        record = StreamRecord(
            tenant_id=tenant_id,
            id=f"str_{uuid7().hex}",
            name=spec.name,
            destination=spec.destination_json(),
            format=spec.format,
            filter=spec.filter,
            status="active",
            secrets=self._sealed(secrets),
            created_at=now,
            updated_at=now,
        )
        self._store.add_stream(record)
        size = self._store.tree_head(tenant_id).size
        self._store.add_consumer(tenant_id, consumer_name(record.id), size, now)
        self._record_stream(
            principal,
            "audit_log.stream_created",
            record,
            {
                "destination": recorded_destination(spec),
                "format": spec.format,
                "filter": spec.filter,
                "from_seq": size,
            },
        )
        self._streams_changed()
        return CreatedStream(self._stream_view(record), secret)

    def streams(self, principal: Principal) -> list[StreamView]:
        tenant_id = self._stream_manager(principal)
        return [self._stream_view(r) for r in self._store.list_streams(tenant_id)]

    def get_stream(self, principal: Principal, stream_id: str) -> StreamView:
        tenant_id = self._stream_manager(principal)
        return self._stream_view(self._stream_record(tenant_id, stream_id))

    def update_stream(self, principal: Principal, stream_id: str, body: object) -> StreamView:
        """Change a stream (any of name, destination, format, filter) and/or pause or
        resume it (``status``); each kind of change is recorded."""
        tenant_id = self._stream_manager(principal)
        record = self._stream_record(tenant_id, stream_id)
        before = StreamSpec.stored(record.name, record.destination, record.format, record.filter)
        after, status = before.patched(body)
        changed = before.changes(after)
        if not changed and status in (None, record.status):
            return self._stream_view(record)
        if "destination" in changed:
            self._check_destination(after)
        updated = replace(
            record,
            name=after.name,
            destination=after.destination_json(),
            format=after.format,
            filter=after.filter,
            status=status or record.status,
            updated_at=now_micros(),
        )
        if not self._store.update_stream(updated):
            raise NotFound(f"no stream {stream_id!r}")
        if changed:
            recorded = {k: v for k, v in after.to_dict().items() if k in changed}
            if "destination" in recorded:
                recorded["destination"] = recorded_destination(after)
            self._record_stream(
                principal, "audit_log.stream_updated", updated, {"changed": recorded}
            )
        if status is not None and status != record.status:
            action = "audit_log.stream_paused" if status == "paused" else "audit_log.stream_resumed"
            self._record_stream(principal, action, updated, {"status": status})
        state = self._store.get_consumer(tenant_id, consumer_name(stream_id))
        if state is not None and state.attempts:  # a fixed stream is tried again at once
            self._store.move_consumer(tenant_id, state.name, state.next_seq, now_micros())
        self._streams_changed()
        return self._stream_view(updated)

    def delete_stream(self, principal: Principal, stream_id: str) -> None:
        """Delete a stream, its cursor and its delivery log (recorded)."""
        tenant_id = self._stream_manager(principal)
        record = self._stream_record(tenant_id, stream_id)
        if not self._store.remove_stream(tenant_id, stream_id):
            raise NotFound(f"no stream {stream_id!r}")
        self._store.remove_consumer(tenant_id, consumer_name(stream_id))
        self._record_stream(principal, "audit_log.stream_deleted", record, {})
        self._streams_changed()

    def rotate_stream_secret(
        self,
        principal: Principal,
        stream_id: str,
        overlap: int = DEFAULT_SECRET_OVERLAP,
        signing: SigningChoice | None = None,
    ) -> CreatedStream:
        """A new signing key for a webhook stream, of the current scheme unless
        ``signing`` names one (a generated HMAC secret is returned once; an Ed25519 key
        shows its public half); the old keys keep signing beside it for ``overlap``
        seconds. Recorded as an update."""
        tenant_id = self._stream_manager(principal)
        record = self._stream_record(tenant_id, stream_id)
        spec = StreamSpec.stored(record.name, record.destination, record.format, record.filter)
        if not isinstance(spec.destination, WebhookDestination):
            raise InvalidInput("only a webhook stream has a signing secret")
        if not 0 <= overlap <= MAX_SECRET_OVERLAP:
            raise InvalidInput(f"overlap_seconds must be 0-{MAX_SECRET_OVERLAP}")
        now = now_micros()
        before = self._stream_secrets(record)
        if signing is None:
            current = before.signing()
            signing = SigningChoice("v1a" if current and current["scheme"] == "v1a" else "v1")
        key = signing.make()
        secrets = before.rotated(key, now=now // 1_000_000, overlap=overlap)
        secret = signing.shown(key)
        updated = replace(record, secrets=self._sealed(secrets), updated_at=now)
        if not self._store.update_stream(updated):
            raise NotFound(f"no stream {stream_id!r}")
        self._record_stream(
            principal,
            "audit_log.stream_updated",
            updated,
            {
                "changed": {"signing_keys": "rotated"},
                "scheme": signing.scheme,
                "overlap_seconds": overlap,
            },
        )
        self._streams_changed()
        return CreatedStream(self._stream_view(updated), secret)

    def replay_stream(self, principal: Principal, stream_id: str, from_seq: int) -> StreamView:
        """Deliver the stream again from ``from_seq`` (0 … the log's size), at least once."""
        tenant_id = self._stream_manager(principal)
        record = self._stream_record(tenant_id, stream_id)
        size = self._store.tree_head(tenant_id).size
        if isinstance(from_seq, bool) or not isinstance(from_seq, int) or not 0 <= from_seq <= size:
            raise InvalidInput(f"from_seq must be an integer 0-{size} (the log's size)")
        name = consumer_name(stream_id)
        self._store.add_consumer(tenant_id, name, from_seq, now_micros())
        self._store.move_consumer(tenant_id, name, from_seq, now_micros())
        self._record_stream(
            principal, "audit_log.stream_replayed", record, {"from_seq": from_seq, "to_seq": size}
        )
        self._streams_changed()
        for listener in self._append_listeners:
            listener(tenant_id)
        return self._stream_view(record)

    def test_stream(self, principal: Principal, stream_id: str) -> StreamDelivery:
        """Send the stream one signed test message now, and log the attempt."""
        tenant_id = self._stream_manager(principal)
        record = self._stream_record(tenant_id, stream_id)
        spec = StreamSpec.stored(record.name, record.destination, record.format, record.filter)
        result = send_test(
            spec,
            self._stream_signer(record),
            tenant_id=tenant_id,
            stream_id=stream_id,
            tls=self._stream_tls(),
            guard=self.destination_guard(),
        )
        delivery = _delivery(record, "test", None, None, 0, 1, result)
        self._store.add_delivery(delivery, STREAM_DELIVERY_LOG)
        return StreamDelivery(delivery)

    def stream_deliveries(
        self, principal: Principal, stream_id: str, limit: int = STREAM_DELIVERY_LOG
    ) -> list[StreamDelivery]:
        """The stream's latest delivery attempts, newest first (the last
        ``STREAM_DELIVERY_LOG`` are kept)."""
        tenant_id = self._stream_manager(principal)
        self._stream_record(tenant_id, stream_id)
        if not 1 <= limit <= STREAM_DELIVERY_LOG:
            raise InvalidQuery(f"limit must be 1-{STREAM_DELIVERY_LOG}", "limit")
        return [StreamDelivery(d) for d in self._store.deliveries(tenant_id, stream_id, limit)]

    def add_listener(
        self, kind: Literal["appended", "streams"], listener: Callable[..., None]
    ) -> None:
        """Be told when a tenant's log grew (``appended``: called with the tenant id, after
        the commit) or when a stream was created, changed or deleted (``streams``)."""
        if kind == "appended":
            self._append_listeners.append(listener)
        else:
            self._stream_listeners.append(listener)

    def follower(
        self, tenant_id: str, name: str, consumer: Consumer, *, owner: str, **options: Any
    ) -> Follower:
        """A ``Follower`` of the tenant's log for ``consumer`` (the hook background work
        plugs into: see ``sealtrail.follower_pool``). Its cursor is created at the log's
        current size if it does not exist yet. The followers made here share the events
        they decode (``follower.RecentEvents``): several streams of one tenant decode
        each event once."""
        if self._store.get_consumer(tenant_id, name) is None:
            size = self._store.tree_head(tenant_id).size
            self._store.add_consumer(tenant_id, name, size, now_micros())
        options.setdefault("recent", self._recent_events)
        return Follower(self._store, tenant_id, name, consumer, owner=owner, **options)

    def _stream_signer(self, record: StreamRecord) -> WebhookSigner | None:
        secrets = self._stream_secrets(record)
        return secrets.signer() if secrets.keys else None

    def _stream_tls(self) -> ssl.SSLContext | None:
        path = self._settings.stream_ca_file
        if not path:
            return None
        context = ssl.create_default_context()
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"cannot read stream_ca_file {path}: {exc}") from None
        return context

    def stream_plans(self) -> list[ConsumerPlan]:
        """What should deliver now: one consumer per active stream of every tenant.

        Each plan's key is the stream's configuration, so an edited stream restarts;
        paused and deleted streams are not planned, so their followers stop.
        """
        tls = self._stream_tls()
        options = {
            "batch_size": STREAM_BATCH,
            "pace": STREAM_PACE,
            "failing_after": float(self._settings.stream_failing_after),
            "lease_seconds": float(self._settings.stream_lease_seconds),
        }
        plans = []
        for record in self._store.list_streams():
            if record.status != "active":
                continue
            plans.append(
                ConsumerPlan(
                    record.tenant_id,
                    consumer_name(record.id),
                    (record.updated_at, record.destination, record.format, record.filter),
                    functools.partial(self._stream_consumer, record, tls),
                    options,
                )
            )
        return plans

    def _stream_consumer(self, record: StreamRecord, tls: ssl.SSLContext | None) -> Consumer:
        tenant_id = record.tenant_id
        spec = StreamSpec.stored(record.name, record.destination, record.format, record.filter)
        query = spec.query
        name = consumer_name(record.id)
        reader = _NodeReader(self._store, tenant_id)

        def matching(first: int, last: int) -> list[int]:
            assert query is not None
            return self._store.matching_seqs(tenant_id, query, first, last)

        def consistency(old: int, new: int) -> ConsistencyProof:
            hashes = [] if old in (0, new) else tree.consistency_proof_from_nodes(reader, old, new)
            return ConsistencyProof(old, new, tuple(hashes))

        def attempt(batch: Batch, result: DeliveryResult) -> None:
            state = self._store.get_consumer(tenant_id, name)
            tries = 1 if state is None else state.attempts + 1
            delivery = _delivery(
                record, "batch", batch.first_seq, batch.last_seq, len(batch.events), tries, result
            )
            self._store.add_delivery(delivery, STREAM_DELIVERY_LOG)

        def current() -> bool:
            now = self._store.get_stream(tenant_id, record.id)
            return (
                now is not None and now.status == "active" and now.updated_at == record.updated_at
            )

        return StreamConsumer(
            spec,
            self._stream_signer(record),
            checkpoint=lambda: self._checkpoint(tenant_id).note,
            matching=None if query is None else matching,
            consistency=consistency,
            attempt=attempt,
            current=current,
            tls=tls,
            guard=self.destination_guard(),
        )


class _NodeReader:
    """A tenant's stored tree nodes, as the ledger's ``NodeReader``."""

    __slots__ = ("_store", "_tenant_id")

    def __init__(self, store: EventStore, tenant_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id

    def nodes(self, keys: Sequence[tuple[int, int]]) -> Sequence[bytes]:
        return self._store.tree_nodes(self._tenant_id, keys)


def _stored_previous(signer: CheckpointSigner, stored: StoredCheckpoint, origin: str) -> Checkpoint:
    try:
        return signer.open(stored.note, origin)
    except NoteError as exc:
        raise InconsistentTree(
            f"{origin}: the stored checkpoint of size {stored.tree_size} is not signed by this "
            f"log's key ({exc.message}); refusing to sign after it"
        ) from None


def _key_of(checkpoint: StoredCheckpoint) -> tuple[int, bytes]:
    return checkpoint.tree_size, checkpoint.root_hash


def _operator(tenant_id: str) -> Actor:
    return Principal.operator(tenant_id).actor


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _seal(
    templates: Mapping[str, LeafTemplate], head: TreeHead, fresh: Sequence[Event]
) -> SealedBatch:
    """Give new events their ``seq`` and grow the tenant's Merkle tree over them.

    Runs under the tenant's write lock, so it only splices each seq into a leaf
    prepared earlier and extends the tree.
    """
    events = [e.with_seq(head.size + i) for i, e in enumerate(fresh)]
    hashes = [templates[e.id].leaf_hash(e.seq) for e in events]
    grown = tree.append(head.frontier, head.size, hashes)
    nodes = [node for node in grown.new_nodes if node[0] > 0]
    return SealedBatch(events, hashes, nodes, TreeHead(grown.size, tuple(grown.frontier)))


def _delivery(
    record: StreamRecord,
    kind: DeliveryKind,
    first_seq: int | None,
    last_seq: int | None,
    events: int,
    attempt: int,
    result: DeliveryResult,
) -> DeliveryRecord:
    return DeliveryRecord(
        tenant_id=record.tenant_id,
        stream_id=record.id,
        id=str(uuid7()),
        at=now_micros(),
        kind=kind,
        first_seq=first_seq,
        last_seq=last_seq,
        events=events,
        attempt=attempt,
        delivered=result.delivered,
        status=result.status,
        duration_us=int(result.seconds * 1_000_000),
        error=None if result.error is None else result.error[:1000],
    )


def _built(consumer: Consumer) -> Consumer:
    return consumer


DETECTIONS_ACTOR = Actor("system", "sealtrail-detections", name="Sealtrail detections")


def _capped(chunks: Iterator[list[Event]]) -> Iterator[list[Event]]:
    """At most ``MAX_REPLAY_EVENTS`` events of a replay."""
    left = MAX_REPLAY_EVENTS
    for chunk in chunks:
        if left <= 0:
            return
        yield chunk[:left]
        left -= len(chunk)


def _check_tenant_id(tenant_id: str) -> None:
    if (
        not tenant_id
        or len(tenant_id) > 64
        or not all(c.isalnum() or c in "-_." for c in tenant_id)
    ):
        raise InvalidInput("a tenant id is 1-64 characters of letters, digits, '-', '_' and '.'")
