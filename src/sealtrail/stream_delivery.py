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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sealtrail.events import Event
from sealtrail.follower import LogBatch, Outcome
from sealtrail.streams import (
    JSON_MEDIA_TYPE,
    NDJSON_MEDIA_TYPE,
    Batch,
    DeliveryResult,
    EventEncoder,
    SyslogFormat,
    SyslogTransport,
    WebhookTransport,
    batch_messages,
    json_body,
    ndjson_body,
    seed_page_body,
)

__all__ = [
    "BatchSender",
    "Send",
    "WebhookBody",
    "outcome_of",
    "syslog_sender",
    "webhook_sender",
]

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
    """The follower consumer of one stream."""

    def __init__(
        self,
        send: Send,
        checkpoint: Callable[[], str],
        *,
        select: Callable[[Event], bool] | None = None,
    ) -> None:
        self._send = send
        self._checkpoint = checkpoint
        self._select = select

    def __call__(self, batch: LogBatch) -> Outcome:
        select = self._select
        events = batch.events if select is None else [e for e in batch.events if select(e)]
        delivery = Batch.of(
            batch.tenant_id, batch.first_seq, batch.last_seq, events, self._checkpoint()
        )
        msg_id = f"{batch.consumer}-{batch.first_seq}-{batch.last_seq}"
        return outcome_of(self._send(msg_id, delivery))


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
