"""Stored-looking events for the evaluator's tests."""

from __future__ import annotations

from typing import Any

from sealtrail.catalog import Catalog
from sealtrail.events import Actor, Event, parse_timestamp

MONDAY = parse_timestamp("2026-03-02T10:00:00Z")
MINUTE = 60_000_000
DAY = 24 * 60 * MINUTE
_CATALOG = Catalog.builtin()


class Log:
    """Events numbered by seq as a tenant's log would hold them."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, action: str, at: int, actor: str = "u1", **fields: Any) -> Event:
        kind = _CATALOG.classify(action)
        event = Event(
            tenant_id="acme",
            seq=len(self.events),
            id=f"e{len(self.events)}",
            action=action,
            category=kind.category,
            kind=kind.kind,
            occurred_at=at,
            received_at=at,
            outcome=fields.pop("outcome", "success"),
            actor=Actor("user", actor, None, None, f"{actor}@acme.test"),
            **fields,
        )
        self.events.append(event)
        return event
