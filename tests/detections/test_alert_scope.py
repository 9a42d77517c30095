"""Who sees which alert: a principal limited to some accounts (an account admin's viewer
session) sees exactly the alerts whose every event is listed and in its accounts, and
nothing of the others — not their ids, events, summaries or marks. Who may acknowledge."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from sealtrail.audit_log import AuditLog, alert_dict
from sealtrail.auth import Principal
from sealtrail.errors import NotFound, PermissionDenied
from sealtrail.events import Actor, EventInput
from sealtrail.query import EventQuery
from sealtrail.store.base import AlertRecord

from .events import MINUTE, MONDAY

OPERATOR = Principal.operator("acme")


def viewer(role: str, accounts: set[str] | None = None) -> Principal:
    return Principal(
        "acme",
        "viewer",
        Actor("user", f"usr_{role}", role=role, email=f"{role}@acme.test"),
        scopes=frozenset({"events:read"}),
        accounts=None if accounts is None else frozenset(accounts),
        role=role,
        session=f"ses_{role}",
    )


def deletions(
    who: str, accounts: Sequence[str | None], start: int, batch: int = 0
) -> list[EventInput]:
    return [
        EventInput(
            action="app.deleted",
            id=f"{who}-{batch * len(accounts) + i}",
            actor=Actor("user", f"usr_{who}", email=f"{who}@acme.test"),
            account_id=account,
            occurred_at=start + i * 1_000_000,
        )
        for i, account in enumerate(accounts)
    ]


def evaluate(audit_log: AuditLog) -> None:
    for tenant_id, name, consumer in audit_log.detection_consumers():
        follower = audit_log.follower(tenant_id, name, consumer, owner="test")
        while follower.step().result != "idle":
            pass


def by_actor(alerts: list[AlertRecord]) -> dict[str, AlertRecord]:
    return {a.group["actor"]: a for a in alerts if a.rule == "mass-deletion"}


@pytest.fixture
def planted(log: AuditLog) -> dict[str, AlertRecord]:
    """Four mass deletions (20 within 10 minutes opens one): ann's all in acc_a, bob's
    in acc_a and one in acc_b, cat's in no account, dan's 120 in acc_a (more than an
    alert lists)."""
    log.append(OPERATOR, deletions("ann", ["acc_a"] * 20, MONDAY))
    log.append(OPERATOR, deletions("bob", ["acc_a"] * 19 + ["acc_b"], MONDAY + 20 * MINUTE))
    log.append(OPERATOR, deletions("cat", [None] * 20, MONDAY + 40 * MINUTE))
    for part in range(3):
        start = MONDAY + (60 + part) * MINUTE
        log.append(OPERATOR, deletions("dan", ["acc_a"] * 40, start, batch=part))
    evaluate(log)
    alerts = log.alerts(OPERATOR, limit=50)
    found = by_actor(alerts)
    assert set(found) == {"ann@acme.test", "bob@acme.test", "cat@acme.test", "dan@acme.test"}
    return found


def test_an_account_admin_sees_only_alerts_wholly_in_its_accounts(
    log: AuditLog, planted: dict[str, AlertRecord]
) -> None:
    ann, bob = planted["ann@acme.test"], planted["bob@acme.test"]
    dan = planted["dan@acme.test"]
    assert dan.event_count == 120 and len(dan.event_seqs) == 100

    only_a = viewer("account_admin", {"acc_a"})
    assert [a.id for a in log.alerts(only_a)] == [ann.id]
    assert log.alert(only_a, ann.id).event_ids == ann.event_ids
    for hidden in (bob, planted["cat@acme.test"], dan):
        with pytest.raises(NotFound):
            log.alert(only_a, hidden.id)
        with pytest.raises(NotFound):  # nor may it page from one
            log.alerts(only_a, before=hidden.id)
    assert log.alerts(viewer("account_admin", {"acc_b"})) == []
    both = viewer("account_admin", {"acc_a", "acc_b"})
    assert {a.id for a in log.alerts(both)} == {ann.id, bob.id}
    assert {a.id for a in log.alerts(both, status="open", limit=1)} <= {ann.id, bob.id}
    assert log.alerts(viewer("account_admin", set())) == []
    # A tenant admin sees all four.
    assert len(by_actor(log.alerts(viewer("admin")))) == 4


def test_nothing_of_another_accounts_alert_reaches_an_account_admin(
    log: AuditLog, planted: dict[str, AlertRecord]
) -> None:
    only_a = viewer("account_admin", {"acc_a"})
    shown = json.dumps([alert_dict(a) for a in log.alerts(only_a)])
    for hidden in ("bob", "cat", "dan"):
        assert hidden not in shown
        assert planted[f"{hidden}@acme.test"].id not in shown
    # The marks on rows: bob's events in acc_a are shown to it, but not as alerted.
    events = [e for chunk in log.stream(only_a, EventQuery(order="asc")) for e in chunk]
    assert {e.actor.id for e in events} == {"usr_ann", "usr_bob", "usr_dan"}
    marks = log.alert_marks(only_a, events)
    assert set(marks) == {f"ann-{i}" for i in range(20)}
    assert all(ids == [planted["ann@acme.test"].id] for ids in marks.values())
    everything = log.alert_marks(viewer("owner"), events)
    assert "bob-0" in everything and "dan-0" in everything


def test_only_tenant_admins_and_the_scope_acknowledge(
    log: AuditLog, planted: dict[str, AlertRecord]
) -> None:
    ann = planted["ann@acme.test"]
    for refused in (viewer("account_admin", {"acc_a"}), viewer("member", set())):
        with pytest.raises(PermissionDenied):
            log.acknowledge_alert(refused, ann.id)
    assert log.acknowledge_alert(viewer("admin"), ann.id).status == "acknowledged"
    resolved = log.resolve_alert(viewer("owner"), ann.id)
    assert (resolved.status, resolved.resolved_by) == ("resolved", "owner@acme.test")
    # Each recorded in the tenant's log, by the viewer who did it.
    recorded = [
        (e.action, e.actor.email)
        for chunk in log.stream(OPERATOR, EventQuery(order="asc"))
        for e in chunk
        if e.action in ("audit_log.alert_acknowledged", "audit_log.alert_resolved")
    ]
    assert recorded == [
        ("audit_log.alert_acknowledged", "admin@acme.test"),
        ("audit_log.alert_resolved", "owner@acme.test"),
    ]
