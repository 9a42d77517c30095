"""Keyset cursors: an opaque token for "the rows after this one".

A cursor holds the ``(occurred_at, seq)`` of the last row a page returned and
the order it was read in. The next page is the rows strictly after it in that
order: for ``desc``, ``(occurred_at, seq) < (cursor.occurred_at_us, cursor.seq)``;
for ``asc``, ``>``. This stays fast at any depth, unlike an offset.

The token is base64url (no padding) of 22 bytes: a version byte, the order, the
time as a signed 64-bit count of microseconds, the seq as an unsigned 64-bit
integer, and the first four bytes of their SHA-256. The checksum catches
truncated, mangled or hand-edited tokens; it is not a signature. A forged but
well-formed cursor only moves the caller's position inside what the caller may
already see, because every query is scoped by the credential, never the cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, TypeAlias

from sealtrail.errors import InvalidQuery
from sealtrail.events import from_micros, to_micros

Order: TypeAlias = Literal["asc", "desc"]

_VERSION: Final = 1
_BODY: Final = struct.Struct(">BBqQ")
_CHECK_BYTES: Final = 4
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{30}")
_ORDERS: Final[tuple[Order, Order]] = ("desc", "asc")
_INT64: Final = range(-(2**63), 2**63)
_UINT64: Final = range(2**64)


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()[:_CHECK_BYTES]


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last row returned (its time in microseconds since the epoch and its seq)."""

    occurred_at_us: int
    seq: int
    order: Order

    def __post_init__(self) -> None:
        if self.order not in _ORDERS:
            raise ValueError(f"order must be 'asc' or 'desc', not {self.order!r}")
        if self.occurred_at_us not in _INT64 or self.seq not in _UINT64:
            raise ValueError("cursor position out of range")

    @classmethod
    def after(cls, occurred_at: datetime, seq: int, order: Order) -> Cursor:
        """The cursor for a row, from its aware ``occurred_at``."""
        return cls(to_micros(occurred_at), seq, order)

    @property
    def occurred_at(self) -> datetime:
        return from_micros(self.occurred_at_us)

    def encode(self) -> str:
        body = _BODY.pack(_VERSION, _ORDERS.index(self.order), self.occurred_at_us, self.seq)
        return base64.urlsafe_b64encode(body + _checksum(body)).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor ``token`` encodes; ``InvalidQuery`` naming ``cursor`` if it is not one."""
        invalid = InvalidQuery("cursor is not valid", "cursor")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(token + "==")
        except (binascii.Error, ValueError):
            raise invalid from None
        body, check = raw[: _BODY.size], raw[_BODY.size :]
        if len(check) != _CHECK_BYTES or check != _checksum(body):
            raise invalid
        version, order, occurred_at_us, seq = _BODY.unpack(body)
        if version != _VERSION or order >= len(_ORDERS):
            raise invalid
        cursor = cls(occurred_at_us, seq, _ORDERS[order])
        if cursor.encode() != token:  # a non-canonical spelling of the same bytes
            raise invalid
        return cursor
