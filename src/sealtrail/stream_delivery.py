"""A stream's delivery as a log-follower consumer: a ``LogBatch`` in, a signed delivery out.

``BatchSender`` is the consumer the follower hands each range of the log. It keeps the
range's events that the stream selects, wraps them in a ``streams.Batch`` with the latest
signed checkpoint (which covers the range: the follower reads only below the tree size,
and the checkpoint is asked for after the read), sends it with one of the senders below,
and turns the transport's ``DeliveryResult`` into the follower's ``Outcome``:
delivered → move on; retryable → back off, honouring ``Retry-After``; 410 Gone and other
permanent failures → failing at once, retried at the longest backoff (never dropped).

Each delivery's ``webhook-id`` is ``<consumer>-<first_seq>-<last_seq>``: the same on every
retry of that range, so a receiver deduplicates by it or by the events' ``id``.

With ``consistency``, a batch also carries the RFC 6962 proof that its checkpoint's tree
extends the one of the last batch this sender delivered (kept in memory: the first batch
after a process starts, or after another process took the stream over, has none).

``StreamConsumer`` is a configured stream (``streams.config.StreamSpec``) made runnable:
its transport, format and signer, a ``BatchSender``, and a hook that records every
attempt (the delivery log). ``send_test`` sends one signed test message.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Collection
from typing import Literal

import orjson

from sealtrail.events import Event
from sealtrail.follower import LogBatch, Outcome
from sealtrail.streams import (
    JSON_MEDIA_TYPE,
    NDJSON_MEDIA_TYPE,
    Batch,
    Cef,
    ConsistencyProof,
    DeliveryResult,
    EventEncoder,
    OcsfJson,
    SealtrailJson,
    SyslogFormat,
    SyslogTransport,
    WebhookSigner,
    WebhookTransport,
    batch_messages,
    json_body,
    ndjson_body,
    seed_page_body,
)
from sealtrail.streams.config import StreamSpec, SyslogDestination
from sealtrail.streams.guard import DestinationGuard

__all__ = [
    "TEST_TYPE",
    "Attempt",
    "BatchSender",
    "Send",
    "StreamConsumer",
    "WebhookBody",
    "encoder_for",
    "outcome_of",
    "send_test",
    "syslog_sender",
    "webhook_sender",
]

log = logging.getLogger(__name__)

TEST_TYPE = "sealtrail.test"
"""The ``type`` of a stream's test message (``POST /v1/streams/{id}/test``)."""

Send = Callable[[str, Batch], DeliveryResult]
"""Deliver one batch; the first argument is the delivery's stable id."""

WebhookBody = Literal["json", "ndjson", "seed"]


def outcome_of(result: DeliveryResult) -> Outcome:
    """A transport's report, as the follower reads it."""
    if result.delivered:
        return Outcome.success()
    return Outcome.failure(
        result.error or "not delivered",
        retry_after=result.retry_after,
        retryable=result.retryable and not result.gone,
    )


class BatchSender:
    """The follower consumer of one stream.

    ``select`` keeps events one by one; ``matching`` instead names the seqs of a range
    that the stream's filter matches (the store reads the filter exactly as search does).
    ``consistency(old_size, new_size)`` proves a checkpoint extends an earlier one.
    """

    def __init__(
        self,
        send: Send,
        checkpoint: Callable[[], str],
        *,
        select: Callable[[Event], bool] | None = None,
        matching: Callable[[int, int], Collection[int]] | None = None,
        consistency: Callable[[int, int], ConsistencyProof] | None = None,
    ) -> None:
        self._send = send
        self._checkpoint = checkpoint
        self._select = select
        self._matching = matching
        self._consistency = consistency
        self._acknowledged: int | None = None

    def __call__(self, batch: LogBatch) -> Outcome:
        events: list[Event] | tuple[Event, ...] = batch.events
        if self._select is not None:
            events = [e for e in events if self._select(e)]
        if self._matching is not None:
            keep = set(self._matching(batch.first_seq, batch.last_seq))
            events = [e for e in events if e.seq in keep]
        delivery = Batch.of(
            batch.tenant_id, batch.first_seq, batch.last_seq, events, self._checkpoint()
        )
        acknowledged = self._acknowledged
        if self._consistency is not None and acknowledged is not None:
            size = delivery.tree_size
            if acknowledged <= size:
                proof = self._consistency(acknowledged, size)
                delivery = Batch.of(
                    batch.tenant_id,
                    batch.first_seq,
                    batch.last_seq,
                    events,
                    delivery.checkpoint,
                    proof,
                )
        msg_id = f"{batch.consumer}-{batch.first_seq}-{batch.last_seq}"
        outcome = outcome_of(self._send(msg_id, delivery))
        if outcome.ok:
            self._acknowledged = delivery.tree_size
        return outcome


