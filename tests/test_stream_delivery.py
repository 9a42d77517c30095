"""Stream delivery through the log follower: a real log, a real HTTPS receiver, rsyslog.

The receivers are the documented receiver example (docs/streams.md), which verifies
the signatures and the signed checkpoints and refuses a gap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.follower import Backoff, Follower, LogBatch, Outcome
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.store.base import EventStore
from sealtrail.stream_delivery import BatchSender, outcome_of, syslog_sender, webhook_sender
from sealtrail.streams import (
    DeliveryResult,
    HmacSecret,
    OcsfJson,
    SealtrailJson,
    SyslogFormat,
    SyslogTransport,
    WebhookSigner,
    WebhookTransport,
)
from tests.streams.docs_example import receiver_example
from tests.streams.rsyslog import Rsyslog, start_rsyslog
from tests.streams.webhook_receiver import Receiver
from tests.streams.webhook_receiver import receiver as receiver  # the fixture

OPERATOR = Principal.operator("acme")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'log.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
    )
    audit = AuditLog.open(settings=settings)
    audit.migrate()
    audit.create_tenant("acme")
    try:
        yield audit
    finally:
        audit.close()


@pytest.fixture
def store(log: AuditLog) -> Iterator[EventStore]:
    engine = open_store(log.database_url)
    try:
        yield engine
    finally:
        engine.close()


def ingest(log: AuditLog, count: int, start: int = 0) -> None:
    for first in range(start, start + count, 100):
        events = [
            {
                "id": f"evt_{i}",
                "action": "member.invited" if i % 3 else "auth.login",
                "actor": {"type": "user", "id": f"u_{i % 7}", "email": f"u{i % 7}@example.com"},
                "target": {"type": "user", "id": f"t_{i}"},
            }
            for i in range(first, min(start + count, first + 100))
        ]
        log.ingest(OPERATOR, {"events": events})


def drain(follower: Follower, clock: Clock, limit: int = 200) -> list[str]:
    """Step until idle, letting the fake clock run through each wait."""
    results: list[str] = []
    for _ in range(limit):
        step = follower.step()
        results.append(step.result)
        if step.result == "idle":
            return results
        clock.now += step.wait
    raise AssertionError(f"not idle after {limit} steps: {results[-5:]}")


def checkpoint_of(log: AuditLog) -> Any:
    return lambda: log.checkpoint(OPERATOR).note


def test_outcomes_follow_the_transport_s_report() -> None:
    assert outcome_of(DeliveryResult.ok(status=204)).ok
    slow = outcome_of(DeliveryResult(False, retryable=True, status=429, retry_after=7.0))
    assert (slow.ok, slow.retryable, slow.retry_after) == (False, True, 7.0)
    gone = outcome_of(DeliveryResult(False, status=410, error="410 Gone", gone=True))
    assert (gone.ok, gone.retryable, gone.error) == (False, False, "410 Gone")
    refused = outcome_of(DeliveryResult.failed("certificate", retryable=False))
    assert (refused.ok, refused.retryable) == (False, False)


def test_a_webhook_gets_every_event_once_in_order_through_500s_and_429s(
    log: AuditLog, store: EventStore, receiver: Receiver
) -> None:
    ingest(log, 250)
    receiver.replies = [(500, {}), (429, {"retry-after": "30"}), (204, {}), (503, {})]
    secret = HmacSecret.generate()
    clock = Clock()
    store.add_consumer("acme", "stream:s1", 0, 0)
    transport = WebhookTransport(
        receiver.url, WebhookSigner.of(secret), verify=receiver.cert.client_context()
    )
    sender = BatchSender(webhook_sender(transport, OcsfJson(), "ndjson"), checkpoint_of(log))
    follower = Follower(
        store, "acme", "stream:s1", sender, owner="p1", batch_size=100, clock=clock,
        backoff=Backoff(base=1.0), rng=lambda: 0.0,
    )  # fmt: skip
    with transport:
        first = drain(follower, clock)
        ingest(log, 30, start=250)
        second = drain(follower, clock)
    assert first == ["failed", "failed", "delivered", "failed", "delivered", "delivered", "idle"]
    assert second == ["delivered", "idle"]
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids == [
        "stream:s1-0-99",
        "stream:s1-0-99",
        "stream:s1-0-99",
        "stream:s1-100-199",
        "stream:s1-100-199",
        "stream:s1-200-249",
        "stream:s1-250-279",
    ]
    ns = receiver_example(VERIFIER_KEY=log.verifier_key, WEBHOOK_SECRET=secret.serialize())
    accepting = ns["Receiver"]("acme")
    fresh = [e for r in receiver.received for e in accepting.webhook(r.body, r.headers)]
    assert [e["metadata"]["sequence"] for e in fresh] == list(range(280))
    assert [e["metadata"]["uid"] for e in fresh] == [f"evt_{i}" for i in range(280)]
    state = store.get_consumer("acme", "stream:s1")
    assert state is not None and (state.next_seq, state.attempts, state.failing) == (280, 0, False)


def test_a_filtered_batch_still_covers_its_range(
    log: AuditLog, store: EventStore, receiver: Receiver
) -> None:
    ingest(log, 30)
    secret = HmacSecret.generate()
    store.add_consumer("acme", "stream:logins", 0, 0)
    transport = WebhookTransport(
        receiver.url, WebhookSigner.of(secret), verify=receiver.cert.client_context()
    )
    sender = BatchSender(
        webhook_sender(transport, SealtrailJson()),
        checkpoint_of(log),
        select=lambda e: e.action == "auth.login",
    )
    with transport:
        drain(Follower(store, "acme", "stream:logins", sender, owner="p1", batch_size=20), Clock())
    ns = receiver_example(VERIFIER_KEY=log.verifier_key, WEBHOOK_SECRET=secret.serialize())
    accepting = ns["Receiver"]("acme")
    fresh = [e for r in receiver.received for e in accepting.webhook(r.body, r.headers)]
    assert [e["seq"] for e in fresh] == list(range(0, 30, 3))
    assert accepting.next_seq == 30


def test_a_410_leaves_the_stream_failing_at_its_place(
    log: AuditLog, store: EventStore, receiver: Receiver
) -> None:
    ingest(log, 5)
    receiver.replies = [(410, {})]
    store.add_consumer("acme", "stream:s", 0, 0)
    transport = WebhookTransport(
        receiver.url, WebhookSigner.of(HmacSecret.generate()), verify=receiver.cert.client_context()
    )
    sender = BatchSender(webhook_sender(transport, SealtrailJson()), checkpoint_of(log))
    with transport:
        step = Follower(store, "acme", "stream:s", sender, owner="p1").step()
    assert step.result == "failed"
    assert step.state is not None and step.state.failing and step.state.next_seq == 0
    assert step.state.last_error == "410 Gone: the receiver asked to stop"


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    yield from start_rsyslog(tmp_path / "rsyslog")


@pytest.mark.slow
def test_syslog_through_rsyslog_every_event_once_in_order(
    log: AuditLog, store: EventStore, rsyslog: Rsyslog
) -> None:
    ingest(log, 120)
    store.add_consumer("acme", "stream:syslog", 0, 0)
    with SyslogTransport("127.0.0.1", rsyslog.port) as transport:
        send = syslog_sender(transport, SealtrailJson(), SyslogFormat(hostname="audit-1"))
        follower = Follower(
            store,
            "acme",
            "stream:syslog",
            BatchSender(send, checkpoint_of(log)),
            owner="p1",
            batch_size=50,
        )
        assert drain(follower, Clock()) == ["delivered"] * 3 + ["idle"]
        records = rsyslog.records(120 + 3)
    ns = receiver_example(VERIFIER_KEY=log.verifier_key)
    accepting = ns["Receiver"]("acme")
    fresh = accepting.syslog(records)
    assert [e["seq"] for e in fresh] == list(range(120))
    assert [e["id"] for e in fresh] == [f"evt_{i}" for i in range(120)]


def test_a_consumer_sees_ranges_the_log_holds(log: AuditLog, store: EventStore) -> None:
    """The follower hands the sender whole events of the real log (salts and all)."""
    ingest(log, 3)
    seen: list[LogBatch] = []

    def consumer(batch: LogBatch) -> Outcome:
        seen.append(batch)
        return Outcome.success()

    store.add_consumer("acme", "c", 0, 0)
    Follower(store, "acme", "c", consumer, owner="p1").step()
    (batch,) = seen
    assert [e.id for e in batch.events] == ["evt_0", "evt_1", "evt_2"]
    assert batch.events[0] == log.get_event(OPERATOR, "evt_0")
