"""The cached query/ledger database: N events of a big tenant plus four smaller ones.

``ensure(size)`` returns a complete Sealtrail SQLite database under
``bench/.data/`` and builds it first if it is missing. The name carries the
size, the generator version and a fingerprint of what gets stored (the
migrated schema and the rows of a small probe), so a change to either builds a
new one and removes the outdated one.

The big tenant ``acme`` holds ``size`` events (so "queries at 1 M" are over a
tenant of 1 M events, and its Merkle tree has exactly 1 M leaves); four more
tenants hold ``size / 4`` between them, interleaved in time, as tenants are in
a shared database. Each tenant's history covers the 365 days before
``data.ANCHOR_US``.

The build is fast but not a shortcut around what is stored: events are
generated (``bench.data``), validated (``validate_event``), prepared by
``AuditLog``'s own code (catalog classification, descriptions, salts),
hashed into real leaves and written as ``codec.to_row`` rows plus FTS
bodies; each tenant's tree nodes and head are computed with
``ledger.tree.append``; and every tenant gets a signed checkpoint. What
differs from a live ingest is only the order of work: rows are loaded with
the events table's indexes dropped and those same indexes (read back from
``sqlite_master``) are recreated afterwards, and two processes generate
while the main one writes. ``verify_store`` passes on the result.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench import data
from bench.report import REPO
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.catalog import Catalog
from sealtrail.errors import FieldError
from sealtrail.events import parse_timestamp, validate_event
from sealtrail.ledger import tree
from sealtrail.ledger.leaf import PERSONAL_FIELDS, SALT_SIZE, LeafTemplate
from sealtrail.query.text import search_text
from sealtrail.settings import Settings
from sealtrail.store.codec import COLUMNS, to_row
from sealtrail.store.sql import day_of, hour_of
from sealtrail.store.sqlite import _INSERT_EVENT, SQLiteStore

DATA_DIR: Final = REPO / "bench" / ".data"
CHUNK: Final = 5000
SPAN_DAYS: Final = 365


@dataclass(frozen=True, slots=True)
class Dataset:
    path: Path
    key_file: Path
    size: int
    seed: int
    plans: tuple[data.TenantPlan, ...] = field(repr=False)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def big(self) -> data.TenantPlan:
        return self.plans[0]

    @property
    def total(self) -> int:
        return sum(p.events for p in self.plans)

    def settings(self) -> Settings:
        return Settings(database_url=self.url, signing_key_file=str(self.key_file))

    def open(self) -> AuditLog:
        return AuditLog(self.store(), settings=self.settings())

    def store(self) -> SQLiteStore:
        """The dataset's store itself, for the baselines that bypass ``AuditLog``."""
        return SQLiteStore(self.url, cache_mib=self.settings().sqlite_cache_mib)


def size_label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def fingerprint(seed: int) -> str:
    """What the stored bytes depend on, measured rather than assumed.

    The schema a fresh migration creates, and the rows, FTS bodies and leaf
    hashes the build writes for a small probe of generated events: a refactor
    that leaves them alike keeps the cache, any change to what is stored (a
    column, an index, the codec, the leaf format, validation, descriptions)
    builds anew.
    """
    digest = hashlib.sha256(f"generator {data.GENERATOR_VERSION}".encode())
    with tempfile.TemporaryDirectory(prefix="sealtrail-fingerprint-") as scratch:
        store = SQLiteStore(f"sqlite:///{Path(scratch) / 'probe.db'}")
        try:
            store.migrate()
            connection = store._connect()
            try:
                schema = connection.execute(
                    "SELECT type, name, sql FROM sqlite_master"
                    " WHERE name NOT LIKE 'alembic%' ORDER BY type, name"
                ).fetchall()
            finally:
                connection.close()
        finally:
            store.close()
    digest.update(repr(schema).encode())
    probe = data.TenantPlan("probe", 300, data.population("probe", seed=seed))
    _init_worker((probe,), seed)
    try:
        _, rows, bodies, hashes = _chunk((0, 0, 300, data.ANCHOR_US - data.DAY_US, data.ANCHOR_US))
    finally:
        _factories.clear()
    digest.update(repr((rows, bodies, hashes)).encode())
    return digest.hexdigest()[:10]


def _stale(size: int, seed: int, keep: str) -> list[Path]:
    prefix = f"sqlite-{size_label(size)}-"
    return [
        path
        for path in DATA_DIR.glob(f"{prefix}*")
        if not path.name.startswith(keep) and f"-s{seed}-" in path.name
    ]


