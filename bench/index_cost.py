"""What each index of events costs an append, and what it holds, on SQLite and PostgreSQL.

    python -m bench --only indexes                  # both engines (PostgreSQL when it answers)
    python -m bench --only indexes --index-events 200000

For each engine there is one database that keeps every index, one per index that lacks
it, and one that lacks all of them at once, each holding ``prefill`` events appended
through ``store.append`` before the clock starts (so no B-tree is timed while it is
still tiny). On SQLite each is migrated, loses its index and is filled on its own; on
PostgreSQL each is a copy (``CREATE DATABASE … TEMPLATE``) of one migrated and filled
database, the index dropped from the copy. Then ``events`` more go into every database
through ``store.append`` in batches of 1,000, the databases taking turns batch by batch in
rotating order (as ``bench/ingest.py``'s writers do), so load from other processes on a
shared machine falls on all of them alike. Every database receives the same events sealed
once beforehand, so the ledger's hashing, the same for all, is not timed: what is timed
is the store's write.

An index's cost is the time the database with every index spent beyond the one without
it: the mean over batches of the two databases' difference in the same round, with its
standard error, per event and as a share of the full database's time. SQLite is timed in
CPU seconds of this process (its writer runs here; the databases take turns, so nothing
else of the process runs meanwhile), which other processes' load hardly moves;
PostgreSQL in wall seconds (its work is the server's). Each index's bytes per event are
read from the full database at the end, as ``bench/storage.py`` reads them, as appended and
once rebuilt (SQLite ``VACUUM INTO``, PostgreSQL ``REINDEX TABLE events``): an index fed
in time order per value splits its pages in the middle and stays part empty, which a
rebuild of a month no longer written to would take back.

Kept in every database: what the append itself reads or what holds the log together
(SQLite: ``events_id``, ``events_seq``; PostgreSQL: ``events_pkey`` and ``event_ids``'
keys). The text index on SQLite is ``events_fts`` swapped for a plain table whose
trigger ignores every insert (so its FTS5 tokenizing and b-tree writes are what is
taken away; the body built in Python still is); on PostgreSQL it is the GIN
``events_search``, and separately the generated ``search`` tsvector column with it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bench.report import REPO, Figure, Run
from bench.storage import FTS_TABLES, object_bytes, postgres_sizes
from sealtrail.events import Event, to_micros
from sealtrail.store.base import EventStore as Store
from sealtrail.store.base import SealedBatch, Sealer, Tenant, TreeHead

SECTION: Final = "indexes"
BATCH_TIMES: Final = REPO / "bench" / "results" / "index_batches.json"
TENANT: Final = "acme"
BATCH: Final = 1000
DAY_US: Final = 86_400_000_000
WARM_UP: Final = 1  # batches appended to every database before the clock starts
EVERY_INDEX: Final = "every index"
NONE_OF_THEM: Final = "none of them"
SQLITE_KEPT: Final = frozenset({"events_id", "events_seq"})
# SQLite's text index, swapped for a table that takes the store's inserts and keeps nothing.
SQLITE_NO_TEXT_INDEX: Final = (
    "DROP TABLE events_fts",
    "CREATE TABLE events_fts (body TEXT)",
    "CREATE TRIGGER events_fts_ignore BEFORE INSERT ON events_fts BEGIN SELECT RAISE(IGNORE); END",
)
POSTGRES_TEXT_COLUMN: Final = "search column"
_POSTGRES_INDEXES: Final = """
SELECT c.relname FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'events'::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = c.oid)
 ORDER BY c.relname
