"""CSV rows and NDJSON lines written by SQLite itself, one text per stored row.

Python cannot write an export much faster than it can read the rows: the bare
floor (a ``SELECT`` of the 28 columns written by ``csv.writer``) is ~90 k rows/s
on the bench machine, and ``export_rows`` reached ~57 k. Here each row's whole
line is built by one ``printf`` inside SQLite (``%w`` doubles the ``"`` of a
CSV cell, ``json_quote`` escapes a JSON string as orjson does, ``date`` gives a
timestamp's date and arithmetic its time of day), and Python only joins the
lines: ~140 k CSV rows/s and ~160 k NDJSON lines/s in one process on the same
machine (docs/benchmarks.md has the bench's figures).

The bytes are those ``export_rows`` writes (and so the ``Event`` path's), row
for row; tests/test_export_rows.py compares whole exports on every shape of
event. Rows SQLite cannot write the same way are left to ``export_rows``
(``_python_writes``): a row with an erased field (``[erased]``), a timestamp
that is not an integer within years 1970–9999, and for CSV a NUL in any text
(``printf`` stops at a NUL). CSV injection follows ``export.neutralise_cell``:
the cell of a value that starts with one of ``export.RISKY_STARTS`` gets a
leading ``'``.

What this assumes of a stored row is what the store writes: text columns hold
text or NULL (SQLite's TEXT affinity turns a number into text; only a BLOB put
there by hand would be written as its bytes), and ``context`` holds
``orjson.dumps`` of the event's context, which the row path re-serialises to
the same text.
"""

from __future__ import annotations

import functools
from typing import Final, Literal

from sealtrail.export import CSV_COLUMNS, RISKY_STARTS

__all__ = ["line_select"]

_TIMES: Final = ("occurred_at", "received_at")
_TEXT: Final = tuple(c for c in CSV_COLUMNS if c not in ("seq", *_TIMES))
# format_timestamp's range: a four-digit year from 1970 (SQLite's unixepoch takes no
# negative fraction the way Python's divmod does) up to 9999.
_LAST_MICROSECOND: Final = 253_402_300_799_999_999


def _timestamp(column: str) -> tuple[str, list[str]]:
    """``format_timestamp(column)`` as a printf piece and its arguments."""
    # Only the date needs the calendar; the time of day is arithmetic, which costs SQLite
    # less than strftime's format (0.57 against 0.75 µs a time on the bench machine).
    return (
        "%sT%02d:%02d:%02d.%06dZ",
        [
            f"date({column} / 1000000, 'unixepoch')",
            f"{column} / 3600000000 % 24",
            f"{column} / 60000000 % 60",
            f"{column} / 1000000 % 60",
            f"{column} % 1000000",
        ],
    )


def _csv_line() -> str:
    risky = ", ".join(str(ord(c)) for c in sorted(RISKY_STARTS))
    pieces: list[str] = []
    args: list[str] = []
    for column in CSV_COLUMNS:
        if column == "seq":
            pieces.append('"%d"')
            args.append("seq")
        elif column in _TIMES:
            piece, values = _timestamp(column)
            pieces.append(f'"{piece}"')
            args += values
        else:  # '"' + neutralise_cell(value) with '"' doubled + '"'
            pieces.append('"%s%w"')
            args += [
                f"CASE WHEN unicode({column}) IN ({risky}) THEN '''' ELSE '' END",
                f"coalesce({column}, '')",
            ]
    return f"printf('{','.join(pieces)}\r\n', {', '.join(args)})"


def _optional(key: str, column: str) -> str:
    return f"""CASE WHEN {column} IS NULL THEN '' ELSE ',"{key}":' || json_quote({column}) END"""


def _part(key: str, prefix: str, optional: tuple[str, ...]) -> str:
    """``,"target":{"type":…,"id":…[,"name":…]}``, or nothing when every column is NULL."""
    columns = [f"{prefix}_{name}" for name in ("type", "id", *optional)]
    absent = " AND ".join(f"{column} IS NULL" for column in columns)
    fields = " || ".join(_optional(name, f"{prefix}_{name}") for name in optional)
    return (
        f"""CASE WHEN {absent} THEN '' ELSE ',"{key}":{{"type":' || json_quote({prefix}_type)"""
        f""" || ',"id":' || json_quote({prefix}_id) || {fields} || '}}' END"""
    )


def _ndjson_line() -> str:
    # The keys and their order are export_rows.record's (Event.to_dict's).
    occurred, occurred_args = _timestamp("occurred_at")
    received, received_args = _timestamp("received_at")
    line = (
        '{"id":%s,"seq":%d,"tenant_id":%s,"action":%s,"category":%s,"kind":%s,'
        f'"occurred_at":"{occurred}","received_at":"{received}","outcome":%s,'
        '"actor":{"type":%s,"id":%s%s%s%s}%s%s%s%s%s%s%s%s}\n'
    )
    args = [
        "json_quote(id)",
        "seq",
        "json_quote(tenant_id)",
        "json_quote(action)",
        "json_quote(category)",
        "json_quote(kind)",
        *occurred_args,
        *received_args,
        "json_quote(outcome)",
        "json_quote(actor_type)",
        "json_quote(actor_id)",
        _optional("role", "actor_role"),
        _optional("name", "actor_name"),
        _optional("email", "actor_email"),
        _part("target", "target", ("name", "email")),
        _part("resource", "resource", ("name",)),
        _optional("account_id", "account_id"),
        _optional("description", "description"),
        # The stored text is orjson's, as the row path would write it again; a JSON
        # null is no context.
        "CASE WHEN context IS NULL OR context = 'null' THEN ''"
        """ ELSE ',"context":' || context END""",
        _optional("ip", "ip"),
        _optional("user_agent", "user_agent"),
        _optional("request_id", "request_id"),
    ]
    return f"printf('{line}', {', '.join(args)})"


def _python_writes(fmt: Literal["csv", "ndjson"]) -> str:
    """The rows this module leaves to ``export_rows``."""
    conditions = ["commitments IS NOT NULL"]
    conditions += [
        f"typeof({c}) != 'integer' OR NOT ({c} BETWEEN 0 AND {_LAST_MICROSECOND})" for c in _TIMES
    ]
    if fmt == "csv":
        conditions += [f"instr({c}, char(0))" for c in _TEXT]
    return " OR ".join(conditions)


@functools.cache
def line_select(fmt: Literal["csv", "ndjson"]) -> str:
    """The select list of one row's line: its written bytes, or NULL where
    ``export_rows`` writes it, then its ``seq`` to find that row by."""
    line = _csv_line() if fmt == "csv" else _ndjson_line()
    return f"CAST(CASE WHEN {_python_writes(fmt)} THEN NULL ELSE {line} END AS BLOB), seq"
