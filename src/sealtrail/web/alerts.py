"""The viewer's alerts: the panel of open alerts and the marks on the rows they name.

Only what the page shows: each open alert's severity, summary and a link to the search
that shows its events in context (the alert's group, an hour either side, with no
default time window). The rules are ``AuditLog``'s (alerts are tenant-wide: a session
limited to some accounts sees none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sealtrail.audit_log import AuditLog, alert_dict
from sealtrail.auth import Principal
from sealtrail.events import Event

PANEL_SIZE = 5


@dataclass(frozen=True, slots=True)
class AlertItem:
    id: str
    severity: str
    title: str
    summary: str
    context_url: str
    events: int


@dataclass(frozen=True, slots=True)
class AlertPanel:
    items: tuple[AlertItem, ...]
    more: bool


def context_url(search: str) -> str:
    return "/ui?" + urlencode({"since": "", "phrase": search})


def panel(log: AuditLog, principal: Principal) -> AlertPanel:
    found = log.alerts(principal, status="open", limit=PANEL_SIZE + 1)
    items = []
    for alert in found[:PANEL_SIZE]:
        shown = alert_dict(alert)
        items.append(
            AlertItem(
                alert.id,
                alert.severity,
                alert.title,
                shown["summary"],
                context_url(shown["search"]),
                alert.event_count,
            )
        )
    return AlertPanel(tuple(items), len(found) > PANEL_SIZE)


def marks(log: AuditLog, principal: Principal, events: Sequence[Event]) -> dict[str, int]:
    """How many alerts name each shown event, by event id."""
    return {ident: len(ids) for ident, ids in log.alert_marks(principal, events).items()}
