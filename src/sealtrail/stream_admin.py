"""Streams as their owners see them: what ``/v1/streams`` and ``sealtrail streams`` show.

``AuditLog`` does the work (scope, tenant, recording each change); this module holds
the shapes it answers with and the small rules around them:

- a stream's **status** is ``paused`` when its owner paused it, ``failing`` when its
  deliveries have failed for longer than ``stream_failing_after`` (or in a way retrying
  cannot cure), and ``active`` otherwise;
- ``delivery`` shows where its cursor is (``next_seq``), how far behind the log it is
  (``lag``), and the current run of failures (``attempts``, ``last_error``,
  ``failing_since``, ``retry_at``);
- a generated HMAC webhook **secret** is shown once, when made (created or rotated);
  afterwards only the signing scheme, how many keys sign and when the rotated ones
  retire. An Ed25519 (``v1a``) stream shows its public key, always, never the private one;
- what is **recorded** in the tenant's log about a change never holds the secret, and a
  webhook URL only without its query string and fragment (where tokens hide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx

from sealtrail.events import format_timestamp
from sealtrail.limits import StreamState
from sealtrail.store.base import ConsumerState, DeliveryRecord, StreamRecord
from sealtrail.streams.config import SecretSet, StreamSpec, WebhookDestination

__all__ = [
    "CONSUMER_PREFIX",
    "CreatedStream",
    "StreamDelivery",
    "StreamView",
    "consumer_name",
    "recorded_destination",
]

CONSUMER_PREFIX: Final = "stream:"


def consumer_name(stream_id: str) -> str:
    """The stream's row in ``log_consumers``: its cursor, lease and failures."""
    return CONSUMER_PREFIX + stream_id


def _time(micros: int | None) -> str | None:
    return None if not micros else format_timestamp(micros)


def recorded_destination(spec: StreamSpec) -> dict[str, Any]:
    """The destination as the tenant's log records it: no query string, no fragment."""
    destination = spec.destination
    if isinstance(destination, WebhookDestination):
        url = httpx.URL(destination.url).copy_with(query=None, fragment=None)
        return {"type": "webhook", "url": str(url)}
    return destination.to_dict()


@dataclass(frozen=True, slots=True)
class StreamView:
    """One stream, with how its delivery is going."""

    record: StreamRecord
    spec: StreamSpec
    state: ConsumerState | None
    tree_size: int
    secrets: SecretSet

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def status(self) -> StreamState:
        if self.record.status == "paused":
            return "paused"
        if self.state is not None and self.state.failing:
            return "failing"
        return "active"

    def to_dict(self, now: int) -> dict[str, Any]:
        state = self.state
        next_seq = self.tree_size if state is None else state.next_seq
        body: dict[str, Any] = {
            "id": self.record.id,
            **self.spec.to_dict(),
            "status": self.status,
            "created_at": format_timestamp(self.record.created_at),
            "updated_at": format_timestamp(self.record.updated_at),
            "delivery": {
                "next_seq": next_seq,
                "lag": max(0, self.tree_size - next_seq),
                "attempts": 0 if state is None else state.attempts,
                "last_error": None if state is None else state.last_error,
                "failing_since": None if state is None else _time(state.failing_since),
                "retry_at": None if state is None or not state.attempts else _time(state.retry_at),
            },
        }
        if isinstance(self.spec.destination, WebhookDestination):
            body["signing"] = self.secrets.signing()
            body["signing_keys"] = self.secrets.summary(now // 1_000_000)
        return body


@dataclass(frozen=True, slots=True)
class CreatedStream:
    """A stream just created (or its key just rotated): the only time a generated HMAC
    secret shows."""

    view: StreamView
    secret: str | None

    def to_dict(self, now: int) -> dict[str, Any]:
        body = self.view.to_dict(now)
        if self.secret is not None:
            body["secret"] = self.secret
        return body


@dataclass(frozen=True, slots=True)
class StreamDelivery:
    """One attempt of the delivery log."""

    record: DeliveryRecord

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.id,
            "at": format_timestamp(r.at),
            "kind": r.kind,
            "first_seq": r.first_seq,
            "last_seq": r.last_seq,
            "events": r.events,
            "attempt": r.attempt,
            "delivered": r.delivered,
            "status": r.status,
            "latency_ms": round(r.duration_us / 1000, 1),
            "error": r.error,
        }
