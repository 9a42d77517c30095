"""Streaming CSV and NDJSON writers over events in the API's JSON shape.

Both take any iterable of event objects (as ``GET /v1/events`` returns them) and yield
UTF-8 ``bytes`` chunks of a few hundred rows, so a response or a file can be written
while the events are still being read.

CSV (RFC 4180, CRLF line ends, a header row, every cell quoted) is neutralised against
CSV injection (OWASP; ASVS 5.0 V1.2.10): a cell whose first character is ``=`` ``+``
``-`` ``@`` TAB CR LF or NUL gets a single quote ``'`` put in front of it. That prefix is
the only change: every other byte round-trips exactly, so a reader recovers each value by
removing the leading ``'`` from any cell whose second character is one of those. A value
that itself starts with ``'`` is left alone: it is harmless, and a reader that compares
values byte for byte must see it unchanged. Unlike OWASP's scheme, a safe cell gets no
``'``, so ids, times and addresses read as they are. Every cell is quoted, as in OWASP's
scheme, so its two examples come out byte for byte as OWASP writes them. The guarantee is
for RFC 4180 parsing with ``,``: a program that splits the file on ``;`` or TAB instead can find a
cell start inside a value, which no leading-quote scheme can prevent.

NDJSON is one compact JSON object per line, written by orjson: strings round-trip
exactly (non-ASCII is written as UTF-8, control characters escaped).

Every value except ``seq`` is a string or absent; ``context`` is a JSON object and goes
into its CSV cell as compact JSON. Text that is not valid Unicode (lone surrogates, which
ingest refuses) raises rather than being silently replaced.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import orjson

__all__ = [
    "CSV_COLUMNS",
    "CSV_MEDIA_TYPE",
    "NDJSON_MEDIA_TYPE",
    "RISKY_STARTS",
    "ROWS_PER_CHUNK",
    "EventRecord",
    "csv_cells",
    "csv_chunks",
    "csv_header",
    "ndjson_chunks",
    "neutralise_cell",
]

EventRecord = Mapping[str, Any]
"""One event as the API returns it: nested ``actor``/``target``/``resource`` objects,
``context`` an object, timestamps as RFC 3339 strings, ``seq`` an integer."""

CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
NDJSON_MEDIA_TYPE: Final = "application/x-ndjson"
ROWS_PER_CHUNK: Final = 500

CSV_COLUMNS: Final[tuple[str, ...]] = (
    "seq",
    "id",
    "occurred_at",
    "received_at",
    "action",
    "category",
    "kind",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_name",
    "actor_email",
    "actor_role",
    "target_type",
    "target_id",
    "target_name",
    "target_email",
    "resource_type",
    "resource_id",
    "resource_name",
    "account_id",
    "description",
    "ip",
    "user_agent",
    "request_id",
    "context",
    "tenant_id",
)

# OWASP's dangerous leading characters and ASVS's NUL.
# (so that removing one leading "'" is always the exact inverse).
RISKY_STARTS: Final = frozenset("=+-@\t\r\n\x00")
_EMPTY: Final[Mapping[str, Any]] = {}
# A cell start is the character after a \x01 in "\x01" + "\x01".join(cells); a \x01 inside a
# value can only cause a false alarm. (\x01 itself is no risky start, so two empty cells in a
# row do not look like one starting with a risky character, as NUL separators did.)
_CELL_SEPARATOR: Final = "\x01"
_RISKY_CELL_START: Final = re.compile(
    _CELL_SEPARATOR + "[" + re.escape("".join(sorted(RISKY_STARTS))) + "]"
)


def neutralise_cell(value: str) -> str:
    """The cell text for ``value``: ``'`` + value when it starts with a risky character."""
    return "'" + value if value[:1] in RISKY_STARTS else value


def _json_default(value: object) -> object:
    """orjson writes dicts; other mappings (a MappingProxy, say) are written as dicts."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


def csv_cells(event: EventRecord) -> list[Any]:
    """The cells of one event's row, in ``CSV_COLUMNS`` order, not yet neutralised."""
    get = event.get
    actor_get = (get("actor") or _EMPTY).get
    target_get = (get("target") or _EMPTY).get
    resource_get = (get("resource") or _EMPTY).get
    seq = get("seq")
    context = get("context")
    cells = [
        "" if seq is None else str(seq),
        get("id") or "",
        get("occurred_at") or "",
        get("received_at") or "",
        get("action") or "",
        get("category") or "",
        get("kind") or "",
        get("outcome") or "",
        actor_get("type") or "",
        actor_get("id") or "",
        actor_get("name") or "",
        actor_get("email") or "",
        actor_get("role") or "",
        target_get("type") or "",
        target_get("id") or "",
        target_get("name") or "",
        target_get("email") or "",
        resource_get("type") or "",
        resource_get("id") or "",
        resource_get("name") or "",
        get("account_id") or "",
        get("description") or "",
        get("ip") or "",
        get("user_agent") or "",
        get("request_id") or "",
        "" if context is None else orjson.dumps(context, default=_json_default).decode(),
        get("tenant_id") or "",
    ]
    return cells


def _neutralised(cells: list[Any]) -> list[str]:
    """The cells as strings, each neutralised (``neutralise_cell``)."""
    try:
        # One regex pass finds a risky first character in any cell; almost every row is clean.
        if _RISKY_CELL_START.search(_CELL_SEPARATOR + _CELL_SEPARATOR.join(cells)) is None:
            return cells
    except TypeError:  # a value that is not a string: convert it, then check each cell
        cells = [_text(cell) for cell in cells]
    return [neutralise_cell(cell) for cell in cells]


def csv_header(*, bom: bool = False) -> bytes:
    """The header row (``CSV_COLUMNS``), after a UTF-8 byte order mark if ``bom``."""
    return b"".join(csv_chunks((), bom=bom))


def csv_chunks(
    events: Iterable[Any],
    *,
    rows_per_chunk: int = ROWS_PER_CHUNK,
    bom: bool = False,
    header: bool = True,
    cells_of: Callable[[Any], list[Any]] = csv_cells,
) -> Iterator[bytes]:
    """The events as CSV: the header row, then one row per event, in chunks.

    Empty input yields the header alone. ``bom`` starts the file with a UTF-8 byte order
    mark, which some spreadsheet programs need to read it as UTF-8. ``header=False`` writes
    the rows alone (a file's body, after ``csv_header``). ``cells_of`` gives an event's
    cells (``csv_cells`` of an event object; a store passes its own for rows); every cell
    is neutralised here, whoever made it.
    """
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    if header:
        if bom:
            buffer.write("\ufeff")
        writer.writerow(CSV_COLUMNS)
    rows: list[list[str]] = []
    for event in events:
        rows.append(_neutralised(cells_of(event)))
        if len(rows) >= rows_per_chunk:
            writer.writerows(rows)
            rows.clear()
            yield _drain(buffer)
    writer.writerows(rows)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def ndjson_chunks(
    events: Iterable[EventRecord], *, rows_per_chunk: int = ROWS_PER_CHUNK
) -> Iterator[bytes]:
    """The events as NDJSON, one compact JSON object per ``\\n``-terminated line."""
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    lines: list[bytes] = []
    for event in events:
        lines.append(dumps(event, default=_json_default, option=option))
        if len(lines) >= rows_per_chunk:
            yield b"".join(lines)
            lines.clear()
    if lines:
        yield b"".join(lines)