def _planned(size: int, seed: int) -> Dataset:
    stem = f"sqlite-{size_label(size)}-g{data.GENERATOR_VERSION}-s{seed}-{fingerprint(seed)}"
    return Dataset(
        DATA_DIR / f"{stem}.db",
        DATA_DIR / f"{stem}.key",
        size,
        seed,
        tuple(data.tenant_plans(size, seed=seed)),
    )


def cached(size: int, *, seed: int = 1) -> Dataset | None:
    """The cached dataset of ``size`` if it is there (nothing is built)."""
    dataset = _planned(size, seed)
    return dataset if dataset.path.exists() and dataset.key_file.exists() else None


def ensure(size: int, *, seed: int = 1, workers: int = 2) -> Dataset:
    """The cached dataset of ``size``, built now if it is not there yet."""
    dataset = _planned(size, seed)
    stem = dataset.path.stem
    if dataset.path.exists() and dataset.key_file.exists():
        print(f"dataset: using {dataset.path.relative_to(REPO)}", flush=True)
        return dataset
    prepare_data_dir()
    for old in _stale(size, seed, stem):
        print(f"dataset: removing the outdated {old.name}", flush=True)
        if old.is_dir():  # a signer's state kept beside its key
            shutil.rmtree(old)
        else:
            old.unlink()
    _build(dataset, workers)
    return dataset


