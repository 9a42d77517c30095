"""The detection consumer on both engines: the crash window between its transaction and
the follower's cursor, two processes on one range, state bounded in the database."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.detections import evaluate
from sealtrail.detections.consumer import DetectionConsumer
from sealtrail.events import Actor, Event, EventInput, Resource
from sealtrail.follower import Follower, LogBatch
from sealtrail.query import Page, parse_phrase
from sealtrail.store.base import DetectionCommit, StateChange

from .events import MINUTE, MONDAY

OPERATOR = Principal.operator("acme")


def failures(audit_log: AuditLog, count: int, start: int = 0, ip: str = "10.0.0.1") -> None:
    audit_log.append(
        OPERATOR,
        [
            EventInput(
                action="auth.login",
                actor=Actor("user", f"u{start + i}"),
                outcome="failure",
                ip=ip,
                occurred_at=MONDAY + (start + i) * 1_000_000,
            )
            for i in range(count)
        ],
    )


def follower(audit_log: AuditLog, consumer: DetectionConsumer, owner: str) -> Follower:
    follower = audit_log.follower("acme", consumer.name, consumer, owner=owner)
    follower.batch_size = 4
    return follower


def drain(f: Follower) -> None:
    while f.step().result != "idle":
        pass


def consumer_of(audit_log: AuditLog) -> DetectionConsumer:
    [(_, _, consumer)] = audit_log.detection_consumers()
    assert isinstance(consumer, DetectionConsumer)
    return consumer


def test_a_crash_after_the_commit_neither_misses_nor_fires_twice(log: AuditLog) -> None:
    consumer = consumer_of(log)
    crashes: list[int] = []

    def crash_once(batch: LogBatch) -> None:
        if batch.first_seq == 8 and not crashes:  # the batch that opens the alert
            crashes.append(batch.first_seq)
            raise RuntimeError("killed between the commit and the cursor")

    consumer._on_committed = crash_once
    failures(log, 12)
    f = follower(log, consumer, "one")
    assert f.step().result == "delivered"  # seqs 0-3
    assert f.step().result == "delivered"  # 4-7
    assert f.step().result == "failed"  # 8-11: committed, then "crashed"
    state = log._store.get_consumer("acme", consumer.name)
    assert state is not None and state.next_seq == 8 and state.attempts == 1
    log._store.move_consumer("acme", consumer.name, 8, 0)  # retry now, not after the backoff
    drain(f)
    alerts = log.alerts(OPERATOR)
    assert crashes == [8]
    assert [(a.rule, a.event_count) for a in alerts] == [("failed-logins-per-ip", 12)]
    query = parse_phrase("action:audit_log.alert_opened")
    opened = log.search(OPERATOR, query, Page(limit=200)).events
    assert [e.id for e in opened] == [f"alert-{alerts[0].id}"]


def test_two_processes_on_one_range_write_it_once(log: AuditLog) -> None:
    """A process that stalled past its lease and a process that took over both evaluate
    the same range: the transaction of the second to finish writes nothing."""
    failures(log, 12)
    first, second = consumer_of(log), consumer_of(log)
    events = tuple(log._store.get_events_by_seq("acme", range(12)))
    batch = LogBatch("acme", first.name, 0, 11, events)
    assert first(batch).ok and second(batch).ok
    alerts = log.alerts(OPERATOR)
    assert [(a.rule, a.event_count) for a in alerts] == [("failed-logins-per-ip", 12)]
    store = log._store
    assert store.detection_progress("acme", first.name) == 12
    stale = DetectionCommit(state=[StateChange("r@1", "k", "{}", 0)])
    assert not store.commit_detections("acme", first.name, 0, 12, stale, 0)
    assert store.detection_state("acme", [("r@1", "k")]) == {}


def test_several_followers_share_the_work_by_lease(log: AuditLog) -> None:
    failures(log, 30, ip="10.0.0.1")
    failures(log, 30, start=100, ip="10.0.0.2")
    consumer = consumer_of(log)
    a, b = follower(log, consumer, "a"), follower(log, consumer, "b")
    for _ in range(40):
        a.step()
        b.step()
        log._store.release_lease("acme", consumer.name, "a")  # hand over every step
    drain(a)
    drain(b)
    alerts = sorted((a.group["ip"], a.event_count) for a in log.alerts(OPERATOR))
    assert alerts == [("10.0.0.1", 30), ("10.0.0.2", 30)]


def test_state_in_the_database_stays_bounded(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate, "MAX_WINDOW_GROUPS", 7)
    log.append(
        OPERATOR,
        [
            EventInput(
                action="auth.login",
                actor=Actor("user", f"u{i}"),
                outcome="failure",
                ip=f"10.1.{i // 200}.{i % 200}",
                occurred_at=MONDAY + i * MINUTE // 60,
            )
            for i in range(60)
        ],
    )
    drain(follower(log, consumer_of(log), "one"))
    rows = log._store.detection_state(
        "acme",
        [
            (rule, key)
            for rule in {f"{r.name}@{r.version}" for r in log.detection_rules(OPERATOR)}
            for key in [f'["u{i}"]' for i in range(60)] + [f'["10.1.0.{i}"]' for i in range(60)]
        ],
    )
    per_rule: dict[str, int] = {}
    for rule, _ in rows:
        per_rule[rule.partition("@")[0]] = per_rule.get(rule.partition("@")[0], 0) + 1
    assert per_rule == {"failed-logins-per-actor": 7, "failed-logins-per-ip": 7}


def test_only_events_an_enabled_rule_could_select_are_decoded(log: AuditLog) -> None:
    """Failed sign-ins between app updates (no built-in rule watches those): the detection
    follower decodes the failures only — nor its own alert_opened event — and still
    evaluates the whole log: the alert holds every failure, the progress is at the end."""
    consumer = consumer_of(log)
    for round_ in range(3):
        log.append(
            OPERATOR,
            [
                EventInput(
                    action="app.updated",
                    actor=Actor("user", "builder"),
                    resource=Resource("app", f"a{round_}_{i}"),
                    occurred_at=MONDAY + round_ * MINUTE + i,
                )
                for i in range(5)
            ],
        )
        failures(log, 4, start=4 * round_)
    failure_seqs = [
        e.seq
        for e in log._store.get_events_by_seq("acme", range(log.tree_size("acme")))
        if e.outcome == "failure"
    ]
    assert len(failure_seqs) == 12
    decoded: list[int] = []
    read = log._store.get_events_by_seq

    def counted(tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        decoded.extend(seqs)
        return read(tenant_id, seqs)

    log._store.get_events_by_seq = counted  # type: ignore[method-assign]
    drain(follower(log, consumer, "one"))
    size = log.tree_size("acme")
    assert log._store.detection_progress("acme", consumer.name) == size
    assert decoded == failure_seqs
    assert log._store.get_events_by_seq("acme", [size - 1])[0].action == "audit_log.alert_opened"
    [alert] = log.alerts(OPERATOR)
    assert (alert.rule, alert.event_count, list(alert.event_seqs)) == (
        "failed-logins-per-ip",
        12,
        failure_seqs,
    )


def test_a_disabled_rule_s_events_are_not_decoded(log: AuditLog) -> None:
    consumer = consumer_of(log)
    for name in ("failed-logins-per-actor", "failed-logins-per-ip"):
        log.update_detection(OPERATOR, name, {"enabled": False})
    failures(log, 12)
    decoded: list[int] = []
    read = log._store.get_events_by_seq

    def counted(tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        decoded.extend(seqs)
        return read(tenant_id, seqs)

    log._store.get_events_by_seq = counted  # type: ignore[method-assign]
    drain(follower(log, consumer, "one"))
    assert decoded == []
    assert log._store.detection_progress("acme", consumer.name) == log.tree_size("acme")
    assert log.alerts(OPERATOR) == []
