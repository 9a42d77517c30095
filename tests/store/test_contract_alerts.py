"""The store's account filter on alerts, on each engine, with every statement checked by
the Citus rule (tests/store/citus.py): an alert is shown for some accounts only when its
every event is listed and in them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import Actor, EventInput
from sealtrail.settings import Settings
from sealtrail.store.base import EventStore

OPERATOR = Principal.operator("acme")
MONDAY = 1_772_445_600_000_000  # 2026-03-02T10:00:00Z


def _deletions(who: str, accounts: Sequence[str | None], start: int) -> list[EventInput]:
    return [
        EventInput(
            action="app.deleted",
            id=f"{who}-{i}",
            actor=Actor("user", f"usr_{who}", email=f"{who}@acme.test"),
            account_id=account,
            occurred_at=start + i * 1_000_000,
        )
        for i, account in enumerate(accounts)
    ]


def test_alerts_are_filtered_by_the_accounts_of_all_their_events(
    store: EventStore, tmp_path: Path
) -> None:
    log = AuditLog(store, settings=Settings(signing_key_file=str(tmp_path / "signing.key")))
    log.create_tenant("acme")
    log.create_tenant("other")
    log.append(OPERATOR, _deletions("ann", ["acc_a"] * 20, MONDAY))
    log.append(OPERATOR, _deletions("bob", ["acc_a"] * 19 + ["acc_b"], MONDAY + 10**9))
    for tenant_id, name, consumer in log.detection_consumers():
        follower = log.follower(tenant_id, name, consumer, owner="test")
        while follower.step().result != "idle":
            pass
    everything = {a.group["actor"]: a for a in store.list_alerts("acme")}
    ann, bob = everything["ann@acme.test"], everything["bob@acme.test"]

    assert [a.id for a in store.list_alerts("acme", accounts={"acc_a"})] == [ann.id]
    assert store.list_alerts("acme", accounts={"acc_b"}) == []
    assert store.list_alerts("acme", accounts=set()) == []
    assert {a.id for a in store.list_alerts("acme", accounts={"acc_a", "acc_b"})} == {
        ann.id,
        bob.id,
    }
    assert store.list_alerts("other", accounts={"acc_a"}) == []
    assert store.get_alert("acme", ann.id, {"acc_a"}) == ann
    assert store.get_alert("acme", bob.id, {"acc_a"}) is None
    assert store.get_alert("other", ann.id, {"acc_a"}) is None
    seqs = list(ann.event_seqs) + list(bob.event_seqs)
    marks = store.alerts_for_seqs("acme", seqs, {"acc_a"})
    assert set(marks) == set(ann.event_seqs)
    assert set(store.alerts_for_seqs("acme", seqs)) == set(seqs)
    assert store.alerts_for_seqs("acme", seqs, set()) == {}
