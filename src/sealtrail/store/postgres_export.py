"""CSV rows and NDJSON lines written by PostgreSQL itself, one text per stored row.

The counterpart of ``store.sqlite_export`` (which says why): each row's line is
one ``format()`` in the server (``replace`` doubles the ``"`` of a CSV cell,
``to_json`` escapes a JSON string as orjson does, ``to_char`` writes a
timestamp), so the exporting process only joins the lines instead of decoding
31 columns and writing them in Python.

The bytes are those ``export_rows`` writes, row for row
(tests/test_export_rows.py). Rows the server cannot write the same way are left
to ``export_rows``: a row with an erased field or a timestamp outside years
1970–9999 (``_python_writes``), and a row whose line holds the escape character
of ``postgres_rows`` (``ESCAPE``, U+FFFF: the row held a NUL or U+FFFF itself,
stored escaped), which ``PostgresStore.export_body`` finds in the lines. As on
SQLite, ``context`` holds ``orjson.dumps`` of the event's context, which the row
path re-serialises to the same text.

The SQL is for psycopg with parameters, so its own ``%`` are doubled.
"""

from __future__ import annotations

import functools
from typing import Final, Literal

from sealtrail.export import CSV_COLUMNS, RISKY_STARTS

__all__ = ["line_select"]

_TIMES: Final = ("occurred_at", "received_at")
_LAST_MICROSECOND: Final = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def _literal(text: str) -> str:
    """``text`` as a PostgreSQL string constant (E'' where it holds a control character)."""
    if all(c >= " " for c in text):
        return "'" + text.replace("'", "''") + "'"
    escaped = "".join(f"\\x{ord(c):02x}" if c < " " else c for c in text.replace("\\", "\\\\"))
    return "E'" + escaped.replace("'", "''") + "'"


def _timestamp(column: str) -> str:
    """``format_timestamp(column)``: whole seconds and microseconds added apart, each
    exact in the float8 an interval is multiplied by."""
    return (
        f"to_char(timestamp '1970-01-01' + ({column} / 1000000) * interval '1 second'"
        f" + ({column} % 1000000) * interval '1 microsecond', "
        """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    )


def _csv_line() -> str:
    # ascii() is the first character's code point, an integer: 2 us a row less than
    # comparing left(column, 1) with each risky string (NUL is never in stored text).
    risky = ", ".join(str(ord(c)) for c in sorted(RISKY_STARTS) if c != "\x00")
    pieces: list[str] = []
    args: list[str] = []
    for column in CSV_COLUMNS:
        if column == "seq":
            pieces.append('"%s"')
            args.append("seq")
        elif column in _TIMES:
            pieces.append('"%s"')
            args.append(_timestamp(column))
        else:  # '"' + neutralise_cell(value) with '"' doubled + '"'; format() writes NULL as ''
            pieces.append('"%s%s"')
            args += [
                f"CASE WHEN ascii({column}) IN ({risky}) THEN '''' END",
                f"""replace({column}, '"', '""')""",
            ]
    return f"format({_literal(','.join(pieces) + chr(13) + chr(10))}, {', '.join(args)})"


def _optional(key: str, column: str) -> str:
    """``,"key":value``, or NULL (which format() writes as nothing) for a NULL column."""
    return f"""',"{key}":' || to_json({column})"""


def _value(column: str) -> str:
    """A JSON value that may be null (``type`` and ``id`` inside a target or resource)."""
    return f"coalesce(to_json({column})::text, 'null')"


def _part(key: str, prefix: str, optional: tuple[str, ...]) -> str:
    """``,"target":{"type":…,"id":…[,"name":…]}``, or NULL when every column is NULL."""
    columns = [f"{prefix}_{name}" for name in ("type", "id", *optional)]
    absent = " AND ".join(f"{column} IS NULL" for column in columns)
    fields = " || ".join(f"coalesce({_optional(n, f'{prefix}_{n}')}, '')" for n in optional)
    return (
        f"""CASE WHEN NOT ({absent}) THEN ',"{key}":{{"type":' || {_value(prefix + "_type")}"""
        f""" || ',"id":' || {_value(prefix + "_id")} || {fields} || '}}' END"""
    )


def _ndjson_line() -> str:
    # The keys and their order are export_rows.record's (Event.to_dict's).
    line = (
        '{"id":%s,"seq":%s,"tenant_id":%s,"action":%s,"category":%s,"kind":%s,'
        '"occurred_at":"%s","received_at":"%s","outcome":%s,'
        '"actor":{"type":%s,"id":%s%s%s%s}%s%s%s%s%s%s%s%s}\n'
    )
    args = [
        "to_json(id)",
        "seq",
        "to_json(tenant_id)",
        "to_json(action)",
        "to_json(category)",
        "to_json(kind)",
        _timestamp("occurred_at"),
        _timestamp("received_at"),
        "to_json(outcome)",
        "to_json(actor_type)",
        "to_json(actor_id)",
        _optional("role", "actor_role"),
        _optional("name", "actor_name"),
        _optional("email", "actor_email"),
        _part("target", "target", ("name", "email")),
        _part("resource", "resource", ("name",)),
        _optional("account_id", "account_id"),
        _optional("description", "description"),
        # The stored text is orjson's; a JSON null is no context.
        """',"context":' || nullif(context, 'null')""",
        _optional("ip", "ip"),
        _optional("user_agent", "user_agent"),
        _optional("request_id", "request_id"),
    ]
    return f"format({_literal(line)}, {', '.join(args)})"


def _python_writes() -> str:
    """The rows this module leaves to ``export_rows`` by their columns. A line holding the
    escape character is left to it too, found in the lines by the caller: every text
    column's value is in its row's line as stored (``replace`` and ``to_json`` leave the
    character alone), which costs less there than testing the columns here."""
    times = " OR ".join(f"NOT ({c} BETWEEN 0 AND {_LAST_MICROSECOND})" for c in _TIMES)
    return f"commitments IS NOT NULL OR {times}"


@functools.cache
def line_select(fmt: Literal["csv", "ndjson"]) -> str:
    """The select list of one row's line: its written text, or NULL where
    ``export_rows`` writes it, then its ``seq`` to find that row by."""
    line = _csv_line() if fmt == "csv" else _ndjson_line()
    select = f"CASE WHEN {_python_writes()} THEN NULL ELSE {line} END, seq"
    return select.replace("%", "%%")
