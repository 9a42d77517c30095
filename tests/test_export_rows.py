"""CSV and NDJSON exports written from stored rows are the bytes the Event path writes.

Each engine's database writes the lines (``store.sqlite_export``,
``store.postgres_export``), and ``store.export_rows`` writes the rows it leaves,
straight from the columns; only rows with an erased field are turned into
``Event`` objects. On each engine, a log of every shape of
event (no target, no resource, context with non-ASCII and nested values,
cells that start with a risky character, NUL in text on PostgreSQL's escape
path, an erased subject) must export to exactly what ``export.csv_chunks`` /
``ndjson_chunks`` write from ``Event.to_dict()`` of the same events.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from sealtrail import export
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import validate_event
from sealtrail.privacy import Subject
from sealtrail.query import EventQuery
from sealtrail.settings import Settings
from sealtrail.store import export_rows
from sealtrail.store.codec import COLUMNS, from_row
from sealtrail.store.sqlite import SQLiteStore

OPERATOR = Principal.operator("acme")


def _events(count: int) -> list[dict[str, Any]]:
    rng = random.Random(14)
    texts = ["plain", "=1+2", "-x", "@at", "\ttab", "caf\u00e9 \U0001f600", "nul\x00inside", ""]
    out: list[dict[str, Any]] = []
    for i in range(count):
        body: dict[str, Any] = {
            "action": rng.choice(["member.invited", "auth.login", "app.published"]),
            "actor": {"type": "user", "id": f"u{i % 7}", "email": f"user{i % 5}@example.com"},
            "occurred_at": f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:00:00.{i:06d}Z",
            "outcome": rng.choice(["success", "failure"]),
        }
        if i % 2:
            body["actor"]["name"] = rng.choice(texts[:7])
            body["actor"]["role"] = "admin"
        if i % 3 == 0:
            body["target"] = {"type": "user", "id": f"t{i}", "name": rng.choice(texts[:7])}
        if i % 4 == 0:
            body["resource"] = {"type": "app", "id": f"app_{i}"}
            body["context"] = {"z": [1, {"\u00e9": None}], "a": rng.choice(texts), "n": -i}
        if i % 5 == 0:
            body["ip"] = f"10.0.{i % 256}.{i % 200}"
            body["user_agent"] = rng.choice(texts[:7])
            body["description"] = rng.choice(texts[:7])
        if i % 2 == 0:
            body["account_id"] = f"acc_{i % 3}"
            body["request_id"] = f"req-{i}"
        out.append(body)
    return out


ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _tenant_log(request: pytest.FixtureRequest, tmp_path: Path) -> AuditLog:
    """A migrated log with tenant acme, on the engine the fixture's param names."""
    url = (
        f"sqlite:///{tmp_path / 'log.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    audit_log = AuditLog.open(
        settings=Settings(database_url=url, signing_key_file=str(tmp_path / "k.key"))
    )
    audit_log.migrate()
    audit_log.create_tenant("acme")
    return audit_log


@pytest.fixture(params=ENGINES)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    audit_log = _tenant_log(request, tmp_path)
    audit_log.ingest(OPERATOR, {"events": _events(240)})
    erasure = audit_log.erase(OPERATOR, Subject("email", "user3@example.com"), "request 14")
    if erasure.status == "running" and erasure.erasure_id is not None:
        audit_log.run_erasure("acme", erasure.erasure_id)
    try:
        yield audit_log
    finally:
        audit_log.close()