"""


@dataclass(frozen=True, slots=True)
class Workload:
    """The events, sealed once, in batches: those each database holds before the clock
    starts, and those appended in turns (the first ``WARM_UP`` of them untimed)."""

    prefill: list[SealedBatch]
    timed: list[SealedBatch]

    @property
    def prefilled_events(self) -> int:
        return sum(len(b.events) for b in self.prefill)

    @property
    def timed_events(self) -> int:
        return sum(len(b.events) for b in self.timed[WARM_UP:])

    @property
    def total_events(self) -> int:
        return self.prefilled_events + sum(len(b.events) for b in self.timed)


def workload(prefill: int, events: int) -> Workload:
    """``prefill + events`` events of the PostgreSQL bench's corpus over the last week
    (inside the partitions a migrated PostgreSQL has), sealed in batches of 1,000."""
    from bench.postgres_bench import Corpus, seal

    now = to_micros(datetime.now(UTC))
    data = list(Corpus().events(TENANT, prefill + events, now - 7 * DAY_US, 7 * DAY_US))
    head = TreeHead()
    batches: list[SealedBatch] = []
    for start in range(0, len(data), BATCH):
        sealed = seal(head, data[start : start + BATCH])
        batches.append(sealed)
        head = sealed.head
    split = prefill // BATCH
    return Workload(batches[:split], batches[split:])


def replaying(sealed: SealedBatch) -> Sealer:
    """A sealer that hands back the batch sealed beforehand (after checking it fits)."""

    def sealer(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
        first = sealed.events[0].seq
        if head.size != first or len(fresh) != len(sealed.events):
            raise RuntimeError(f"batch sealed for seq {first} offered at {head.size}")
        return sealed

    return sealer


def fill(store: Store, batches: Sequence[SealedBatch]) -> None:
    store.create_tenant(Tenant(TENANT, "Acme", batches[0].events[0].received_at))
    for batch in batches:
        store.append(TENANT, _unsealed(batch), replaying(batch))


def _unsealed(batch: SealedBatch) -> list[Event]:
    return [replace(e, seq=-1) for e in batch.events]


def take_turns(
    stores: dict[str, Store], batches: Sequence[SealedBatch], clock: Callable[[], float]
) -> dict[str, list[float]]:
    """Seconds each store spent on each batch but the first (each store's first append
    opens its connections and reads its head), the stores taking turns per batch."""
    names = list(stores)
    spent: dict[str, list[float]] = {name: [] for name in names}
    for batch in batches[:WARM_UP]:
        for store in stores.values():
            store.append(TENANT, _unsealed(batch), replaying(batch))
    for index, batch in enumerate(batches[WARM_UP:]):
        events, sealer = _unsealed(batch), replaying(batch)
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = clock()
            stores[name].append(TENANT, events, sealer)
            spent[name].append(clock() - started)
    return spent


@dataclass(frozen=True, slots=True)
class Cost:
    """One variant: its seconds per batch, and the bytes of what it lacks in the full database,
    as appended and once rebuilt."""

    variant: str
    batches: list[float]
    bytes: int
    rebuilt: int


def saved_per_event(full: Cost, cost: Cost) -> tuple[float, float]:
    """Seconds per event the variant saves, and the standard error of that: the mean of
    the per-batch differences with the full database, each pair timed in the same round.

    The mean, not the median: an index's cost comes partly in lumps (the pages its
    inserts dirtied are written back at a WAL checkpoint or by the background writer,
    every few batches), which a median of the pairs would leave out.
    """
    pairs = [(a - b) / BATCH for a, b in zip(full.batches, cost.batches, strict=True)]
    return statistics.fmean(pairs), statistics.stdev(pairs) / math.sqrt(len(pairs))


def figures(engine: str, costs: list[Cost], load: Workload, clock: str) -> list[Figure]:
    full = next(c for c in costs if c.variant == EVERY_INDEX)
    timed, total = load.timed_events, load.total_events
    per_event = statistics.fmean(full.batches) / BATCH
    out = [
        Figure(
            SECTION,
            f"{engine}: append, {EVERY_INDEX}",
            1 / per_event,
            "events/s",
            detail=f"{per_event * 1e6:.1f} µs/event ({clock}); {timed:,} events "
            f"appended onto {total - timed:,}",
        )
    ]
    saved = {c.variant: saved_per_event(full, c) for c in costs if c is not full}
    for cost in sorted(costs, key=lambda c: -saved.get(c.variant, (0.0, 0.0))[0]):
        if cost is full:
            continue
        mean, error = saved[cost.variant]
        out.append(
            Figure(
                SECTION,
                f"{engine}: {cost.variant}",
                mean / per_event * 100,
                "%",
                detail=f"{mean * 1e6:+.1f} ± {error * 1e6:.1f} µs/event; "
                f"{cost.bytes / total:,.1f} B/event, rebuilt {cost.rebuilt / total:,.1f}",
            )
        )
    return out


# -- SQLite -----------------------------------------------------------------------------------


def sqlite_variants(path: Path) -> dict[str, tuple[str, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' "
                "AND sql IS NOT NULL ORDER BY name"
            )
            if name not in SQLITE_KEPT
        ]
    variants: dict[str, tuple[str, ...]] = {EVERY_INDEX: ()}
    variants |= {name: (f"DROP INDEX {name}",) for name in names}
    variants["events_fts"] = SQLITE_NO_TEXT_INDEX
    variants[NONE_OF_THEM] = (*(f"DROP INDEX {name}" for name in names), *SQLITE_NO_TEXT_INDEX)
    return variants


def measure_sqlite(work: Path, load: Workload) -> list[Cost]:
    from bench.server import settings_for
    from sealtrail.store.sqlite import SQLiteStore

    def open_store(directory: Path) -> SQLiteStore:
        settings = settings_for(directory)
        return SQLiteStore(settings.database_url, cache_mib=settings.sqlite_cache_mib)

    # Each database is migrated, loses its index and is filled on its own, not copied from one
    # filled file: an index dropped from a filled file leaves its pages on the free list,
    # and taking pages from it slowed that database's appends by more than the index had cost
    # (measured: every single index "saved" -1 to -5 µs/event until the list ran out).
    schema = work / "schema"
    schema.mkdir()
    open_store(schema).migrate()
    variants = sqlite_variants(schema / "sealtrail.db")
    stores: dict[str, Store] = {}
    paths: dict[str, Path] = {}
    try:
        for n, (variant, statements) in enumerate(variants.items()):
            directory = work / f"copy-{n}"
            directory.mkdir()
            paths[variant] = directory / "sealtrail.db"
            migrating = open_store(directory)
            migrating.migrate()
            migrating.close()
            with contextlib.closing(sqlite3.connect(paths[variant])) as copy:
                for statement in statements:
                    copy.execute(statement)
                copy.commit()
            stores[variant] = open_store(directory)
            fill(stores[variant], load.prefill)
        spent = take_turns(stores, load.timed, time.process_time)
    finally:
        for store in stores.values():
            store.close()
    names = [name for name in variants if name not in (EVERY_INDEX, NONE_OF_THEM)]

    def sizes_of(path: Path) -> dict[str, int]:
        sizes = object_bytes(path)
        sizes["events_fts"] = sum(sizes.get(name, 0) for name in FTS_TABLES)
        sizes[NONE_OF_THEM] = sum(sizes.get(name, 0) for name in names)
        return sizes

    rebuilt_path = work / "rebuilt.db"
    with contextlib.closing(sqlite3.connect(paths[EVERY_INDEX])) as db:
        db.execute("VACUUM INTO ?", (str(rebuilt_path),))
    grown, rebuilt = sizes_of(paths[EVERY_INDEX]), sizes_of(rebuilt_path)
    return [Cost(v, spent[v], grown.get(v, 0), rebuilt.get(v, 0)) for v in variants]


# -- PostgreSQL -------------------------------------------------------------------------------


def postgres_variants(url: str) -> dict[str, tuple[str, ...]]:
    import psycopg

    with psycopg.connect(url) as connection:
        names = [name for (name,) in connection.execute(_POSTGRES_INDEXES)]
    variants: dict[str, tuple[str, ...]] = {EVERY_INDEX: ()}
    variants |= {name: (f"DROP INDEX {name}",) for name in names}
    variants[POSTGRES_TEXT_COLUMN] = ("ALTER TABLE events DROP COLUMN search",)
    variants[NONE_OF_THEM] = (
        *(f"DROP INDEX {name}" for name in names),
        "ALTER TABLE events DROP COLUMN search",
    )
    return variants


def measure_postgres(admin_url: str, load: Workload) -> list[Cost]:
    import psycopg

    from bench.postgres_bench import scratch_database
    from sealtrail.store.postgres import PostgresStore

    with contextlib.ExitStack() as stack:
        template = stack.enter_context(scratch_database(admin_url))
        store = PostgresStore(template)
        try:
            store.migrate()
            fill(store, load.prefill)
        finally:
            store.close()
        with psycopg.connect(template, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
        variants = postgres_variants(template)
        urls: dict[str, str] = {}
        for variant, statements in variants.items():
            urls[variant] = stack.enter_context(scratch_database(admin_url, template=template))
            with psycopg.connect(urls[variant], autocommit=True) as connection:
                for statement in statements:
                    connection.execute(statement)
        stores: dict[str, Store] = {}
        try:
            for variant, url in urls.items():
                stores[variant] = PostgresStore(url)
            spent = take_turns(stores, load.timed, time.perf_counter)
        finally:
            for opened in stores.values():
                opened.close()
        names = [name for name in variants if name not in (EVERY_INDEX, NONE_OF_THEM)]

        def sizes_of(connection: psycopg.Connection[Any]) -> dict[str, int]:
            sizes = {name: size for name, (_, size) in postgres_sizes(connection).items()}
            column = connection.execute("SELECT sum(pg_column_size(search)) FROM events")
            row = column.fetchone()
            sizes[POSTGRES_TEXT_COLUMN] = int(row[0] or 0) + sizes["events_search"] if row else 0
            sizes[NONE_OF_THEM] = sum(sizes.get(n, 0) for n in names if n != "events_search")
            return sizes

        with psycopg.connect(urls[EVERY_INDEX], autocommit=True) as connection:
            grown = sizes_of(connection)
            connection.execute("REINDEX TABLE events")
            rebuilt = sizes_of(connection)
        return [Cost(v, spent[v], grown.get(v, 0), rebuilt.get(v, 0)) for v in variants]


def run(run: Run, work: Path, *, admin_url: str, prefill: int, events: int) -> None:
    from bench.external import postgres_reason

    load = workload(prefill, events)
    # The workload's objects are never garbage: a full collection that walks them would
    # land on whichever database's append allocates at that moment.
    gc.collect()
    gc.freeze()
    work = work / "indexes"
    work.mkdir()
    measured = {"SQLite": measure_sqlite(work, load)}
    run.add(figures("SQLite", measured["SQLite"], load, "CPU"))
    reason = postgres_reason(admin_url)
    if reason is None:
        measured["PostgreSQL"] = measure_postgres(admin_url, load)
        run.add(figures("PostgreSQL", measured["PostgreSQL"], load, "wall clock"))
    else:
        run.note(SECTION, f"PostgreSQL skipped: {reason}")
    BATCH_TIMES.parent.mkdir(parents=True, exist_ok=True)
    BATCH_TIMES.write_text(
        json.dumps({e: {c.variant: c.batches for c in costs} for e, costs in measured.items()})
    )
    run.note(
        SECTION,
        f"each database holding {load.prefilled_events:,} events, then "
        f"{WARM_UP * BATCH:,} appended untimed, appended {load.timed_events:,} more "
        f"through store.append in batches of {BATCH:,}, "
        "the databases taking turns per batch, sealed beforehand; a variant's figure is the "
        "share of the full database's append time it saves (the mean of the per-batch "
        "differences, ± its standard error), and the bytes per event that index holds in the "
        "full database at the end, as appended and rebuilt (SQLite VACUUM INTO, PostgreSQL "
        "REINDEX TABLE events); "
        f"{NONE_OF_THEM}: every one dropped at once (SQLite keeps "
        f"{', '.join(sorted(SQLITE_KEPT))}; PostgreSQL events_pkey and event_ids' keys); "
        f"load average at the end {os.getloadavg()[0]:.2f}; every batch's seconds in "
        f"{BATCH_TIMES.relative_to(REPO)}",
    )
