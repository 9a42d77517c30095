"""A log follower (a stream, a detection) whose cursor lies in a pruned prefix goes on
from the first event kept, instead of stopping at the hole retention left."""

from __future__ import annotations

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import InconsistentTree
from sealtrail.follower import Follower, LogBatch, Outcome, ShapeFilter
from sealtrail.retention import RetentionPolicy

from .conftest import event, write

OPERATOR = Principal.operator("acme")


class Seen:
    def __init__(self) -> None:
        self.batches: list[LogBatch] = []

    def __call__(self, batch: LogBatch) -> Outcome:
        self.batches.append(batch)
        return Outcome.success()


class SeenByShape(Seen):
    """The same, as a ``Selective`` consumer: the follower reads the range's shapes first."""

    def shape_filter(self) -> ShapeFilter:
        return lambda shape: True


def _follower(log: AuditLog, consumer: Seen, name: str = "test:after-prune") -> Follower:
    store = log._store
    if store.get_consumer("acme", name) is None:
        store.add_consumer("acme", name, 0, 0)
    return Follower(store, "acme", name, consumer, owner="test", batch_size=10)


@pytest.mark.parametrize("kind", [Seen, SeenByShape])
def test_a_consumer_behind_a_pruned_prefix_resumes_at_the_first_kept_event(
    log: AuditLog, kind: type[Seen]
) -> None:
    write(log, [event(100 - i) for i in range(30)])  # 30 events, 100 to 71 days ago
    write(log, [event(0.5) for _ in range(4)])
    seen = kind()
    follower = _follower(log, seen)
    assert follower.step().result == "delivered"  # seqs 0..9, before the prune
    log.set_retention(OPERATOR, RetentionPolicy(80))
    report = log.prune()
    (pruned,) = report.tenants
    assert pruned.below > 10  # the consumer's cursor now lies in the pruned prefix
    while follower.step().result == "delivered":
        pass
    seqs = [e.seq for b in seen.batches for e in b.events]
    assert seqs[:10] == list(range(10))
    assert seqs[10] == pruned.below
    assert seqs[10:] == list(range(pruned.below, log.tree_size("acme")))
    state = log._store.get_consumer("acme", "test:after-prune")
    assert state is not None and state.next_seq == log.tree_size("acme")


def test_a_hole_no_prune_explains_is_still_an_inconsistent_tree(log: AuditLog) -> None:
    write(log, [event(1) for _ in range(5)])
    follower = _follower(log, Seen())
    store = log._store
    missing = store.get_events_by_seq

    def without_seq_2(tenant_id: str, seqs: object) -> list:  # type: ignore[type-arg]
        return [e for e in missing(tenant_id, seqs) if e.seq != 2]  # type: ignore[arg-type]

    store.get_events_by_seq = without_seq_2  # type: ignore[method-assign]
    with pytest.raises(InconsistentTree):
        follower.step()
