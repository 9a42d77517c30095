"""``AuditLog``: the one place where Sealtrail's rules live.

Every edge — the HTTP API, the viewer page, the CLI, the in-process SDK —
is a thin translator over this class: it records, searches, exports and
proves, always on behalf of a ``Principal`` whose tenant and account scope it
applies itself.
"""

from __future__ import annotations

import base64
import functools
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from uuid_utils import uuid7

from sealtrail import bundle, export
from sealtrail.auth import (
    Principal,
    Scope,
    generate_api_key,
    parse_scopes,
    secret_matches,
    split_api_key,
)
from sealtrail.catalog import Catalog, EventType
from sealtrail.errors import (
    AuthenticationFailed,
    FieldError,
    InvalidEvent,
    InvalidInput,
    InvalidQuery,
    NotFound,
)
from sealtrail.events import (
    Actor,
    Event,
    EventInput,
    Outcome,
    Resource,
    now_micros,
    validate_batch,
)
from sealtrail.ledger import tree
from sealtrail.ledger.checkpoint import (
    Checkpoint,
    CheckpointSigner,
    load_or_create_signer_key,
    origin_for_tenant,
)
from sealtrail.ledger.leaf import PERSONAL_FIELDS, SALT_SIZE, LeafTemplate
from sealtrail.query import EventQuery, Page, format_phrase
from sealtrail.recording import ActorLike, ResourceLike, TargetLike, build_event
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.store.base import (
    ApiKeyRecord,
    EventStore,
    Receipt,
    SealedBatch,
    SearchResult,
    StoredCheckpoint,
    Tenant,
    TreeHead,
)

CATALOG_TTL = 5.0

ExportFormat = Literal["csv", "ndjson", "bundle"]


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: ApiKeyRecord
    plain: str


def _display(name: str | None, email: str | None, ident: str) -> str:
    return name or email or ident


