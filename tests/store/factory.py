"""Events and sealers for the store contract suite."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sealtrail.events import Actor, Event, Resource, Target, parse_timestamp
from sealtrail.ledger import tree
from sealtrail.store.base import EventStore, Receipt, SealedBatch, Tenant, TreeHead

T0 = parse_timestamp("2026-03-01T00:00:00Z")
HOUR = 3_600_000_000


def make_event(tenant_id: str, ident: str, **fields: Any) -> Event:
    base: dict[str, Any] = {
        "tenant_id": tenant_id,
        "seq": -1,
        "id": ident,
        "action": "member.invited",
        "category": "members",
        "kind": "create",
        "occurred_at": T0,
        "received_at": T0,
        "outcome": "success",
        "actor": Actor("user", "u_admin", "owner", "Ada Admin", "ada@example.com"),
        "salts": {"actor.name": b"\x01" * 16, "actor.email": b"\x02" * 16},
    }
    base.update(fields)
    return Event(**base)


def fake_leaf(event: Event) -> bytes:
    return hashlib.sha256(f"{event.tenant_id}/{event.seq}/{event.id}".encode()).digest()


def seal(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
    events = [replace(e, seq=head.size + i) for i, e in enumerate(fresh)]
    hashes = [fake_leaf(e) for e in events]
    grown = tree.append(head.frontier, head.size, hashes)
    nodes = [n for n in grown.new_nodes if n[0] > 0]
    return SealedBatch(events, hashes, nodes, TreeHead(grown.size, tuple(grown.frontier)))


def add_tenant(store: EventStore, tenant_id: str = "acme") -> str:
    store.create_tenant(Tenant(tenant_id, tenant_id.title(), T0))
    return tenant_id


def append(store: EventStore, tenant_id: str, *events: Event) -> list[Receipt]:
    return store.append(tenant_id, list(events), seal)


def sample_history(store: EventStore, tenant_id: str) -> list[Event]:
    """A small, varied history: one event per hour, each field used somewhere."""
    events = [
        make_event(
            tenant_id,
            "e0",
            action="auth.login",
            category="auth",
            kind="access",
            ip="10.1.2.3",
            outcome="failure",
            occurred_at=T0,
        ),
        make_event(
            tenant_id,
            "e1",
            action="member.invited",
            target=Target("user", "u_bob", "Bob", "Bob@Example.com"),
            account_id="acc_1",
            occurred_at=T0 + HOUR,
            description="Ada invited Bob to the team",
        ),
        make_event(
            tenant_id,
            "e2",
            action="member.role_changed",
            category="members",
            kind="update",
            target=Target("user", "u_bob", "Bob", "bob@example.com"),
            account_id="acc_2",
            context={"previous_role": "member", "new_role": "admin"},
            occurred_at=T0 + 2 * HOUR,
        ),
        make_event(
            tenant_id,
            "e3",
            action="app.published",
            category="apps",
            kind="update",
            resource=Resource("app", "app_42", "Support bot"),
            account_id="acc_1",
            occurred_at=T0 + 3 * HOUR,
            ip="2001:db8::7",
        ),
        make_event(
            tenant_id,
            "e4",
            action="workspace.deleted",
            category="organization",
            kind="delete",
            resource=Resource("workspace", "ws_1", "Sales"),
            occurred_at=T0 + 4 * HOUR,
            actor=Actor("system", "system"),
            description="Workspace Sales deleted by retention",
        ),
        make_event(
            tenant_id,
            "e5",
            action="auth.login",
            category="auth",
            kind="access",
            ip="192.168.0.9",
            occurred_at=T0 + 5 * HOUR,
            actor=Actor("user", "u_carol", None, "Carol", "carol@example.com"),
        ),
    ]
    append(store, tenant_id, *events)
    return events


def announce_prune(store: EventStore, tenant_id: str, first: int, below: int) -> int:
    """Record a prune of ``first``..``below - 1`` as ``AuditLog.prune`` does before any row
    goes: its announcement in the log, a checkpoint over it, the prune; the announcement's seq.
    """
    from sealtrail.retention import PRUNED_ACTION, Prune
    from sealtrail.store.base import StoredCheckpoint

    event = make_event(tenant_id, f"pruned-{below}", action=PRUNED_ACTION)
    seq = append(store, tenant_id, event)[0].seq
    store.add_checkpoint(StoredCheckpoint(tenant_id, seq + 1, b"r" * 32, "note", T0))
    store.add_prune(Prune(tenant_id, first, below, seq, T0))
    return seq
