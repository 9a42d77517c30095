"""CSV and NDJSON export: OWASP CSV-injection vectors, exact round-trips, chunking."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealtrail.export import CSV_COLUMNS, csv_chunks, ndjson_chunks, neutralise_cell

from .naughty import NAUGHTY

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
OWASP_FILE = VECTORS / "csv-injection" / "owasp-csv-injection.json"
DANGEROUS = frozenset("=+-@\t\r\n\x00")


STRING_FIELDS = [
    ("id",),
    ("occurred_at",),
    ("received_at",),
    ("action",),
    ("category",),
    ("kind",),
    ("outcome",),
    ("actor", "type"),
    ("actor", "id"),
    ("actor", "name"),
    ("actor", "email"),
    ("actor", "role"),
    ("target", "type"),
    ("target", "id"),
    ("target", "name"),
    ("target", "email"),
    ("resource", "type"),
    ("resource", "id"),
    ("resource", "name"),
    ("account_id",),
    ("description",),
    ("ip",),
    ("user_agent",),
    ("request_id",),
    ("tenant_id",),
]


def event_with(value: str, seq: int = 0) -> dict[str, Any]:
    """An event with ``value`` in every string field and in its context."""
    event: dict[str, Any] = {"seq": seq, "context": {value: value, "list": [value]}}
    for path in STRING_FIELDS:
        if len(path) == 1:
            event[path[0]] = value
        else:
            event.setdefault(path[0], {})[path[1]] = value
    return event


def column_of(path: tuple[str, ...]) -> str:
    return "_".join(path)


def parse_csv(chunks: Iterable[bytes]) -> list[list[str]]:
    text = b"".join(chunks).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def unescape(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:2] in DANGEROUS else cell


@pytest.fixture(scope="module")
def owasp() -> dict[str, Any]:
    assert OWASP_FILE.is_file(), f"test vectors missing: {OWASP_FILE}"
    data: dict[str, Any] = json.loads(OWASP_FILE.read_text(encoding="utf-8"))
    return data


def dangerous_characters(owasp: dict[str, Any]) -> list[str]:
    entries = owasp["dangerous_leading_characters"] + owasp["asvs_extra_leading_characters"]
    return [entry["char"] for entry in entries]


def test_the_header_is_the_documented_columns() -> None:
    rows = parse_csv(csv_chunks([]))
    assert rows == [list(CSV_COLUMNS)]
    assert CSV_COLUMNS[:2] == ("seq", "id")
    assert CSV_COLUMNS[-2:] == ("context", "tenant_id")
    assert len(CSV_COLUMNS) == 27


def test_empty_input_is_the_header_alone() -> None:
    chunks = list(csv_chunks([]))
    assert chunks == [(",".join(f'"{c}"' for c in CSV_COLUMNS) + "\r\n").encode()]
    assert list(ndjson_chunks([])) == []


def test_owasp_examples_are_written_byte_for_byte(owasp: dict[str, Any]) -> None:
    for example in owasp["owasp_examples"]:
        output = b"".join(csv_chunks([{"description": example["input"]}])).decode("utf-8")
        assert "," + example["escaped_output"] + "," in output  # the description cell
        row = parse_csv([output.encode()])[1]
        assert row[CSV_COLUMNS.index("description")] == "'" + example["input"]
        assert unescape(row[CSV_COLUMNS.index("description")]) == example["input"]


def test_every_owasp_and_asvs_character_is_neutralised(owasp: dict[str, Any]) -> None:
    characters = dangerous_characters(owasp)
    assert set(characters) >= set("=+-@\t\r\n\x00")
    for character in characters:
        for value in (character, character + "1+2", character + 'cmd|"/c calc"!A0'):
            rows = parse_csv(csv_chunks([event_with(value)]))
            for column, cell in zip(CSV_COLUMNS, rows[1], strict=True):
                if column not in ("seq", "context"):
                    assert cell == "'" + value, column


@pytest.mark.parametrize("value", NAUGHTY)
def test_no_parsed_cell_starts_with_a_dangerous_character(
    owasp: dict[str, Any], value: str
) -> None:
    dangerous = set(dangerous_characters(owasp))
    for row in parse_csv(csv_chunks([event_with(value)])):
        for cell in row:
            assert cell[:1] not in dangerous


@pytest.mark.parametrize("value", NAUGHTY)
def test_naughty_strings_round_trip_through_csv(value: str) -> None:
    rows = parse_csv(csv_chunks([event_with(value, seq=7)]))
    assert len(rows) == 2
    cells = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert cells["seq"] == "7"
    expected = "'" + value if value[:1] in DANGEROUS else value
    for path in STRING_FIELDS:
        assert cells[column_of(path)] == expected, path
    assert json.loads(cells["context"]) == {value: value, "list": [value]}


@pytest.mark.parametrize("value", NAUGHTY)
def test_naughty_strings_round_trip_through_ndjson(value: str) -> None:
    event = event_with(value)
    data = b"".join(ndjson_chunks([event, event]))
    lines = data.split(b"\n")
    assert lines[-1] == b""
    assert len(lines) == 3
    assert orjson.loads(lines[0]) == event
    assert json.loads(lines[1].decode("utf-8")) == event


def test_only_a_leading_quote_is_added() -> None:
    assert neutralise_cell("=1") == "'=1"
    assert neutralise_cell("'") == "'"
    assert neutralise_cell("'=1") == "'=1"
    assert neutralise_cell("a=1") == "a=1"
    assert neutralise_cell(" =1") == " =1"
    assert neutralise_cell("") == ""
    safe = {"id": "evt_1", "actor": {"type": "user", "id": "u@x.com", "email": "u@x.com"}}
    cells = dict(zip(CSV_COLUMNS, parse_csv(csv_chunks([safe]))[1], strict=True))
    assert cells["id"] == "evt_1"
    assert cells["actor_email"] == "u@x.com"


def test_every_cell_is_quoted_and_lines_end_in_crlf() -> None:
    data = b"".join(csv_chunks([{"seq": 0, "id": "a"}])).decode()
    header, row, end = data.split("\r\n")
    assert header.startswith('"seq","id",')
    assert end == ""
    assert row.startswith('"0","a",""')
    assert all(cell.startswith('"') and cell.endswith('"') for cell in row.split(","))


def test_missing_and_null_fields_are_empty_cells() -> None:
    event = {"seq": 0, "id": "e", "actor": {"type": "system", "id": "cron"}, "target": None}
    cells = dict(zip(CSV_COLUMNS, parse_csv(csv_chunks([event]))[1], strict=True))
    assert cells["seq"] == "0"
    assert cells["actor_type"] == "system"
    assert cells["target_id"] == ""
    assert cells["resource_type"] == ""
    assert cells["context"] == ""


def test_context_is_compact_json() -> None:
    event = {"context": {"previous_role": "member", "new_role": "admin", "n": 1}}
    cells = dict(zip(CSV_COLUMNS, parse_csv(csv_chunks([event]))[1], strict=True))
    assert cells["context"] == '{"previous_role":"member","new_role":"admin","n":1}'


def test_values_that_are_not_strings_are_written_as_text() -> None:
    event = {"seq": 3, "id": 42, "description": -5, "actor": {"id": True}}
    cells = dict(zip(CSV_COLUMNS, parse_csv(csv_chunks([event]))[1], strict=True))
    assert (cells["seq"], cells["id"], cells["actor_id"]) == ("3", "42", "True")
    assert cells["description"] == "'-5"


def test_other_mappings_are_accepted() -> None:
    event = MappingProxyType({"seq": 1, "context": MappingProxyType({"a": "b"})})
    cells = dict(zip(CSV_COLUMNS, parse_csv(csv_chunks([event]))[1], strict=True))
    assert cells["context"] == '{"a":"b"}'
    assert orjson.loads(b"".join(ndjson_chunks([event]))) == {"seq": 1, "context": {"a": "b"}}


@pytest.mark.parametrize("writer", [csv_chunks, ndjson_chunks])
def test_chunks_hold_a_few_rows_and_join_to_the_same_bytes(writer: Any) -> None:
    events = [event_with(f"v{i}", seq=i) for i in range(7)]
    chunks = list(writer(events, rows_per_chunk=3))
    assert len(chunks) == 3
    assert all(chunks)
    assert b"".join(chunks) == b"".join(writer(events))
    assert b"".join(chunks) == b"".join(writer(events, rows_per_chunk=1))


def test_rows_are_written_lazily() -> None:
    def events() -> Iterable[dict[str, Any]]:
        yield {"seq": 0}
        yield {"seq": 1}
        raise AssertionError("read past the first chunk")

    assert len(parse_csv([next(iter(csv_chunks(events(), rows_per_chunk=2)))])) == 3
    assert next(iter(ndjson_chunks(events(), rows_per_chunk=2))).count(b"\n") == 2


@pytest.mark.parametrize("writer", [csv_chunks, ndjson_chunks])
def test_chunk_size_must_be_positive(writer: Any) -> None:
    with pytest.raises(ValueError, match="rows_per_chunk"):
        list(writer([], rows_per_chunk=0))


def test_bom_is_optional() -> None:
    assert b"".join(csv_chunks([], bom=True)).startswith(b'\xef\xbb\xbf"seq"')
    assert b"".join(csv_chunks([])).startswith(b'"seq"')


def test_lone_surrogates_are_refused_not_replaced() -> None:
    with pytest.raises(UnicodeEncodeError):
        list(csv_chunks([{"id": "\ud800"}]))
    with pytest.raises(orjson.JSONEncodeError):
        list(ndjson_chunks([{"id": "\ud800"}]))


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_any_text_round_trips_and_never_starts_a_cell_dangerously(values: list[str]) -> None:
    events = [event_with(value, seq=i) for i, value in enumerate(values)]
    rows = parse_csv(csv_chunks(events, rows_per_chunk=2))
    assert len(rows) == len(values) + 1
    for value, row in zip(values, rows[1:], strict=True):
        cells = dict(zip(CSV_COLUMNS, row, strict=True))
        for path in STRING_FIELDS:
            assert unescape(cells[column_of(path)]) == value
        assert not [cell for cell in row if cell[:1] in DANGEROUS]
    lines = b"".join(ndjson_chunks(events)).split(b"\n")
    assert lines.pop() == b""
    assert [orjson.loads(line) for line in lines] == events
