"""Ingest into SQLite: raw executemany, ``AuditLog``, HTTP, and the ledger's share.

Every measurement writes the same generated events into a fresh database file
(migrated by the real migrations, opened with the production pragmas). The
in-process writers take turns one batch at a time — batch k goes to raw,
append, no-ledger and ingest (in rotating order), each into its own database,
before batch k+1 goes to any — so load from other processes on a shared
machine falls on all of them alike and the ratios hold still.

* **raw**: the baseline. The exact rows ``AuditLog`` would write (built
  beforehand with ``codec.to_row`` and ``query.text.search_text`` from the same
  events, seq and leaf hash assigned) go in with ``executemany`` into ``events``
  and ``events_fts``, 1000 rows per transaction, on a connection from
  ``SQLiteStore._connect`` with the writer's cache size.
* **append**: ``AuditLog.append`` with validated ``EventInput`` batches of 1000.
* **ingest**: ``AuditLog.ingest`` with the raw dicts, so validation is included.
* **no ledger**: the same ``store.append`` with a sealer that only assigns seq:
  zero leaf hashes, no tree nodes. Its difference to **append** is what the
  ledger costs (leaf templates, leaf hashes, tree nodes and their rows).
* **HTTP**: a real ``sealtrail serve`` subprocess; a few client threads post
  pre-serialised ``{"events": [...]}`` bodies with httpx.
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from bench import data
from bench.report import Figure, Run, median
from bench.server import serve, settings_for
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.catalog import Catalog
from sealtrail.events import Actor, Event, EventInput, now_micros, validate_batch
from sealtrail.ledger.leaf import PERSONAL_FIELDS, SALT_SIZE, LeafTemplate
from sealtrail.query.text import search_text
from sealtrail.store.base import SealedBatch, TreeHead
from sealtrail.store.codec import to_row
from sealtrail.store.sqlite import _INSERT_EVENT, SQLiteStore

SECTION = "ingest"
TENANT = "bench"
BATCH = 1000
_ZERO_LEAF = bytes(32)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class IngestData:
    wire: list[dict[str, Any]]
    inputs: list[list[EventInput]]  # batches of BATCH, validated
    sealed: list[tuple[list[Event], list[bytes]]]  # per batch: events with seq, leaf hashes
    rows: list[tuple[list[Row], list[str]]]  # per batch: SQLite events rows, FTS bodies

    @property
    def count(self) -> int:
        return len(self.wire)

    def bodies(self, batch_size: int) -> list[bytes]:
        return [
            orjson.dumps({"events": list(chunk)}) for chunk in data.batched(self.wire, batch_size)
        ]


def prepare(count: int, seed: int = 1) -> IngestData:
    """The events, validated inputs and the rows ``AuditLog`` would write for them."""
    # The day before the current hour: recent, as live events are (PostgreSQL partitions).
    now = now_micros()
    wire = data.ingest_events(
        count, seed=seed, tenant_id=TENANT, until_us=now - now % 3_600_000_000
    )
    inputs = [validate_batch({"events": list(chunk)}) for chunk in data.batched(wire, BATCH)]
    catalog = Catalog.builtin()
    sealed: list[tuple[list[Event], list[bytes]]] = []
    rows: list[tuple[list[Row], list[str]]] = []
    size = 0
    for batch in inputs:
        pending = _prepared(batch, catalog)
        events = [e.with_seq(size + i) for i, e in enumerate(pending)]
        hashes = [LeafTemplate(e.to_dict(), e.salts).leaf_hash(e.seq) for e in events]
        sealed.append((events, hashes))
        rows.append(
            (
                [to_row(e, h) for e, h in zip(events, hashes, strict=True)],
                [search_text(e) for e in events],
            )
        )
        size += len(events)
    return IngestData(wire, inputs, sealed, rows)


def _prepared(batch: Sequence[EventInput], catalog: Catalog) -> list[Event]:
    """What ``AuditLog.append`` makes of a batch before the store's lock (its own code)."""
    received = now_micros()
    pool = os.urandom(SALT_SIZE * len(PERSONAL_FIELDS) * len(batch))
    return [
        AuditLog._prepare(TENANT, raw, catalog, received, pool, i) for i, raw in enumerate(batch)
    ]


# -- in-process writers, stepped one batch at a time ------------------------------------------


def _fresh_log(directory: Path, *, limited: bool = False) -> tuple[AuditLog, SQLiteStore]:
    """A migrated log with the bench tenant, and its store (for the baselines that bypass it);
    ``limited``: API-key requests are charged to rate limits (too high to refuse any)."""
    settings = replace(settings_for(directory), rate_limits=limited)
    store = SQLiteStore(settings.database_url, cache_mib=settings.sqlite_cache_mib)
    log = AuditLog(store, settings=settings)
    log.migrate()
    log.create_tenant(TENANT)
    return log, store


class Writer(Protocol):
    """One way of writing the payload into its own fresh database, a batch per ``step``."""

    def step(self, index: int) -> None: ...

    def close(self) -> None: ...


