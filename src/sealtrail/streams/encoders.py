"""Event encoders: one event in one wire format, as a pure function of the event.

``SealtrailJson`` is the API's event object (``Event.to_dict()``, the same object the
seed-compatible endpoint serves). ``OcsfJson`` (``ocsf.py``) maps it onto an OCSF 1.8
class, ``Cef`` (``cef.py``) writes a CEF line. Bodies (``bodies.py``) and syslog messages
(``syslog.py``) put encoded events into a delivery.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

from sealtrail.events import Event

__all__ = ["Encoded", "EventEncoder", "SealtrailJson"]

Encoded: TypeAlias = dict[str, Any] | str
"""A JSON object, or a line of text (CEF)."""


class EventEncoder(Protocol):
    """Turns one event into its wire form; ``name`` is the format's name in a batch."""

    @property
    def name(self) -> str: ...

    def encode(self, event: Event) -> Encoded: ...


class SealtrailJson:
    """The API's event object, field for field (SPEC §2)."""

    name = "sealtrail"

    def encode(self, event: Event) -> dict[str, Any]:
        return event.to_dict()
