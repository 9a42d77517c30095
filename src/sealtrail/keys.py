"""API keys an operator can live with: expiry, rotation with an overlap, last use.

``AuditLog`` applies these; this module holds what they are made of: how a
lifetime is written (``90d``), how often a key's ``last_used_at`` is written
(``LastUse``), and the events every key change leaves in the tenant's own log
(``audit_log.api_key_created`` / ``_rotated`` / ``_revoked``), so a key's
history is signed like everything else.

A key that expired is not recorded when it is used: its end was recorded with
it (``expires_at`` in the event that created or rotated it), and recording
each use of a dead key would let whoever holds one write into the trail.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Final, Literal

from sealtrail.errors import InvalidInput
from sealtrail.events import Actor, EventInput, Resource, format_timestamp
from sealtrail.limits import KEY_LAST_USED_EVERY, MAX_KEY_LIFETIME
from sealtrail.store.base import ApiKeyRecord

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION: Final = re.compile(r"(\d{1,9})([smhdw])")

KeyChange = Literal["api_key_created", "api_key_rotated", "api_key_revoked"]


def parse_duration(text: str, what: str, *, zero: bool = False) -> int:
    """``90d``, ``12h``, ``30m``, ``45s``, ``2w`` → seconds; InvalidInput naming ``what``."""
    found = _DURATION.fullmatch(text.strip().lower())
    seconds = int(found[1]) * _UNITS[found[2]] if found else -1
    if seconds < 0 or (seconds == 0 and not zero) or seconds > MAX_KEY_LIFETIME:
        raise InvalidInput(
            f"{what} must be a number with a unit (s, m, h, d or w), e.g. 90d,"
            f" {'0 or more' if zero else 'more than 0'} and at most"
            f" {MAX_KEY_LIFETIME // 86400}d, not {text!r}"
        )
    return seconds


def key_state(key: ApiKeyRecord, now: int) -> str:
    """``active``, ``revoked``, ``expired``, or ``rotated`` (still working in its overlap)."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "rotated" if key.replaced_by is not None else "active"


def key_change(change: KeyChange, actor: Actor, key: ApiKeyRecord, **context: Any) -> EventInput:
    """The event a key change leaves in its tenant's log (never the secret or its hash)."""
    details: dict[str, Any] = {
        "key_id": key.id,
        "scopes": sorted(key.scopes),
        "expires_at": None if key.expires_at is None else format_timestamp(key.expires_at),
        **context,
    }
    return EventInput(
        action=f"audit_log.{change}",
        actor=actor,
        resource=Resource("api_key", key.id, name=key.name),
        context=details,
        account_id=None,
    )


class LastUse:
    """When to write a key's ``last_used_at``: at most once per ``KEY_LAST_USED_EVERY``
    seconds per key in this process, so authenticating is not a write per request."""

    def __init__(self, every: int = KEY_LAST_USED_EVERY) -> None:
        self._every_us = every * 1_000_000
        self._written: dict[str, int] = {}
        self._lock = threading.Lock()

    def due(self, key_id: str, now: int) -> bool:
        with self._lock:
            last = self._written.get(key_id)
            if last is not None and now - last < self._every_us:
                return False
            if len(self._written) > 100_000:  # keys come and go: forget the old ones
                self._written.clear()
            self._written[key_id] = now
            return True