class RawWriter:
    """The baseline: the finished rows, ``executemany``, one transaction per batch."""

    def __init__(self, payload: IngestData, directory: Path) -> None:
        self._payload = payload
        self._log, store = _fresh_log(directory)
        self._connection = store._connect(cache_kib=store._cache_kib)

    def step(self, index: int) -> None:
        rows, bodies = self._payload.rows[index]
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(_INSERT_EVENT, rows)
        last = connection.execute("SELECT last_insert_rowid()").fetchone()[0]
        first = last - len(rows) + 1
        connection.executemany(
            "INSERT INTO events_fts (rowid, body) VALUES (?, ?)",
            [(first + i, body) for i, body in enumerate(bodies)],
        )
        connection.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()
        self._log.close()


class AppendWriter:
    """``AuditLog.append`` of validated inputs."""

    def __init__(self, payload: IngestData, directory: Path) -> None:
        self._payload = payload
        self._log, self._store = _fresh_log(directory)
        self._operator = Principal.operator(TENANT)

    def step(self, index: int) -> None:
        self._log.append(self._operator, self._payload.inputs[index])

    def close(self) -> None:
        self._log.close()


class IngestWriter(AppendWriter):
    """``AuditLog.ingest`` of the raw dicts by an API key: validation included, rate limits off."""

    limited = False

    def __init__(self, payload: IngestData, directory: Path) -> None:
        self._payload = payload
        self._log, self._store = _fresh_log(directory, limited=self.limited)
        self._operator = Principal.operator(TENANT)
        self._principal = Principal(
            TENANT, "api_key", Actor("api_key", "bench"), frozenset({"events:write"})
        )
        self._bodies = [{"events": list(chunk)} for chunk in data.batched(payload.wire, BATCH)]

    def step(self, index: int) -> None:
        self._log.ingest(self._principal, self._bodies[index])


class LimitedIngestWriter(IngestWriter):
    """The same, with every batch charged to the key's and the tenant's write limits."""

    limited = True


