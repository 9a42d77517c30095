"""The viewer's alerts: the panel of alerts not yet resolved and the marks on the rows
they name.

Only what the page shows: each alert's severity, summary, status and a link to the
search that shows its events in context (the alert's group, an hour either side, with no
default time window), and — for a viewer who may handle alerts — buttons that
acknowledge and resolve it (``alert_routes``). The rules are ``AuditLog``'s: a session
limited to some accounts sees only the alerts wholly in them, read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sealtrail.audit_log import AlertRecord, AuditLog, alert_dict
from sealtrail.auth import Principal
from sealtrail.events import Event

PANEL_SIZE = 8
"""Alerts the panel lists: room for an incident's several (the demo's opens seven)."""


@dataclass(frozen=True, slots=True)
class AlertItem:
    id: str
    severity: str
    title: str
    summary: str
    context_url: str
    events: int
    status: str  # "open" or "acknowledged"
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class AlertPanel:
    items: tuple[AlertItem, ...]
    more: bool
    handle: bool  # whether this viewer may acknowledge and resolve them
    back: str  # the page's query string, to come back to after a post


def context_url(search: str) -> str:
    return "/ui?" + urlencode({"since": "", "phrase": search})


def panel(log: AuditLog, principal: Principal, back: str = "") -> AlertPanel:
    """The newest alerts not yet resolved: open ones and acknowledged ones, newest first."""
    found: list[AlertRecord] = []
    for status in ("open", "acknowledged"):
        found += log.alerts(principal, status=status, limit=PANEL_SIZE + 1)
    found.sort(key=lambda a: (a.opened_at, a.id), reverse=True)
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
                alert.status,
                alert.acknowledged_by,
            )
        )
    return AlertPanel(tuple(items), len(found) > PANEL_SIZE, principal.may_handle_alerts, back)


def marks(log: AuditLog, principal: Principal, events: Sequence[Event]) -> dict[str, int]:
    """How many alerts name each shown event, by event id."""
    return {ident: len(ids) for ident, ids in log.alert_marks(principal, events).items()}
