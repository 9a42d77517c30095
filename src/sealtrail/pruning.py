"""Pruning a tenant's log under its retention policy and legal holds.

``plan`` finds where a prune may end: it walks the events after the last prune
in ``seq`` order and stops at the first one that must stay (``retention``), or
at the newest signed checkpoint. ``Pruner`` then does it, per tenant, in this
order, so that a crash at any point leaves a log that verifies and a run that
can be resumed:

1. the range may first be written to an archive (a normal export bundle);
2. the prune is announced in the tenant's own log (``audit_log.events_pruned``
   with the range and counts), then recorded (``EventStore.add_prune``: the
   database refuses a prune not announced first, or not within a checkpoint);
3. on an engine with partitions, the leaf hashes of the range are kept and
   every partition all of whose rows are pruned is dropped whole;
4. the rest goes in bounded batches (``PRUNE_BATCH`` per transaction), each
   keeping the leaf hashes of its rows as level-0 tree nodes before deleting.

Every tree node above the leaves stays, and so does every pruned event's leaf
hash (32 bytes that reveal nothing of the event), so every inclusion proof of
an event that remains and every consistency proof between checkpoints still
computes, and ``sealtrail verify`` rebuilds the whole tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sealtrail.events import format_timestamp
from sealtrail.limits import PRUNE_BATCH, PRUNE_SCAN
from sealtrail.retention import Hold, Kept, Prune, RetentionPolicy, first_kept
from sealtrail.store.base import EventStore

Progress = Callable[[int], None]


@dataclass
class TenantPrune:
    """What pruning one tenant did (or, in a dry run, would do)."""

    tenant_id: str
    policy: str
    first_seq: int
    below: int
    tree_size: int
    stopped: Kept | None = None
    record_seq: int | None = None
    deleted: int = 0
    holds: int = 0
    archived: bool = False
    skipped: str | None = None

    @property
    def events(self) -> int:
        return max(self.below - self.first_seq, 0)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.tenant_id}: {self.skipped}"
        if not self.events:
            head = f"{self.tenant_id}: nothing to prune ({self.policy})"
        else:
            head = (
                f"{self.tenant_id}: events {self.first_seq}..{self.below - 1} "
                f"({self.events:,}) {'pruned' if self.record_seq is not None else 'would go'}"
                f" ({self.policy})"
            )
        if self.stopped is not None:
            head += f"; kept from seq {self.stopped.seq}: {self.stopped.why}"
        return head

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "policy": self.policy,
            "first_seq": self.first_seq,
            "last_seq": self.below - 1 if self.events else None,
            "events": self.events,
            "tree_size": self.tree_size,
            "kept_from": None
            if self.stopped is None
            else {"seq": self.stopped.seq, "why": self.stopped.why},
            "active_holds": self.holds,
            "record_seq": self.record_seq,
            "events_deleted": self.deleted,
            "archived": self.archived,
            "skipped": self.skipped,
        }


@dataclass
class PruneReport:
    """A prune run over one or more tenants."""

    dry_run: bool
    at: int
    tenants: list[TenantPrune] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(t.events for t in self.tenants)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "at": format_timestamp(self.at),
            "events": self.events,
            "tenants": [t.to_dict() for t in self.tenants],
            "partitions_dropped": self.partitions_dropped,
        }


def pruned_below(store: EventStore, tenant_id: str) -> int:
    """The tenant's minimum index: events below it are pruned (or being pruned)."""
    prunes = store.prunes(tenant_id)
    return prunes[-1].below if prunes else 0


def _rows(store: EventStore, tenant_id: str, start: int, stop: int) -> Iterator[Any]:
    while start < stop:
        rows = store.retention_rows(tenant_id, start, min(PRUNE_SCAN, stop - start))
        if not rows:
            return
        for row in rows:
            if row.seq >= stop:
                return
            yield row
        start = rows[-1].seq + 1


def plan(
    store: EventStore,
    tenant_id: str,
    policy: RetentionPolicy,
    holds: list[Hold],
    now: int,
    signed_size: int,
) -> TenantPrune:
    """Where a prune of the tenant may end now: before its first event that must stay.

    Only events within the newest signed checkpoint (``signed_size``) may go.
    """
    first = pruned_below(store, tenant_id)
    found = TenantPrune(tenant_id, policy.describe(), first, first, signed_size, holds=len(holds))
    if policy.keeps_forever:
        return found
    kept = first_kept(_rows(store, tenant_id, first, signed_size), policy, holds, now)
    found.stopped = kept
    found.below = signed_size if kept is None else kept.seq
    return found


def delete(store: EventStore, tenant_id: str, progress: Progress | None = None) -> int:
    """Delete every event below the tenant's recorded prune, in bounded batches."""
    deleted = 0
    while batch := store.prune_events(tenant_id, PRUNE_BATCH):
        deleted += batch
        if progress is not None:
            progress(batch)
    return deleted


def keep_leaves(store: EventStore, tenant_id: str, start: int, stop: int) -> None:
    """Keep the leaf hashes of ``start``..``stop - 1`` as level-0 nodes, in batches."""
    for lo in range(start, stop, PRUNE_BATCH):
        store.keep_leaves(tenant_id, lo, min(lo + PRUNE_BATCH, stop))


def finish(store: EventStore, tenant_id: str, at: int) -> None:
    """Mark every unfinished prune of the tenant done: its rows are gone."""
    for prune in store.prunes(tenant_id):
        if prune.finished_at is None:
            store.prune_progress(tenant_id, prune.below, prune.below - prune.first_seq, at)


def unfinished(store: EventStore, tenant_id: str) -> list[Prune]:
    return [p for p in store.prunes(tenant_id) if p.finished_at is None]