class AuditLog:
    """Record, search, export and prove one database's audit events."""

    def __init__(
        self,
        store: EventStore,
        *,
        settings: Settings | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.store = store
        self._settings = settings or Settings()
        self._signer: CheckpointSigner | None = None
        self._catalog = catalog or Catalog.builtin()
        self._tenant_catalogs: dict[str, tuple[float, Catalog]] = {}
        self._tenants: dict[str, Tenant] = {}

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
            url, sqlite_cache_mib=settings.sqlite_cache_mib, read_url=settings.read_database_url
        )
        return cls(store, settings=settings)

    def close(self) -> None:
        self.store.close()

    # -- tenants and keys -------------------------------------------------------
    def create_tenant(
        self, tenant_id: str, name: str | None = None, *, strict: bool = False
    ) -> Tenant:
        _check_tenant_id(tenant_id)
        tenant = Tenant(tenant_id, name or tenant_id, now_micros(), strict)
        self.store.create_tenant(tenant)
        return tenant

    def tenant(self, tenant_id: str) -> Tenant:
        cached = self._tenants.get(tenant_id)
        if cached is not None:
            return cached
        found = self.store.get_tenant(tenant_id)
        if found is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        self._tenants[tenant_id] = found
        return found

    def tenants(self) -> list[Tenant]:
        return self.store.list_tenants()

    def create_api_key(
        self, tenant_id: str, scopes: str | Sequence[Scope], *, name: str | None = None
    ) -> CreatedKey:
        self.tenant(tenant_id)
        wanted = parse_scopes(scopes if isinstance(scopes, str) else ",".join(scopes))
        fresh = generate_api_key()
        record = ApiKeyRecord(
            fresh.id, tenant_id, fresh.secret_hash, frozenset(wanted), now_micros(), name
        )
        self.store.add_api_key(record)
        return CreatedKey(record, fresh.plain)

    def api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        return self.store.list_api_keys(tenant_id)

    def revoke_api_key(self, key_id: str) -> None:
        if not self.store.revoke_api_key(key_id, now_micros()):
            raise NotFound(f"no active API key {key_id!r}")

    def authenticate_api_key(self, plain: str) -> Principal:
        key_id, secret = split_api_key(plain)
        record = self.store.get_api_key(key_id)
        if (
            record is None
            or record.revoked_at is not None
            or not secret_matches(secret, record.secret_hash)
        ):
            raise AuthenticationFailed("the API key is not valid")
        return Principal(
            tenant_id=record.tenant_id,
            kind="api_key",
            actor=Actor("api_key", record.id, name=record.name),
            scopes=record.scopes,
        )

    # -- the catalog --------------------------------------------------------------
    def catalog(self, tenant_id: str) -> Catalog:
        """The built-in catalog plus the tenant's own types.

        Cached briefly: another API process may register a type, and this one
        picks it up within ``CATALOG_TTL`` seconds.
        """
        now = time.monotonic()
        cached = self._tenant_catalogs.get(tenant_id)
        if cached is None or now - cached[0] > CATALOG_TTL:
            found = self._catalog.with_types(self.store.tenant_event_types(tenant_id))
            cached = (now, found)
            self._tenant_catalogs[tenant_id] = cached
        return cached[1]

    def register_event_type(self, tenant_id: str, event_type: EventType) -> EventType:
        self.tenant(tenant_id)
        self._catalog.with_types([event_type])  # validates, raising InvalidInput
        self.store.put_event_type(tenant_id, event_type)
        self._tenant_catalogs.pop(tenant_id, None)
        return replace(event_type, builtin=False)

    # -- recording -------------------------------------------------------------------
    def ingest(self, principal: Principal, body: object) -> list[Receipt]:
        """Validate and store one event or a ``{"events": [...]}`` batch, all or nothing."""
        principal.require("events:write")
        return self.append(principal.tenant_id, validate_batch(body))

    def record(
        self,
        *,
        action: str,
        tenant: str | None = None,
        actor: ActorLike | None = None,
        target: TargetLike | None = None,
        resource: ResourceLike | None = None,
        context: Mapping[str, Any] | None = None,
        description: str | None = None,
        account_id: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        outcome: Outcome = "success",
        request_id: str | None = None,
        occurred_at: datetime | str | None = None,
        id: str | None = None,
    ) -> str:
        """Record one event in-process, with ``sealtrail.Client.record``'s signature.

        The tenant comes from ``tenant`` or the surrounding ``sealtrail.context``.
        Unlike the HTTP client this waits for the event to be stored. Returns its id.
        """
        scoped_tenant, payload = build_event(
            action=action,
            actor=actor,
            target=target,
            resource=resource,
            context=context,
            description=description,
            account_id=account_id,
            ip=ip,
            user_agent=user_agent,
            outcome=outcome,
            request_id=request_id,
            occurred_at=occurred_at,
            id=id,
        )
        tenant_id = tenant or scoped_tenant
        if tenant_id is None:
            raise InvalidInput(
                "name the tenant: record(..., tenant=...) or sealtrail.context(tenant=...)"
            )
        return self.append(tenant_id, validate_batch(payload))[0].id

    def append(self, tenant_id: str, inputs: Sequence[EventInput]) -> list[Receipt]:
        """Store already-validated events for a tenant (idempotent on ``id``)."""
        tenant = self.tenant(tenant_id)
        catalog = self.catalog(tenant_id)
        if tenant.strict:
            unknown = [
                FieldError("action", f"{e.action} is not a registered event type", i)
                for i, e in enumerate(inputs)
                if not catalog.is_known(e.action)
            ]
            if unknown:
                raise InvalidEvent("this tenant accepts only registered event types", unknown)
        received = now_micros()
        # One draw of randomness per batch; each personal field gets 16 bytes of it.
        pool = os.urandom(SALT_SIZE * len(PERSONAL_FIELDS) * len(inputs))
        pending: list[Event] = []
        templates: dict[str, LeafTemplate] = {}
        for index, raw in enumerate(inputs):
            event = self._prepare(tenant_id, raw, catalog, received, pool, index)
            pending.append(event)
            # The leaf's costly part, done before the store takes the tenant's write lock.
            if event.id not in templates:
                templates[event.id] = LeafTemplate(event.to_dict(), event.salts)
        return self.store.append(tenant_id, pending, functools.partial(_seal, templates))

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

    def record_access(
        self,
        principal: Principal,
        action: Literal["audit_log.viewed", "audit_log.exported"],
        context: Mapping[str, Any],
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Record a viewer's search or anyone's export in the tenant's own log."""
        event = EventInput(
            action=action,
            actor=principal.actor,
            resource=Resource("audit_log", principal.tenant_id),
            context=dict(context),
            ip=ip,
            user_agent=user_agent,
            account_id=None,
        )
        self.append(principal.tenant_id, [event])

    # -- reading -------------------------------------------------------------------------
    def search(
        self,
        principal: Principal,
        query: EventQuery,
        page: Page,
        *,
        with_total: bool = True,
        viewer_ip: str | None = None,
    ) -> SearchResult:
        """One page of the principal's events; a viewer's search is itself recorded."""
        principal.require("events:read")
        result = self.store.search(
            principal.tenant_id, principal.scoped(query), page, with_total=with_total
        )
        if principal.kind == "viewer":
            self.record_access(
                principal,
                "audit_log.viewed",
                {
                    "phrase": format_phrase(query),
                    "offset": page.offset,
                    "results": len(result.events),
                },
                ip=viewer_ip,
            )
        return result

    def count(self, principal: Principal, query: EventQuery, cap: int | None = None) -> int | None:
        principal.require("events:read")
        return self.store.count(principal.tenant_id, principal.scoped(query), cap)

    def get_event(self, principal: Principal, event_id: str) -> Event:
        principal.require("events:read")
        event = self.store.get_event(principal.tenant_id, event_id)
        if event is None or (
            principal.accounts is not None and event.account_id not in principal.accounts
        ):
            raise NotFound(f"no event {event_id!r}")
        return event

    def event_with_proof(
        self, principal: Principal, event_id: str, *, include_salts: bool = False
    ) -> dict[str, Any]:
        """The event's JSON object with its inclusion proof against the latest checkpoint."""
        event = self.get_event(principal, event_id)
        body = event.to_dict(include_salts=include_salts)
        checkpoint = self.checkpoint(principal.tenant_id)
        body["proof"] = self._inclusion_body(principal.tenant_id, event.seq, checkpoint)
        return body

    def stream(self, principal: Principal, query: EventQuery) -> Iterator[list[Event]]:
        principal.require("events:read")
        return self.store.stream(principal.tenant_id, principal.scoped(query))

    def export(
        self,
        principal: Principal,
        query: EventQuery,
        fmt: ExportFormat,
        *,
        ip: str | None = None,
    ) -> Iterator[bytes]:
        """Every matching event as CSV, NDJSON or a verifiable bundle, streamed.

        The export is recorded in the tenant's log before the first byte is
        written, whoever asks (SPEC §5).
        """
        principal.require("events:read")
        if fmt not in ("csv", "ndjson", "bundle"):
            raise InvalidInput(f"unknown export format {fmt!r}")
        self.record_access(
            principal, "audit_log.exported", {"format": fmt, "phrase": format_phrase(query)}, ip=ip
        )
        if fmt == "bundle":
            return bundle.write(self, principal, query)
        records = (e.to_dict() for chunk in self.stream(principal, query) for e in chunk)
        return export.csv_chunks(records) if fmt == "csv" else export.ndjson_chunks(records)

    # -- proofs and checkpoints ----------------------------------------------------------------
    def signer(self, settings: Settings | None = None) -> CheckpointSigner:
        """The checkpoint signer, its key file created (0600) on first use."""
        if self._signer is None:
            path = (settings or self._settings).signing_key_file
            self._signer = CheckpointSigner(load_or_create_signer_key(path))
        return self._signer

    def checkpoint(self, tenant_id: str) -> StoredCheckpoint:
        """The latest checkpoint, signing a new one first if the tree has grown."""
        self.tenant(tenant_id)
        head = self.store.tree_head(tenant_id)
        latest = self.store.latest_checkpoint(tenant_id)
        if latest is not None and latest.tree_size >= head.size:
            return latest
        signer = self.signer()
        origin = origin_for_tenant(tenant_id)
        fresh = Checkpoint(origin, head.size, tree.root_from_frontier(head.frontier, head.size))
        previous = None if latest is None else signer.open(latest.note, origin)
        reader = _NodeReader(self.store, tenant_id)
        note = signer.sign(
            fresh,
            previous=previous,
            proof=lambda old, new: tree.consistency_proof_from_nodes(reader, old, new),
        )
        stored = StoredCheckpoint(tenant_id, fresh.size, fresh.root_hash, note, now_micros())
        self.store.add_checkpoint(stored)
        return stored

    def inclusion_proof(self, tenant_id: str, seq: int, size: int | None = None) -> dict[str, Any]:
        checkpoint = self.checkpoint(tenant_id)
        return self._inclusion_body(tenant_id, seq, checkpoint, size)

    def _inclusion_body(
        self, tenant_id: str, seq: int, checkpoint: StoredCheckpoint, size: int | None = None
    ) -> dict[str, Any]:
        tree_size = checkpoint.tree_size if size is None else size
        if not 0 <= seq < tree_size or tree_size > checkpoint.tree_size:
            raise NotFound(f"no leaf {seq} in a signed tree of size {tree_size}")
        reader = _NodeReader(self.store, tenant_id)
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
        self, tenant_id: str, first: int, second: int | None = None
    ) -> dict[str, Any]:
        checkpoint = self.checkpoint(tenant_id)
        second = checkpoint.tree_size if second is None else second
        if not 0 <= first <= second or second > checkpoint.tree_size:
            raise InvalidQuery(
                f"need 0 <= first <= second <= {checkpoint.tree_size} (the signed tree size)",
                "first",
            )
        reader = _NodeReader(self.store, tenant_id)
        path = (
            [] if first in (0, second) else tree.consistency_proof_from_nodes(reader, first, second)
        )
        return {"first": first, "second": second, "proof": [_b64(h) for h in path]}


class _NodeReader:
    """A tenant's stored tree nodes, as the ledger's ``NodeReader``."""

    __slots__ = ("_store", "_tenant_id")

    def __init__(self, store: EventStore, tenant_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id

    def nodes(self, keys: Sequence[tuple[int, int]]) -> Sequence[bytes]:
        return self._store.tree_nodes(self._tenant_id, keys)


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


def _check_tenant_id(tenant_id: str) -> None:
    if (
        not tenant_id
        or len(tenant_id) > 64
        or not all(c.isalnum() or c in "-_." for c in tenant_id)
    ):
        raise InvalidInput("a tenant id is 1-64 characters of letters, digits, '-', '_' and '.'")
