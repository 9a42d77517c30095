"""The shared row codec, adjusted for what a PostgreSQL ``text`` value cannot hold.

``codec.to_row``/``from_row`` give both engines the same flat row. PostgreSQL
refuses U+0000 in ``text``, yet free-form fields (names, description, user
agent) and identifiers (actor, target and resource ids, account and request
ids) may carry it, and the leaf commits to the exact string. Every text
column is therefore stored with a reversible escape: U+FFFF (a Unicode
noncharacter, absent from real text) introduces ``U+FFFF 0`` for U+0000 and
``U+FFFF U+FFFF`` for itself. Text without either character — all real text —
is stored as is, so full-text search, display and ``psql`` see the original
words. The escape is injective, so a filter compares escaped values for
equality (the dialect's ``escape`` applies to what a filter binds) with the same result as
comparing the originals. ``context`` is JSON text, where U+0000 is already
written ``\\u0000``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from sealtrail.events import Event
from sealtrail.store.codec import COLUMNS, from_row, to_row

ESCAPE: Final = "\uffff"
_ESCAPED: Final = re.compile("\uffff(.)", re.DOTALL)

# COPY ... (FORMAT BINARY) needs the PostgreSQL type of every column.
_BINARY: Final = {"seq": "int8", "occurred_at": "int8", "received_at": "int8"}
_BYTES: Final = frozenset({"ip_key", "salts", "commitments", "leaf_hash"})
COPY_TYPES: Final = tuple(
    "bytea" if name in _BYTES else _BINARY.get(name, "text") for name in COLUMNS
)
_TEXT_AT: Final = tuple(i for i, kind in enumerate(COPY_TYPES) if kind == "text")


def escape_text(value: str) -> str:
    """``value`` in a form a ``text`` column accepts; ``unescape_text`` undoes it."""
    if "\x00" not in value and ESCAPE not in value:
        return value
    return value.replace(ESCAPE, ESCAPE * 2).replace("\x00", ESCAPE + "0")


def unescape_text(value: str) -> str:
    if ESCAPE not in value:
        return value
    return _ESCAPED.sub(lambda m: "\x00" if m.group(1) == "0" else m.group(1), value)


def _escape_optional(value: str | None) -> str | None:
    return None if value is None else escape_text(value)


def _unescape_optional(value: str | None) -> str | None:
    return None if value is None else unescape_text(value)


def event_row(event: Event, leaf_hash: bytes) -> list[Any]:
    """The row ``COLUMNS`` names, ready for COPY."""
    row = list(to_row(event, leaf_hash))
    for at in _TEXT_AT:
        row[at] = _escape_optional(row[at])
    return row


def unescape_row(row: Sequence[Any]) -> Sequence[Any]:
    """The row with its text columns unescaped (the row itself when none needs it)."""
    if not any(type(v) is str and ESCAPE in v for v in row):
        return row
    fixed = list(row)
    for at in _TEXT_AT:
        fixed[at] = _unescape_optional(fixed[at])
    return fixed


def event_from_row(row: Sequence[Any]) -> Event:
    return from_row(unescape_row(row))