def _seal_without_ledger(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
    events = [e.with_seq(head.size + i) for i, e in enumerate(fresh)]
    return SealedBatch(events, [_ZERO_LEAF] * len(events), [], TreeHead(head.size + len(events)))


class NoLedgerWriter(AppendWriter):
    """``AuditLog.append`` minus the ledger: its preparation, ``store.append``, seq only."""

    def __init__(self, payload: IngestData, directory: Path) -> None:
        super().__init__(payload, directory)
        self._catalog = self._log.catalog(self._operator)

    def step(self, index: int) -> None:
        self._log.tenant(TENANT)
        pending = _prepared(self._payload.inputs[index], self._catalog)
        self._store.append(TENANT, pending, _seal_without_ledger)


WRITERS: dict[str, Callable[[IngestData, Path], Writer]] = {
    "raw": RawWriter,
    "append": AppendWriter,
    "no_ledger": NoLedgerWriter,
    "ingest": IngestWriter,
    "ingest_limited": LimitedIngestWriter,
}


def interleaved(payload: IngestData, work: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Events/s of every writer, each into its own fresh database, taking turns per batch,
    and the process's CPU µs per event for each (the caller's and the SQLite writer
    thread's together; what the load of other processes hardly moves).

    Batch k goes to every writer before batch k+1 goes to any (the order rotating), so
    background load on a shared machine falls on all of them alike.
    """
    names = list(WRITERS)
    spent = dict.fromkeys(names, 0.0)
    cpu = dict.fromkeys(names, 0.0)
    with tempfile.TemporaryDirectory(dir=work, prefix="ingest-") as scratch:
        writers: dict[str, Writer] = {}
        try:
            for name in names:
                directory = Path(scratch) / name
                directory.mkdir()
                writers[name] = WRITERS[name](payload, directory)
            clock, cpu_clock = time.perf_counter, time.process_time
            for index in range(len(payload.rows)):
                shift = index % len(names)
                for name in names[shift:] + names[:shift]:
                    started, cpu_started = clock(), cpu_clock()
                    writers[name].step(index)
                    spent[name] += clock() - started
                    cpu[name] += cpu_clock() - cpu_started
        finally:
            for writer in writers.values():
                writer.close()
    rates = {name: payload.count / seconds for name, seconds in spent.items()}
    return rates, {name: seconds * 1e6 / payload.count for name, seconds in cpu.items()}


def measure_http(payload: IngestData, directory: Path, batch_size: int, clients: int) -> float:
    bodies = payload.bodies(batch_size)
    with serve(directory, TENANT) as live:
        headers = {"Authorization": f"Bearer {live.api_key}", "Content-Type": "application/json"}
        cursor = iter(range(len(bodies)))
        lock = threading.Lock()
        errors: list[BaseException] = []
        ready = threading.Barrier(clients + 1)

        def client() -> None:
            with httpx.Client(base_url=live.url, headers=headers, timeout=300) as http:
                ready.wait()
                try:
                    while True:
                        with lock:
                            index = next(cursor, None)
                        if index is None:
                            return
                        response = http.post("/v1/events", content=bodies[index])
                        if response.status_code != 201:
                            raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        ready.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"HTTP ingest failed: {errors[0]}") from errors[0]
    return payload.count / elapsed


# -- the section --------------------------------------------------------------------------------


def _repeat(
    work: Path, repeats: int, measures: dict[str, Callable[[Path], float]]
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in measures}
    for rep in range(repeats):
        for name, measure in measures.items():
            with tempfile.TemporaryDirectory(dir=work, prefix=f"{name}-") as directory:
                rate = measure(Path(directory))
            results[name].append(rate)
            print(f"    {name} run {rep + 1}/{repeats}: {rate:,.0f} events/s", flush=True)
    return results


def _runs(values: Sequence[float]) -> str:
    return "runs " + ", ".join(f"{v:,.0f}" for v in values)


def run(
    report: Run,
    work: Path,
    *,
    events: int,
    repeats: int,
    http_repeats: int,
    clients: int,
    seed: int = 1,
) -> None:
    print(f"ingest: preparing {events:,} events", flush=True)
    payload = prepare(events, seed)
    report.note(
        SECTION,
        f"{events:,} generated events per measurement, one tenant, a fresh database file for "
        "each. The in-process writers take turns batch by batch (raw, append, no-ledger, "
        "ingest, ingest with rate limits, rotating), each into its own database; medians of "
        f"{repeats} such runs. HTTP: "
        f"{http_repeats} run(s) per batch size; its ratio is to the raw median.",
    )
    rates: dict[str, list[float]] = {name: [] for name in WRITERS}
    cpu: dict[str, list[float]] = {name: [] for name in WRITERS}
    for rep in range(repeats):
        run_rates, run_cpu = interleaved(payload, work)
        for name, rate in run_rates.items():
            rates[name].append(rate)
            cpu[name].append(run_cpu[name])
            print(
                f"    {name} run {rep + 1}/{repeats}: {rate:,.0f} events/s,"
                f" {run_cpu[name]:.1f} CPU µs/event",
                flush=True,
            )
    http = _repeat(
        work,
        http_repeats,
        {
            f"http_{size}": functools.partial(
                measure_http, payload, batch_size=size, clients=clients
            )
            for size in (100, 1000)
        },
    )
    raw = median(rates["raw"])
    base = "raw executemany"

    def against_raw(name: str, label: str, values: list[float], floor: float | None) -> Figure:
        value = median(values)
        return Figure(
            SECTION,
            label,
            value,
            "events/s",
            baseline=raw,
            baseline_name=base,
            detail=_runs(values),
            target="" if floor is None else f"≥ {floor * 100:.0f} % of raw",
            passed=None if floor is None else value / raw >= floor,
        )

    with_ledger, without = median(rates["append"]), median(rates["no_ledger"])
    cpu_with, cpu_without = median(cpu["append"]), median(cpu["no_ledger"])
    overheads = [
        (free / sealed - 1) * 100
        for free, sealed in zip(rates["no_ledger"], rates["append"], strict=True)
    ]
    overhead = median(overheads)
    limiter_runs = [
        (free / limited - 1) * 100
        for free, limited in zip(rates["ingest"], rates["ingest_limited"], strict=True)
    ]
    limiter = median(limiter_runs)
    report.add(
        [
            Figure(
                SECTION,
                "raw executemany + FTS rows, 1000/txn (baseline)",
                raw,
                "events/s",
                detail=_runs(rates["raw"]),
            ),
            against_raw(
                "append", "AuditLog.append, EventInput batches of 1000", rates["append"], 0.70
            ),
            against_raw(
                "ingest", "AuditLog.ingest, raw dicts (validation included)", rates["ingest"], None
            ),
            against_raw(
                "http_100", f"HTTP POST, batches of 100, {clients} clients", http["http_100"], 0.40
            ),
            against_raw(
                "http_1000",
                f"HTTP POST, batches of 1000, {clients} clients",
                http["http_1000"],
                0.40,
            ),
            against_raw(
                "no_ledger",
                "store.append without the ledger (zero leaves, no nodes)",
                rates["no_ledger"],
                None,
            ),
            Figure(
                SECTION,
                "rate limiter overhead on AuditLog.ingest",
                limiter,
                "%",
                detail=(
                    f"median of per-run overheads {', '.join(f'{o:.1f}' for o in limiter_runs)} %;"
                    f" {median(rates['ingest_limited']):,.0f} events/s charged to key and tenant"
                    f" limits (in-process counters, batches of {BATCH}),"
                    f" {median(rates['ingest']):,.0f} without"
                ),
                target="≤ 3 %",
                passed=limiter <= 3,
            ),
            Figure(
                SECTION,
                "ledger overhead on AuditLog.append",
                overhead,
                "%",
                detail=(
                    f"median of per-run overheads {', '.join(f'{o:.1f}' for o in overheads)} %; "
                    f"{with_ledger:,.0f} events/s with, {without:,.0f} without; in CPU "
                    f"{cpu_with:.1f} µs/event with, {cpu_without:.1f} without"
                    f" ({(cpu_with / cpu_without - 1) * 100:.1f} %), raw {median(cpu['raw']):.1f}"
                ),
                target="≤ 15 %",
                passed=overhead <= 15,
            ),
        ]
    )