def prepare_data_dir() -> None:
    """Create ``bench/.data/``, ignored by git from inside (``*`` ignores itself too)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ignore = DATA_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


# -- building --------------------------------------------------------------------------------

_Job = tuple[int, int, int, int, int]  # plan index, first seq, count, since, until
_factories: dict[int, data.EventFactory] = {}
_worker_plans: tuple[data.TenantPlan, ...] = ()
_worker_seed = 0


def _init_worker(worker_plans: tuple[data.TenantPlan, ...], seed: int) -> None:
    global _worker_plans, _worker_seed
    _worker_plans, _worker_seed = worker_plans, seed


def _chunk(job: _Job) -> tuple[int, list[tuple[Any, ...]], list[str], list[bytes]]:
    """Rows, FTS bodies and leaf hashes of one chunk of a tenant (runs in a worker)."""
    index, start, count, since, until = job
    plan = _worker_plans[index]
    factory = _factories.get(index)
    if factory is None:
        factory = _factories[index] = data.EventFactory(plan, seed=_worker_seed)
    rng = random.Random(f"{_worker_seed}:{plan.tenant_id}:{start}:salts")
    catalog = Catalog.builtin()
    salt_bytes = SALT_SIZE * len(PERSONAL_FIELDS)
    rows: list[tuple[Any, ...]] = []
    bodies: list[str] = []
    hashes: list[bytes] = []
    for offset, wire in enumerate(factory.chunk(start, count, since, until)):
        valid, errors = validate_event(wire)
        if valid is None:
            raise ValueError(f"generated an invalid event: {_errors(errors)}")
        received = parse_timestamp(wire["occurred_at"]) + rng.randrange(50_000, 3_000_000)
        event = AuditLog._prepare(
            plan.tenant_id, valid, catalog, received, rng.randbytes(salt_bytes), 0
        ).with_seq(start + offset)
        leaf_hash = LeafTemplate(event.to_dict(), event.salts).leaf_hash(event.seq)
        rows.append(to_row(event, leaf_hash))
        bodies.append(search_text(event))
        hashes.append(leaf_hash)
    return index, rows, bodies, hashes


def _errors(errors: Sequence[FieldError]) -> str:
    return "; ".join(f"{e.field} {e.message}" for e in errors)


def _jobs(dataset: Dataset) -> list[_Job]:
    span = SPAN_DAYS * data.DAY_US
    since0 = data.ANCHOR_US - span
    jobs: list[_Job] = []
    for index, plan in enumerate(dataset.plans):
        for start in range(0, plan.events, CHUNK):
            count = min(CHUNK, plan.events - start)
            since = since0 + span * start // plan.events
            until = since0 + span * (start + count) // plan.events
            jobs.append((index, start, count, since, until))
    jobs.sort(key=lambda job: (job[3], job[0]))
    return jobs


def _build(dataset: Dataset, workers: int) -> None:
    started = time.perf_counter()
    building = dataset.path.with_suffix(".building")
    key = dataset.key_file.with_suffix(".building-key")
    for stale in (building, key, *(Path(f"{building}{s}") for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    print(
        f"dataset: building {dataset.path.name}: {dataset.total:,} events "
        f"({', '.join(f'{p.tenant_id} {p.events:,}' for p in dataset.plans)}); "
        "cached for later runs",
        flush=True,
    )
    settings = Settings(database_url=f"sqlite:///{building}", signing_key_file=str(key))
    log = AuditLog(SQLiteStore(settings.database_url), settings=settings)
    log.migrate()
    for plan in dataset.plans:
        log.create_tenant(plan.tenant_id)
    log.close()

    connection = sqlite3.connect(building, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-1000000")
    connection.execute("PRAGMA locking_mode=EXCLUSIVE")
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master"
        " WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        connection.execute(f'DROP INDEX "{name}"')

    sizes = [0] * len(dataset.plans)
    frontiers: list[list[bytes]] = [[] for _ in dataset.plans]
    # The timeline's counts (event_counts) and each actor's day counts (actor_day_counts),
    # added up here as an append adds a batch's.
    at, kind, outcome, actor = (
        COLUMNS.index(c) for c in ("occurred_at", "kind", "outcome", "actor_id")
    )
    counts: Counter[tuple[str, int, str, str]] = Counter()
    actor_counts: Counter[tuple[str, str, int]] = Counter()
    jobs = _jobs(dataset)
    done = 0
    last_print = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, _init_worker, (dataset.plans, dataset.seed)) as pool:
        connection.execute("BEGIN")
        for index, rows, bodies, hashes in pool.imap(_chunk, jobs, chunksize=1):
            connection.executemany(_INSERT_EVENT, rows)
            last = connection.execute("SELECT last_insert_rowid()").fetchone()[0]
            first = last - len(rows) + 1
            connection.executemany(
                "INSERT INTO events_fts (rowid, body) VALUES (?, ?)",
                [(first + i, body) for i, body in enumerate(bodies)],
            )
            grown = tree.append(frontiers[index], sizes[index], hashes)
            connection.executemany(
                "INSERT INTO tree_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)",
                [
                    (dataset.plans[index].tenant_id, level, idx, node)
                    for level, idx, node in grown.new_nodes
                    if level > 0
                ],
            )
            frontiers[index], sizes[index] = grown.frontier, grown.size
            tenant = dataset.plans[index].tenant_id
            counts.update((tenant, hour_of(r[at]), r[kind], r[outcome]) for r in rows)
            actor_counts.update((tenant, r[actor], day_of(r[at])) for r in rows)
            done += len(rows)
            if done % 100_000 < CHUNK:
                connection.execute("COMMIT")
                connection.execute("BEGIN")
            if time.perf_counter() - last_print > 15:
                last_print = time.perf_counter()
                rate = done / (last_print - started)
                print(f"  {done:,} / {dataset.total:,} rows ({rate:,.0f}/s)", flush=True)
        connection.executemany(
            "INSERT INTO event_counts (tenant_id, hour, kind, outcome, events)"
            " VALUES (?, ?, ?, ?, ?)",
            [(*key, n) for key, n in sorted(counts.items())],
        )
        connection.executemany(
            "INSERT INTO actor_day_counts (tenant_id, actor_id, day, events) VALUES (?, ?, ?, ?)",
            [(*key, n) for key, n in sorted(actor_counts.items())],
        )
        for plan, size, frontier in zip(dataset.plans, sizes, frontiers, strict=True):
            connection.execute(
                "UPDATE tenants SET tree_size = ?, frontier = ? WHERE id = ?",
                (size, b"".join(frontier), plan.tenant_id),
            )
        connection.execute("COMMIT")
    loaded = time.perf_counter()
    print(f"  loaded in {loaded - started:,.0f} s; recreating {len(indexes)} indexes", flush=True)
    for name, sql in indexes:
        step = time.perf_counter()
        connection.execute(sql)
        print(f"    {name}: {time.perf_counter() - step:,.1f} s", flush=True)
    connection.execute("PRAGMA locking_mode=NORMAL")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()

    log = AuditLog(SQLiteStore(settings.database_url), settings=settings)
    try:
        for plan in dataset.plans:
            log.checkpoint(Principal.operator(plan.tenant_id))
    finally:
        log.close()
    checkpointer = sqlite3.connect(building)
    checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpointer.close()
    elapsed = time.perf_counter() - started
    size_bytes = building.stat().st_size
    manifest = {
        "size": dataset.size,
        "seed": dataset.seed,
        "generator_version": data.GENERATOR_VERSION,
        "fingerprint": dataset.path.stem.rsplit("-", 1)[-1],
        "tenants": {p.tenant_id: p.events for p in dataset.plans},
        "build_seconds": round(elapsed, 1),
        "bytes": size_bytes,
    }
    dataset.path.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
    key.rename(dataset.key_file)
    building.rename(dataset.path)
    print(
        f"  built in {elapsed:,.0f} s ({dataset.total / elapsed:,.0f} events/s), "
        f"{size_bytes / 2**30:.2f} GiB",
        flush=True,
    )


# -- a denser copy for the timeline --------------------------------------------------------


_TIMELINE_INDEXES: Final = frozenset(
    {"events_seq", "events_id", "events_by_time", "events_by_kind", "events_by_outcome"}
)


def ensure_dense(base: Dataset, copies: int) -> Dataset:
    """``base`` with its big tenant's events ``copies`` times over, built by bulk SQL.

    For the timeline only (``bench.histogram`` at 10 M, when the full 10 M
    dataset is not cached: the generator takes about an hour on 2 cores). Copy
    ``k`` of each of the big tenant's rows keeps every column but its seq
    (``+ k x events``), id (``.k`` appended) and time (``+ k`` µs), so each
    hour holds ``copies`` times the events with the same mix of kinds,
    outcomes, actions, actors and accounts; the other tenants' rows are copied
    once. Nothing else is there: no full-text rows, no tree, no checkpoint,
    and of the events indexes only the unique ones and those the timeline
    reads (time, kind, outcome: the clipped hours, the index path before
    0011 and the count baseline) — the others took minutes each at this size
    and no timeline case here reads them. ``event_counts`` is counted from the
    rows by the same GROUP BY as migration 0011's backfill, ``actor_day_counts`` as 0014's.
    """
    stem = f"{base.path.stem}-dense{copies}"
    big = base.big
    plans = (data.TenantPlan(big.tenant_id, big.events * copies, big.population), *base.plans[1:])
    dataset = Dataset(DATA_DIR / f"{stem}.db", base.key_file, big.events * copies, base.seed, plans)
    if dataset.path.exists():
        print(f"dataset: using {dataset.path.relative_to(REPO)}", flush=True)
        return dataset
    for old in DATA_DIR.glob(f"sqlite-{size_label(base.size)}-*-dense{copies}.*"):
        print(f"dataset: removing the outdated {old.name}", flush=True)
        old.unlink()
    started = time.perf_counter()
    building = dataset.path.with_suffix(".building")
    building.unlink(missing_ok=True)
    print(
        f"dataset: deriving {dataset.path.name}: {big.tenant_id} {big.events:,} events x "
        f"{copies} by bulk SQL from {base.path.name} (for the timeline only)",
        flush=True,
    )
    store = SQLiteStore(f"sqlite:///{building}")
    try:
        store.migrate()
    finally:
        store.close()
    connection = sqlite3.connect(building, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("ATTACH DATABASE ? AS base", (f"file:{base.path}?mode=ro",))
        connection.execute("BEGIN")
        connection.execute("INSERT INTO tenants SELECT * FROM base.tenants")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        columns = ", ".join(COLUMNS)
        changed = {"seq": "seq + ?", "id": "id || ?", "occurred_at": "occurred_at + ?"}
        copied = ", ".join(changed.get(c, c) for c in COLUMNS)
        for k in range(copies):
            connection.execute(
                f"INSERT INTO events ({columns}) SELECT {copied} FROM base.events"
                " WHERE tenant_id = ? ORDER BY rowid",
                (k * big.events, "" if k == 0 else f".{k}", k, big.tenant_id),
            )
            print(f"  copy {k + 1}/{copies} of {big.tenant_id}", flush=True)
        connection.execute(
            f"INSERT INTO events ({columns}) SELECT {columns} FROM base.events"
            " WHERE tenant_id <> ? ORDER BY rowid",
            (big.tenant_id,),
        )
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE base")
        for name, sql in indexes:
            if name not in _TIMELINE_INDEXES:
                continue
            step = time.perf_counter()
            connection.execute(sql)
            print(f"    {name}: {time.perf_counter() - step:,.1f} s", flush=True)
        hour = 3_600_000_000
        connection.execute(
            "INSERT INTO event_counts (tenant_id, hour, kind, outcome, events)"
            f" SELECT tenant_id, occurred_at - ((occurred_at % {hour}) + {hour}) % {hour},"
            " kind, outcome, count(*) FROM events GROUP BY 1, 2, 3, 4"
        )
        day = 86_400_000_000
        connection.execute(
            "INSERT INTO actor_day_counts (tenant_id, actor_id, day, events)"
            f" SELECT tenant_id, actor_id, occurred_at - ((occurred_at % {day}) + {day}) % {day},"
            " count(*) FROM events GROUP BY 1, 2, 3"
        )
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    building.rename(dataset.path)
    elapsed = time.perf_counter() - started
    print(
        f"  derived in {elapsed:,.0f} s, {dataset.path.stat().st_size / 2**30:.2f} GiB",
        flush=True,
    )
    return dataset