def webhook_sender(
    transport: WebhookTransport, encoder: EventEncoder, body: WebhookBody = "json"
) -> Send:
    """POST each batch as a JSON document, NDJSON, or the seed endpoint's page."""

    def send(msg_id: str, batch: Batch) -> DeliveryResult:
        if body == "ndjson":
            return transport.send(
                ndjson_body(batch, encoder), msg_id=msg_id, content_type=NDJSON_MEDIA_TYPE
            )
        data = seed_page_body(batch) if body == "seed" else json_body(batch, encoder)
        return transport.send(data, msg_id=msg_id, content_type=JSON_MEDIA_TYPE)

    return send


def syslog_sender(transport: SyslogTransport, encoder: EventEncoder, fmt: SyslogFormat) -> Send:
    """Write each batch as RFC 5424 messages, the batch message last."""

    def send(msg_id: str, batch: Batch) -> DeliveryResult:
        return transport.send(batch_messages(batch, encoder, fmt))

    return send


def encoder_for(spec: StreamSpec) -> EventEncoder:
    """The event encoding a stream's format names."""
    if spec.format == "ocsf":
        return OcsfJson()
    if spec.format == "cef":
        return Cef()
    return SealtrailJson()


Attempt = Callable[[Batch, DeliveryResult], None]
"""Told of every attempt to deliver a batch (the delivery log)."""


def _transport(
    spec: StreamSpec,
    signer: WebhookSigner | None,
    tls: ssl.SSLContext | None,
    hostname: str,
    guard: DestinationGuard | None = None,
) -> tuple[WebhookTransport | SyslogTransport, Send]:
    encoder = encoder_for(spec)
    destination = spec.destination
    if isinstance(destination, SyslogDestination):
        context = (tls or ssl.create_default_context()) if destination.tls else None
        syslog = SyslogTransport(destination.host, destination.port, tls=context, guard=guard)
        return syslog, syslog_sender(syslog, encoder, SyslogFormat(hostname=hostname))
    if signer is None:
        raise ValueError("a webhook stream needs its signer")
    webhook = WebhookTransport(destination.url, signer, verify=tls or True, guard=guard)
    body: WebhookBody = "ndjson" if spec.format == "ndjson" else "json"
    return webhook, webhook_sender(webhook, encoder, body)


class StreamConsumer:
    """A configured stream as a follower consumer; ``close`` ends its connection.

    ``current()`` says whether the stream is still active with these settings; it is
    asked before every batch, so a pause or a change takes effect before the next send.
    """

    def __init__(
        self,
        spec: StreamSpec,
        signer: WebhookSigner | None,
        *,
        checkpoint: Callable[[], str],
        matching: Callable[[int, int], Collection[int]] | None = None,
        consistency: Callable[[int, int], ConsistencyProof] | None = None,
        attempt: Attempt | None = None,
        current: Callable[[], bool] | None = None,
        tls: ssl.SSLContext | None = None,
        hostname: str = "-",
        guard: DestinationGuard | None = None,
    ) -> None:
        self._transport, send = _transport(spec, signer, tls, hostname, guard)
        self._current = current

        def recorded(msg_id: str, batch: Batch) -> DeliveryResult:
            result = send(msg_id, batch)
            if attempt is not None:
                try:
                    attempt(batch, result)
                except Exception:  # the delivery log must never stop a delivery
                    log.exception("could not record a delivery attempt")
            return result

        self._sender = BatchSender(recorded, checkpoint, matching=matching, consistency=consistency)

    def __call__(self, batch: LogBatch) -> Outcome:
        if self._current is not None and not self._current():
            # Paused, changed or deleted since this consumer was made: send nothing; the
            # pool stops this follower and starts one with the new settings, if any.
            return Outcome.failure("the stream was paused or changed", retry_after=1.0)
        return self._sender(batch)

    def close(self) -> None:
        self._transport.close()


def send_test(
    spec: StreamSpec,
    signer: WebhookSigner | None,
    *,
    tenant_id: str,
    stream_id: str,
    tls: ssl.SSLContext | None = None,
    hostname: str = "-",
    clock: Callable[[], float] = time.time,
    guard: DestinationGuard | None = None,
) -> DeliveryResult:
    """Send one signed test message: ``{"type": "sealtrail.test", "tenant_id", "stream_id",
    "name", "format", "sent_at"}`` — a JSON webhook body, or one syslog message (MSGID
    ``test``). It carries no events and moves no cursor."""
    now = clock()
    body = {
        "type": TEST_TYPE,
        "tenant_id": tenant_id,
        "stream_id": stream_id,
        "name": spec.name,
        "format": spec.format,
        "sent_at": int(now),
    }
    transport, _ = _transport(spec, signer, tls, hostname, guard)
    try:
        if isinstance(transport, WebhookTransport):
            msg_id = f"stream_test-{stream_id}-{int(now * 1000)}"
            return transport.send(orjson.dumps(body), msg_id=msg_id, content_type=JSON_MEDIA_TYPE)
        message = SyslogFormat(hostname=hostname).message(
            severity=6,
            timestamp="-",
            msgid="test",
            structured_data=[("sealtrail-test", [("tenant", tenant_id), ("stream", stream_id)])],
            msg=orjson.dumps(body).decode("utf-8"),
        )
        return transport.send([message])
    finally:
        transport.close()
