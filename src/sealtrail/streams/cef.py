"""Sealtrail events as CEF (ArcSight Common Event Format, version 0) lines.

``CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension``. Header fields
escape ``\\`` and ``|`` with a backslash; a header is one line, so control characters
in it become spaces. Extension values escape ``\\`` and ``=`` with a backslash and write
line breaks as ``\\n`` and ``\\r``; ``|`` needs no escape there. Keys come from the CEF
dictionary; custom fields use the ``cs``/``cn``/``flexString`` keys with their labels.
The table of fields is in docs/streams.md.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar, Final

import orjson

from sealtrail import __version__
from sealtrail.events import Event
from sealtrail.streams.severity import severity

__all__ = ["Cef", "escape_extension", "escape_header", "to_cef"]

_HEADER_SPECIAL: Final = re.compile(r"[\\|]")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_EXTENSION_SPECIAL: Final = re.compile(r"[\\=\r\n]")
_EXTENSION_ESCAPES: Final = {"\\": "\\\\", "=": "\\=", "\n": "\\n", "\r": "\\r"}


def escape_header(value: str) -> str:
    """A CEF header field: ``\\`` → ``\\\\``, ``|`` → ``\\|``, control characters → space."""
    return _CONTROL.sub(" ", _HEADER_SPECIAL.sub(lambda m: "\\" + m.group(0), value))


def escape_extension(value: str) -> str:
    """A CEF extension value: ``\\`` → ``\\\\``, ``=`` → ``\\=``, CR/LF → ``\\r``/``\\n``."""
    return _EXTENSION_SPECIAL.sub(lambda m: _EXTENSION_ESCAPES[m.group(0)], value)


@dataclass(frozen=True, slots=True)
class Cef:
    """Encoder: one CEF line (no line break) per event."""

    vendor: str = "Sealtrail"
    product: str = "Sealtrail"
    version: str = __version__
    name: ClassVar[str] = "cef"

    def encode(self, event: Event) -> str:
        return to_cef(event, self)


def to_cef(event: Event, options: Cef | None = None) -> str:
    options = options or Cef()
    header = [
        "CEF:0",
        escape_header(options.vendor),
        escape_header(options.product),
        escape_header(options.version),
        escape_header(event.action),
        escape_header(event.description or event.action),
        str(severity(event).cef),
    ]
    fields: list[tuple[str, str | int | None]] = [
        ("rt", event.received_at // 1000),
        ("end", event.occurred_at // 1000),
        ("externalId", event.id),
        ("cat", event.category),
        ("outcome", event.outcome),
        ("suid", event.actor.id),
        ("suser", _first(event.actor.email, event.actor.name)),
        ("spriv", event.actor.role),
    ]
    if event.ip is not None:
        fields += _address(event.ip)
    fields.append(("requestClientApplication", event.user_agent))
    if event.target is not None:
        fields += [
            ("duid", event.target.id),
            ("duser", _first(event.target.email, event.target.name)),
        ]
    fields += [
        ("cn1Label", "seq"),
        ("cn1", event.seq),
        ("cs1Label", "tenant_id"),
        ("cs1", event.tenant_id),
        ("cs2Label", "kind"),
        ("cs2", event.kind),
    ]
    if event.resource is not None:
        fields += [
            ("cs3Label", "resource_type"),
            ("cs3", event.resource.type),
            ("cs4Label", "resource_id"),
            ("cs4", event.resource.id),
            ("cs5Label", "resource_name"),
            ("cs5", event.resource.name),
        ]
    if event.context is not None:
        fields += [("cs6Label", "context"), ("cs6", orjson.dumps(event.context).decode())]
    if event.account_id is not None:
        fields += [("flexString1Label", "account_id"), ("flexString1", event.account_id)]
    if event.request_id is not None:
        fields += [("flexString2Label", "request_id"), ("flexString2", event.request_id)]
    extension = " ".join(
        f"{key}={escape_extension(str(value))}" for key, value in fields if value is not None
    )
    return "|".join(header) + "|" + extension


def _address(ip: str) -> list[tuple[str, str | int | None]]:
    """``src`` holds IPv4 only; an IPv6 address goes to ``c6a2`` (Source IPv6 Address)."""
    if ipaddress.ip_address(ip.split("%", 1)[0]).version == 4:
        return [("src", ip)]
    return [("c6a2Label", "Source IPv6 Address"), ("c6a2", ip)]


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v is not None), None)
