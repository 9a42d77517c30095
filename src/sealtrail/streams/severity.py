"""How serious an audit event is, said once and written in each format's own scale.

Audit events are records of intended changes, so most are informational. A failed
attempt is worth a look (a failed sign-in more so), and a deletion cannot be undone.
Alerting on patterns (bursts, escalations) is the detections' job, not a format's.

| Sealtrail | when | OCSF ``severity_id`` | syslog severity | CEF severity |
|---|---|---|---|---|
| informational | everything else | 1 Informational | 6 informational | 1 |
| low | ``kind`` delete, or a failure outside auth | 2 Low | 5 notice | 3 |
| medium | a failure in the ``auth`` category | 3 Medium | 4 warning | 5 |
"""

from __future__ import annotations

from enum import IntEnum

from sealtrail.events import Event

__all__ = ["Severity", "severity"]


class Severity(IntEnum):
    """Values are OCSF's ``severity_id``."""

    INFORMATIONAL = 1
    LOW = 2
    MEDIUM = 3

    @property
    def syslog(self) -> int:
        return {1: 6, 2: 5, 3: 4}[self.value]

    @property
    def cef(self) -> int:
        return {1: 1, 2: 3, 3: 5}[self.value]

    @property
    def label(self) -> str:
        return self.name.capitalize()


def severity(event: Event) -> Severity:
    if event.outcome == "failure":
        return Severity.MEDIUM if event.category == "auth" else Severity.LOW
    if event.kind == "delete":
        return Severity.LOW
    return Severity.INFORMATIONAL
