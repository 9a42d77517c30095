"""Events, batches and checkpoints for the stream format and transport tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sealtrail.catalog import Catalog
from sealtrail.events import Actor, Event, Resource, Target, parse_timestamp
from sealtrail.ledger import Checkpoint, CheckpointSigner, Signer, origin_for_tenant
from sealtrail.ledger.merkle import root_from_leaf_hashes
from sealtrail.streams import Batch
from tests.streams.webhook_receiver import receiver as receiver  # the fixture

TENANT = "acme"
DEFAULT: Any = object()  # "as the catalog type expects"; None means none
SIGNER = Signer.generate("sealtrail")


def make_event(
    action: str = "member.role_changed",
    seq: int = 0,
    *,
    tenant_id: str = TENANT,
    outcome: str = "success",
    actor: Actor | None = None,
    target: Target | None = DEFAULT,
    resource: Resource | None = DEFAULT,
    **fields: Any,
) -> Event:
    """An event as the log holds it, classified by the built-in catalog.

    ``target`` and ``resource`` default to what the catalog type expects; pass None for none.
    """
    event_type = Catalog.builtin().classify(action)
    if target is DEFAULT:
        target = (
            Target("user", "u_2", "Bea Ortiz", "bea@example.com")
            if event_type.expects_target
            else None
        )
    if resource is DEFAULT:
        resource = (
            Resource(event_type.resource_type, f"{event_type.resource_type}_1", "Main")
            if event_type.resource_type is not None
            else None
        )
    return Event(
        tenant_id=tenant_id,
        seq=seq,
        id=fields.pop("id", f"evt_{seq:06d}"),
        action=action,
        category=event_type.category,
        kind=event_type.kind,
        occurred_at=fields.pop("occurred_at", parse_timestamp("2026-03-01T12:00:00.123456Z")),
        received_at=fields.pop("received_at", parse_timestamp("2026-03-01T12:00:01.000001Z")),
        outcome=outcome,
        actor=actor or Actor("user", "u_1", "admin", "Ada Admin", "ada@example.com"),
        target=target,
        resource=resource,
        **fields,
    )


def leaf_hashes(size: int) -> list[bytes]:
    """The test log's leaf hashes: the same prefix at every size, so trees are consistent."""
    return [bytes([i % 256]) * 32 for i in range(size)]


def signed_checkpoint(size: int, tenant_id: str = TENANT) -> str:
    """A checkpoint note for a tree of ``size`` leaves, signed by the test log key."""
    root = root_from_leaf_hashes(leaf_hashes(size))
    return CheckpointSigner(SIGNER).sign(
        Checkpoint(origin_for_tenant(tenant_id), size, root), previous=None
    )


def make_batch(
    events: Sequence[Event], *, first: int | None = None, last: int | None = None
) -> Batch:
    first_seq = events[0].seq if first is None else first
    last_seq = events[-1].seq if last is None else last
    return Batch.of(TENANT, first_seq, last_seq, events, signed_checkpoint(last_seq + 1))