def _by_events(log: AuditLog, fmt: str, query: EventQuery) -> bytes:
    records = (e.to_dict() for chunk in log.stream(OPERATOR, query) for e in chunk)
    chunks = export.csv_chunks(records) if fmt == "csv" else export.ndjson_chunks(records)
    return b"".join(chunks)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_exports_from_rows_are_the_event_path_bytes(
    log: AuditLog, fmt: str, order: Literal["asc", "desc"], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = EventQuery(order=order)
    built = [0]
    original = from_row  # what export_rows calls

    def counted(row: Any) -> Any:
        built[0] += 1
        return original(row)

    monkeypatch.setattr(export_rows, "from_row", counted)
    written = b"".join(log.export(OPERATOR, query, fmt).chunks)  # type: ignore[arg-type]
    lines = written.count(b"\n") - (1 if fmt == "csv" else 0)
    assert written == _by_events(log, fmt, query)  # the export's own record is in both
    assert b"'=1+2" in written or fmt == "ndjson"
    assert b"[erased]" in written
    # Only the erased events' rows (user3's, and the access records naming it) became Events.
    erased = sum(
        1
        for chunk in log._store.scan_rows("acme")
        for row in chunk
        if row[COLUMNS.index("commitments")]
    )
    assert 0 < built[0] == erased < lines / 4


ODD_VALUES: tuple[Any, ...] = (None, "", "=x", 0, -1, 1.5, True, b"\x00", "null", '"s"', "[1]")


def test_rows_of_every_shape_give_the_event_path_cells(log: AuditLog) -> None:
    rows = [tuple(r) for chunk in log._store.scan_rows("acme") for r in chunk]
    rng = random.Random(14)
    compared = 0
    for row in rng.sample(rows, 40):
        for at in range(len(COLUMNS)):
            for value in ODD_VALUES:
                changed = (*row[:at], value, *row[at + 1 :])
                try:
                    event = from_row(changed).to_dict()
                except Exception:
                    continue
                try:
                    cells, record = export_rows.csv_cells(changed), export_rows.record(changed)
                except Exception as exc:  # the row path may only fail where the event path does
                    pytest.fail(f"{COLUMNS[at]}={value!r}: {exc}")
                assert cells == export.csv_cells(event), (COLUMNS[at], value)
                assert repr(record) == repr(event), (COLUMNS[at], value)  # keys in order too
                compared += 1
    assert compared > 2_000


# -- SQLite writes the lines itself (store.sqlite_export) -------------------------------------

HARD_TEXTS = (
    "%s%d%% 100%",  # printf's own marks, as data
    '"quoted" ""',
    "back\\slash \\u0041",
    "tab\tinside",
    "line\nbreak\r\n",
    "\u2028\u2029 \x7f \x01 \x1f",
    "'quote first",
    "=cmd",
    "+1",
    "-1",
    "@x",
    "\tlead",
    "\rlead",
    "\nlead",
    "nul\x00inside",
    "escape \uffff inside",
    "\x00nul first",
    "caf\u00e9 \U0001f600 \u00a0",
    " lead space",
    "",
    "null",
    "{}",
)


def _hard_events() -> list[dict[str, Any]]:
    rng = random.Random(6)
    one_line = [t for t in HARD_TEXTS if not any(c < " " or c == "\x7f" for c in t)]

    def pick() -> str:
        return rng.choice(HARD_TEXTS)

    out: list[dict[str, Any]] = []
    for i in range(500):
        body: dict[str, Any] = {
            "action": rng.choice(["member.invited", "auth.login", "app.published"]),
            "actor": {"type": "user", "id": pick() or "u", "name": pick()},
            "occurred_at": rng.choice(
                ["1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00.999999Z"]
                + ["2000-02-29T23:59:59.999999Z", "1999-12-31T23:00:00.000001Z"]
                + [f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.{i:06d}Z"] * 4
            ),
        }
        if rng.random() < 0.6:
            body["target"] = {"type": "user", "id": pick(), "name": pick()}
        if rng.random() < 0.6:
            body["resource"] = {"type": "app", "id": pick(), "name": pick()}
        if rng.random() < 0.6:
            body["context"] = {
                pick(): [pick(), 1.5, -0.0, 1e300, 2**53, None, True],
                "n": {"\u00e9": pick()},
            }
        for key in ("description", "user_agent", "request_id", "account_id"):
            if rng.random() < 0.6:
                body[key] = pick()
        if rng.random() < 0.6:
            body["actor"]["role"] = rng.choice(one_line)
        out.append(body)
    return out


@pytest.fixture(params=ENGINES)
def hard_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    audit_log = _tenant_log(request, tmp_path)
    # The texts the schema takes where they went (not a line break in a role, …).
    accepted = [body for body in _hard_events() if validate_event(body)[0] is not None]
    assert len(accepted) > 150
    audit_log.ingest(OPERATOR, {"events": accepted})
    try:
        yield audit_log
    finally:
        audit_log.close()


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_the_engine_writes_hard_text_as_the_event_path_does(
    hard_log: AuditLog, fmt: str, order: Literal["asc", "desc"], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = EventQuery(order=order)
    seq_at = COLUMNS.index("seq")
    left: list[int] = []
    original = export_rows.written

    def counted(row: Any, fmt: Literal["csv", "ndjson"]) -> bytes:
        left.append(row[seq_at])
        return original(row, fmt)

    monkeypatch.setattr(export_rows, "written", counted)
    written = b"".join(hard_log.export(OPERATOR, query, fmt).chunks)  # type: ignore[arg-type]
    assert written == _by_events(hard_log, fmt, query)
    assert (b"%s%d%%" in written and b"\\u0000" in written) or fmt == "csv"
    for time in (b"1970-01-01T00:00:00.000000Z", b"2000-02-29T23:59:59.999999Z"):
        assert time in written
    # The engine wrote every row but those it leaves to export_rows: on SQLite, for CSV,
    # those with a NUL in their text (printf stops there); on PostgreSQL those whose text
    # is stored escaped (a NUL or U+FFFF).
    rows = [r for chunk in hard_log._store.scan_rows("acme") for r in chunk]

    def holding(*marks: str) -> list[int]:
        texts = [(r[seq_at], [v for v in r if isinstance(v, str)]) for r in rows]
        return sorted(seq for seq, held in texts if any(m in v for v in held for m in marks))

    if isinstance(hard_log._store, SQLiteStore):
        assert sorted(left) == (holding("\x00") if fmt == "csv" else [])
    else:
        assert sorted(left) == holding("\x00", "\uffff")
    assert 0 < len(holding("\x00")) < len(rows)
