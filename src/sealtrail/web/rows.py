"""Events as the page shows them: one ``Row`` per event, computed once in Python.

The templates only place these values; every piece of event content reaches
the page through Jinja's autoescaping, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

import orjson

from sealtrail.catalog import Catalog
from sealtrail.events import Event, format_timestamp, from_micros
from sealtrail.inclusion import Verification
from sealtrail.limits import ERASED
from sealtrail.web.changes import Change, find_changes

KIND_LABELS: Final = {
    "create": "Create",
    "update": "Update",
    "delete": "Delete",
    "access": "Access",
    "other": "Other",
}
SHORT_ID: Final = 12


@dataclass(frozen=True, slots=True)
class Moment:
    iso: str  # exact, microseconds, UTC (the API's form)
    machine: str  # for <time datetime>: milliseconds, UTC
    shown: str  # "2026-03-01 08:00:00 UTC", replaced by local time in the browser
    relative: str  # "3 minutes ago" at render time


@dataclass(frozen=True, slots=True)
class Party:
    """An actor or a target, ready to show."""

    type: str
    id: str
    name: str | None
    email: str | None
    role: str | None = None

    @property
    def is_system(self) -> bool:
        return self.type == "system"

    @property
    def label(self) -> str:
        if self.is_system:
            return "System"
        return self.name or self.email or self.id


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    seq: int
    url: str
    verify_url: str
    action: str
    kind: str
    kind_label: str
    category: str
    outcome: str
    time: Moment
    received: Moment
    actor: Party
    target: Party | None
    resource_type: str | None
    resource_id: str | None
    resource_short: str | None
    resource_name: str | None
    description: str
    ip: str | None
    user_agent: str | None
    tenant_id: str
    account_id: str | None
    request_id: str | None
    context_json: str | None
    changes: list[Change]
    proof: Verification | None


def short(ident: str, limit: int = SHORT_ID) -> str:
    return ident if len(ident) <= limit + 1 else ident[:limit] + "…"


_UNITS: Final = (
    (86_400 * 365, "year"),
    (86_400 * 30, "month"),
    (86_400, "day"),
    (3_600, "hour"),
    (60, "minute"),
)


def relative(micros: int, now_micros: int) -> str:
    """ "3 minutes ago", "in 2 days", "just now": the server's first rendering."""
    seconds = (now_micros - micros) // 1_000_000
    if abs(seconds) < 45:
        return "just now"
    size, unit = next((s, u) for s, u in _UNITS if abs(seconds) >= s or u == "minute")
    count = max(1, abs(seconds) // size)
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if seconds < 0 else f"{words} ago"


def moment(micros: int, now_micros: int) -> Moment:
    when = from_micros(micros)
    return Moment(
        iso=format_timestamp(micros),
        machine=when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        shown=when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        relative=relative(micros, now_micros),
    )


def event_url(event_id: str) -> str:
    return f"/ui/events/{quote(event_id, safe='')}"


def build_row(
    event: Event, catalog: Catalog, now_micros: int, proof: Verification | None = None
) -> Row:
    actor = event.actor
    target = event.target
    resource = event.resource
    context = event.context
    return Row(
        id=event.id,
        seq=event.seq,
        url=event_url(event.id),
        verify_url=f"/ui/verify/{quote(event.id, safe='')}",
        action=event.action,
        kind=event.kind if event.kind in KIND_LABELS else "other",
        kind_label=KIND_LABELS.get(event.kind, "Other"),
        category=catalog.category_label(event.category),
        outcome=event.outcome,
        time=moment(event.occurred_at, now_micros),
        received=moment(event.received_at, now_micros),
        actor=Party(actor.type, actor.id, actor.name, actor.email, actor.role),
        target=None if target is None else Party(target.type, target.id, target.name, target.email),
        resource_type=None if resource is None else resource.type,
        resource_id=None if resource is None else resource.id,
        resource_short=None if resource is None else short(resource.id),
        resource_name=None if resource is None else resource.name,
        description=event.description or "",
        ip=event.ip,
        user_agent=event.user_agent,
        tenant_id=event.tenant_id,
        account_id=event.account_id,
        request_id=event.request_id,
        context_json=_context_json(event),
        changes=find_changes(context),
        proof=proof,
    )


def _context_json(event: Event) -> str | None:
    """The context as shown: formatted JSON, or ``[erased]`` once it was erased."""
    if "context" in event.commitments:
        return ERASED
    if event.context is None:
        return None
    return orjson.dumps(event.context, option=orjson.OPT_INDENT_2).decode("utf-8")
