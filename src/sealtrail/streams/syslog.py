"""RFC 5424 syslog messages for stream events, framed by octet counting (RFC 5425/6587).

One message per event, then one *batch message* (MSGID ``batch``) whose MSG is the batch
header as JSON (``first_seq``, ``last_seq``, ``count``, ``checkpoint``, …), so a syslog
receiver can check the range and the signed checkpoint exactly as a webhook receiver
does. It follows the batch's events on the same connection: it arrives only after them.

- **PRI** = facility × 8 + severity; facility 13 (log audit) by default, severity from
  the event (``severity.py``), 6 for the batch message.
- **Structured data**: ``[sealtrail@PEN tenant="…" seq="…" id="…" action="…"
  outcome="…"]`` on each event, ``[sealtrail-batch@PEN tenant first_seq last_seq count]``
  on the batch message. Values escape ``"``, ``\\`` and ``]`` with a backslash (RFC 5424
  §6.3.3). Sealtrail has no IANA enterprise number of its own, so PEN defaults to 32473,
  the number RFC 5612 reserves for documentation; set yours.
- **MSG**: JSON formats are written ASCII-only (``\\u`` escapes), so they need no BOM and
  any JSON parser reads them; a text format (CEF) that is not pure ASCII is UTF-8 and
  starts with the BOM, as §6.4 requires (``bom="always"`` / ``"never"`` override).
- **Length**: a message longer than ``max_size`` octets (default 8192, what RFC 5425
  receivers SHOULD accept and rsyslog's default) has its MSG cut at a character boundary
  and carries ``truncated="<original MSG octets>"`` in its structured data; the event is
  whole in the API by its ``id``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sealtrail.errors import ConfigurationError
from sealtrail.events import Event, format_timestamp
from sealtrail.streams.batch import Batch
from sealtrail.streams.encoders import EventEncoder
from sealtrail.streams.severity import severity

__all__ = [
    "DOCUMENTATION_PEN",
    "SyslogFormat",
    "batch_messages",
    "event_message",
    "frame",
    "sd_escape",
]

DOCUMENTATION_PEN: Final = 32473
BOM: Final = b"\xef\xbb\xbf"
MIN_MESSAGE_SIZE: Final = 480  # every receiver MUST accept this much (RFC 5424 §6.1)
_PRINTUSASCII: Final = re.compile(r"[\x21-\x7e]+")
_SD_SPECIAL: Final = re.compile(r'["\\\]]')

StructuredData = Sequence[tuple[str, Sequence[tuple[str, str]]]]


def sd_escape(value: str) -> str:
    """An SD-PARAM value: ``"`` ``\\`` ``]`` get a backslash (RFC 5424 §6.3.3)."""
    return _SD_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def _header_field(value: str, max_len: int, what: str) -> str:
    if value != "-" and (len(value) > max_len or not _PRINTUSASCII.fullmatch(value)):
        raise ConfigurationError(f"syslog {what} is 1-{max_len} printable ASCII characters")
    return value


@dataclass(frozen=True, slots=True)
class SyslogFormat:
    """How stream messages are written; the defaults suit rsyslog and syslog-ng."""

    hostname: str = "-"
    app_name: str = "sealtrail"
    facility: int = 13
    enterprise_number: int = DOCUMENTATION_PEN
    max_size: int = 8192
    bom: Literal["auto", "always", "never"] = "auto"

    def __post_init__(self) -> None:
        _header_field(self.hostname, 255, "HOSTNAME")
        _header_field(self.app_name, 48, "APP-NAME")
        if not 0 <= self.facility <= 23:
            raise ConfigurationError("a syslog facility is 0-23")
        if self.enterprise_number < 1:
            raise ConfigurationError("an enterprise number is a positive integer")
        if self.max_size < MIN_MESSAGE_SIZE:
            raise ConfigurationError(f"max_size must be at least {MIN_MESSAGE_SIZE} octets")

    def message(
        self,
        *,
        severity: int,
        timestamp: str,
        msgid: str,
        structured_data: StructuredData,
        msg: str,
    ) -> bytes:
        """One RFC 5424 message (without framing)."""
        _header_field(msgid, 32, "MSGID")
        pri = self.facility * 8 + severity
        head = f"<{pri}>1 {timestamp} {self.hostname} {self.app_name} - {msgid} "
        body = msg.encode("utf-8")
        use_bom = self.bom == "always" or (self.bom == "auto" and not msg.isascii())
        prefix = BOM if use_bom else b""
        whole = self._encode(head, structured_data, ()) + b" " + prefix + body
        if len(whole) <= self.max_size:
            return whole
        sd = self._encode(head, structured_data, (("truncated", str(len(prefix) + len(body))),))
        room = self.max_size - len(sd) - 1 - len(prefix)
        if room < 0:
            raise ConfigurationError("the syslog header alone exceeds max_size")
        cut = body[:room].decode("utf-8", errors="ignore").encode("utf-8")
        return sd + b" " + prefix + cut

    def _encode(self, head: str, sd: StructuredData, extra: Sequence[tuple[str, str]]) -> bytes:
        elements = []
        for index, (sd_id, params) in enumerate(sd):
            pairs = [*params, *extra] if index == 0 else list(params)
            inner = " ".join(f'{name}="{sd_escape(value)}"' for name, value in pairs)
            elements.append(f"[{sd_id}@{self.enterprise_number} {inner}]")
        return (head + ("".join(elements) or "-")).encode("utf-8")


def _json_ascii(value: object) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def event_message(event: Event, encoder: EventEncoder, fmt: SyslogFormat) -> bytes:
    encoded = encoder.encode(event)
    msg = encoded if isinstance(encoded, str) else _json_ascii(encoded)
    return fmt.message(
        severity=severity(event).syslog,
        timestamp=format_timestamp(event.occurred_at),
        msgid="event",
        structured_data=[
            (
                "sealtrail",
                [
                    ("tenant", event.tenant_id),
                    ("seq", str(event.seq)),
                    ("id", event.id),
                    ("action", event.action),
                    ("outcome", event.outcome),
                ],
            )
        ],
        msg=msg,
    )


def batch_messages(batch: Batch, encoder: EventEncoder, fmt: SyslogFormat) -> list[bytes]:
    """The batch's event messages, then its batch message."""
    messages = [event_message(event, encoder, fmt) for event in batch.events]
    header = batch.header()
    header["format"] = encoder.name
    messages.append(
        fmt.message(
            severity=6,
            timestamp="-",
            msgid="batch",
            structured_data=[
                (
                    "sealtrail-batch",
                    [
                        ("tenant", batch.tenant_id),
                        ("first_seq", str(batch.first_seq)),
                        ("last_seq", str(batch.last_seq)),
                        ("count", str(len(batch.events))),
                    ],
                )
            ],
            msg=_json_ascii(header),
        )
    )
    return messages


def frame(message: bytes) -> bytes:
    """RFC 5425 octet counting: ``MSG-LEN SP SYSLOG-MSG``."""
    return b"%d %s" % (len(message), message)
