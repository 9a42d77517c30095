"""PostgreSQL benchmark: ingest against raw COPY, query latency per filter, concurrency.

    python -m bench.postgres_bench                       # 1 M events for the queries
    python -m bench.postgres_bench --rows 10000000       # the 10 M run (about an hour)
    python -m bench.postgres_bench --only ingest,concurrent --ingest-events 20000
    python -m bench.postgres_bench --only timeline --rows 10000000 --repeats 30
    python -m bench.postgres_bench --only storage        # bytes per event at 1 M

``run(report)`` is the entry point for ``make bench``; ``report(name, results)``
receives each measurement as a flat dict of numbers. Importing this module
does nothing. Every measurement runs in a scratch database it creates through
``admin_url`` (a superuser, e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``)
and drops afterwards.

* ``postgres.ingest``: events/s through ``PostgresStore.append`` (head-row
  lock, id lookup, real leaf hashing and tree growth, binary COPY of events,
  ids and nodes) in batches of ``batch``, next to raw binary COPY of the very
  same rows into ``events`` alone, into an identical empty schema, in the same
  run. ``ratio`` = store / raw. ``seal_eps`` is the Python hashing alone.
  ``http_eps``: the same events POSTed as JSON batches (``batch`` events
  each) by ``http_clients`` threads to ``sealtrail serve --workers
  http_workers`` on a fresh database; ``http_ratio`` = HTTP / raw COPY.
* ``postgres.concurrent``: ``processes`` forked processes appending batches of
  100 to ONE tenant (serialised on its head row), to one tenant EACH, and one
  process alone for the same number of events; events/s for each.
* ``postgres.load``: rows/s of the COPY that builds the query corpus (``rows``
  events over the last 12 months, 90 % in tenant ``acme``, partitions made for
  every month first), then ``postgres.query.<filter>``: p50/p95 in ms of
  ``search`` (first page of 50, no total) per SPEC §6 filter over ``repeats``
  different values, the same with the capped total (``<filter>_total``, what
  ``GET /v1/events`` reads), plus counts (the exact count of one actor too), a
  deep cursor page, an offset page and ``get_event``.
* ``postgres.fulltext``: raw COPY rows/s with no text index, the shipped
  tsvector + GIN, and a pg_trgm GIN instead; and a common-word and a rare-word
  search under each (tsvector phrase vs trigram ILIKE).
* ``postgres.layout``: raw COPY rows/s into the shipped layout (monthly
  partitions + ``event_ids``) and into one flat table carrying the same
  indexes plus UNIQUE (tenant_id, id) and (tenant_id, seq).
* ``postgres.timeline`` (only when asked: ``--only timeline``): the timeline's
  cases of ``postgres.query`` alone (a year and 30 days, each interleaved with
  the paths before 0012 and 0011; the year's exact count; the latest page) on
  the 1 M corpus, then, with ``--rows`` above it, on a corpus derived from it
  in SQL (``derive_dense``: every tenant's events copied until ``rows``, in
  minutes where generating them takes about 35), as ``postgres.timeline_<n>m``.
* ``postgres.storage`` (only when asked: ``--only storage``): bytes per event of
  the 1 M corpus once loaded and ``VACUUM ANALYZE``d, per relation of the schema
  (``bench.storage.postgres_footprint``: each table with its TOAST, each index,
  partitions summed into their parent), then the total; each index's key and the
  plan cases that read through it are printed below the figures. The corpus is
  COPYed, not appended, so ``tree_nodes`` stays empty and ``event_ids.leaf_hash``
  is a stand-in of the same width.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import itertools
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any, Literal

import httpx
import orjson
import psycopg

from bench import storage
from bench.histogram import before_0011, before_0012
from bench.server import UNLIMITED
from sealtrail.audit_log import AuditLog
from sealtrail.catalog import Catalog
from sealtrail.events import (
    Actor,
    Event,
    Resource,
    Target,
    format_timestamp,
    from_micros,
    to_micros,
)
from sealtrail.ledger import leaf, tree
from sealtrail.limits import MAX_RATE
from sealtrail.query import Cursor, EventQuery, Page, TimeRange, query_from_params
from sealtrail.retention import PRUNED_ACTION
from sealtrail.settings import Settings
from sealtrail.store.base import SealedBatch, Tenant, TreeHead
from sealtrail.store.codec import COLUMNS
from sealtrail.store.postgres import PostgresStore
from sealtrail.store.postgres_rows import COPY_TYPES, event_row
from sealtrail.timeline import Grid

Report = Callable[[str, Mapping[str, float]], None]

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
_COPY_EVENTS = f"COPY events ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_IDS = "COPY event_ids (tenant_id, id, seq, occurred_at, leaf_hash) FROM STDIN (FORMAT BINARY)"
_ID_TYPES = ["text", "text", "int8", "int8", "bytea"]


def print_report(name: str, results: Mapping[str, float]) -> None:
    cells = ", ".join(
        f"{key}={value:,.2f}" if isinstance(value, float) else f"{key}={value:,}"
        for key, value in results.items()
    )
    print(f"{name}: {cells}", flush=True)


# -- scratch databases ------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(
    admin_url: str, *, keep: bool = False, template: str | None = None
) -> Iterator[str]:
    """A new database for one measurement, empty or a copy of the database ``template``
    (a URL; nothing may be connected to it); dropped afterwards unless ``keep``."""
    name = f"sealtrail_bench_{uuid.uuid4().hex[:10]}"
    source = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{source}')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_store(url: str, **options: Any) -> PostgresStore:
    store = PostgresStore(url, **options)
    store.migrate()
    return store


def add_month_partitions(url: str, start_us: int, end_us: int) -> None:
    """A partition for every month the corpus covers, as an operator backfilling would."""
    first = datetime.fromtimestamp(start_us / 1e6, UTC).date().replace(day=1)
    last = datetime.fromtimestamp(end_us / 1e6, UTC).date()
    with psycopg.connect(url, autocommit=True) as owner:
        month = first
        while month <= last:
            owner.execute("SELECT sealtrail_add_partition(%s, true)", (month,))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


# -- a realistic corpus ---------------------------------------------------------------------

_FIRST = [
    "Ada",
    "Bob",
    "Carol",
    "Dan",
    "Eve",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
]
_LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Knuth",
    "Ritchie",
    "Thompson",
    "Hamilton",
    "Goldberg",
    "Allen",
]
_RESOURCES = ("workspace", "app", "api_key", "channel", "domain", "knowledge_source", "agent")
_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
    "sealtrail-python/0.1 httpx/0.27",
)


@dataclass
class Corpus:
    """Deterministic, skewed event data: what a busy organisation's trail looks like."""

    seed: int = 1
    users: int = 500
    accounts: int = 50
    resources: int = 10_000
    catalog: Catalog = field(default_factory=Catalog.builtin)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        # Not the prune record: only Sealtrail's own pruning writes it (a client's is refused).
        self.actions = [t.name for t in self.catalog.types() if t.name != PRUNED_ACTION]
        rng.shuffle(self.actions)
        # Zipf-like: a few actions (logins, views) dominate, as they do in real trails.
        self.action_weights = [1 / (rank + 1) for rank in range(len(self.actions))]
        self.people = [
            (f"u_{i}", f"{_FIRST[i % len(_FIRST)]} {_LAST[i // len(_FIRST) % len(_LAST)]}")
            for i in range(self.users)
        ]

    def email(self, index: int) -> str:
        name = self.people[index][1].lower().replace(" ", ".")
        return f"{name}{index}@example.com"

    def events(self, tenant_id: str, count: int, start_us: int, span_us: int) -> Iterator[Event]:
        """``count`` events spread evenly (with jitter) over ``[start_us, start_us + span_us)``."""
        rng = random.Random(f"{self.seed}/{tenant_id}/{start_us}")
        actions = rng.choices(self.actions, self.action_weights, k=count)
        step = span_us / max(count, 1)
        for n in range(count):
            action = actions[n]
            event_type = self.catalog.classify(action)
            occurred = start_us + int(n * step + rng.random() * step)
            who = min(int(rng.paretovariate(1.2)) - 1, self.users - 1)
            actor = (
                Actor("system", "system")
                if rng.random() < 0.05
                else Actor(
                    "user",
                    self.people[who][0],
                    "admin" if who < 20 else "member",
                    self.people[who][1],
                    self.email(who),
                )
            )
            target = None
            if rng.random() < 0.4:
                t = rng.randrange(self.users)
                target = Target("user", self.people[t][0], self.people[t][1], self.email(t))
            resource = None
            if rng.random() < 0.6:
                r = int(rng.paretovariate(1.1)) % self.resources
                kind = _RESOURCES[r % len(_RESOURCES)]
                resource = Resource(kind, f"{kind[:3]}_{r}", f"{_LAST[r % len(_LAST)]} {kind} {r}")
            ip = None
            roll = rng.random()
            if roll < 0.7:
                ip = f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            elif roll < 0.8:
                ip = f"2001:db8:{rng.randrange(16):x}::{rng.randrange(1, 65535):x}"
            event = Event(
                tenant_id=tenant_id,
                seq=-1,
                id=_uuid7_like(occurred, rng),
                action=action,
                category=event_type.category,
                kind=event_type.kind,
                occurred_at=occurred,
                received_at=occurred + rng.randrange(50_000),
                outcome="failure" if rng.random() < 0.05 else "success",
                actor=actor,
                target=target,
                resource=resource,
                account_id=f"acc_{rng.randrange(self.accounts)}" if rng.random() < 0.7 else None,
                description=self.catalog.describe(
                    action,
                    actor=actor.name or "System",
                    target=None if target is None else target.name,
                    resource=None if resource is None else resource.name,
                    resource_type=None if resource is None else resource.type,
                    resource_id=None if resource is None else resource.id,
                ),
                context={"previous": {"plan": "team"}, "new": {"plan": "business"}, "n": n}
                if rng.random() < 0.3
                else None,
                ip=ip,
                user_agent=rng.choice(_AGENTS) if rng.random() < 0.6 else None,
                request_id=f"req_{rng.getrandbits(48):012x}" if rng.random() < 0.5 else None,
            )
            yield replace(event, salts=leaf.new_salts(event.to_dict()))


def _uuid7_like(micros: int, rng: random.Random) -> str:
    """A time-ordered id shaped like a UUIDv7 (what the server generates)."""
    raw = f"{micros // 1000:012x}7{rng.getrandbits(76):019x}"
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def seal(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
    """The production sealer's work: SPEC §3 leaf hashes and tree growth."""
    events = [replace(e, seq=head.size + i) for i, e in enumerate(fresh)]
    hashes = [leaf.leaf_hash(e.to_dict(), e.salts) for e in events]
    grown = tree.append(head.frontier, head.size, hashes)
    nodes = [node for node in grown.new_nodes if node[0] > 0]
    return SealedBatch(events, hashes, nodes, TreeHead(grown.size, tuple(grown.frontier)))


def _now_us() -> int:
    return to_micros(datetime.now(UTC))


def _batches(items: Sequence[Event], size: int) -> Iterator[Sequence[Event]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- ingest: the store against raw COPY ----------------------------------------------------------


def copy_rows(
    connection: psycopg.Connection[Any], rows: Sequence[Sequence[Any]], *, with_ids: bool = False
) -> None:
    """Raw binary COPY of finished event rows (and their ``event_ids`` rows), one transaction."""
    with connection.transaction(), connection.cursor() as cursor:
        with cursor.copy(_COPY_EVENTS) as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        if with_ids:
            with cursor.copy(_COPY_IDS) as copy:
                copy.set_types(_ID_TYPES)
                for row in rows:
                    copy.write_row((row[0], row[2], row[1], row[6], row[-1]))


def measure_ingest(
    admin_url: str = DEFAULT_ADMIN_URL,
    events: int = 50_000,
    batch: int = 1000,
    *,
    http_workers: int = 2,
    http_clients: int = 4,
) -> dict[str, float]:
    corpus = Corpus()
    now = _now_us()
    data = list(corpus.events("acme", events, now - 7 * DAY_US, 7 * DAY_US))
    started = time.perf_counter()
    head = TreeHead()
    for chunk in _batches(data, batch):
        head = seal(head, chunk).head
    seal_s = time.perf_counter() - started

    sealed: list[list[Any]] = []

    def keeping(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
        result = seal(head, fresh)
        sealed.extend(
            event_row(e, h) for e, h in zip(result.events, result.leaf_hashes, strict=True)
        )
        return result

    with scratch_database(admin_url) as url:
        store = migrated_store(url)
        try:
            store.create_tenant(Tenant("acme", "Acme", now))
            started = time.perf_counter()
            for chunk in _batches(data, batch):
                store.append("acme", chunk, keeping)
            store_s = time.perf_counter() - started
        finally:
            store.close()
    with scratch_database(admin_url) as url:
        migrated_store(url).close()
        with psycopg.connect(url, autocommit=True) as connection:
            started = time.perf_counter()
            for start in range(0, len(sealed), batch):
                copy_rows(connection, sealed[start : start + batch])
            copy_s = time.perf_counter() - started
    results = {
        "events": events,
        "batch": batch,
        "store_eps": events / store_s,
        "raw_copy_eps": events / copy_s,
        "ratio": copy_s / store_s,
        "seal_eps": events / seal_s,
    }
    if http_workers:
        with scratch_database(admin_url) as url:
            http_s = _http_ingest(url, data, min(batch, 1000), http_workers, http_clients)
        results |= {
            "http_workers": http_workers,
            "http_clients": http_clients,
            "http_eps": events / http_s,
            "http_ratio": copy_s / http_s,
        }
    return results


def _http_ingest(url: str, data: Sequence[Event], batch: int, workers: int, clients: int) -> float:
    """Seconds to POST ``data`` to ``sealtrail serve`` on ``url`` from ``clients`` threads."""
    with tempfile.TemporaryDirectory() as home:
        key_file = f"{home}/signing.key"
        log = AuditLog.open(settings=Settings(database_url=url, signing_key_file=key_file))
        try:
            log.migrate()
            log.create_tenant("acme")
            api_key = log.create_api_key("acme", "events:write").plain
        finally:
            log.close()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from sealtrail.cli import main; main()",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--database",
                url,
            ],
            env={
                **os.environ,
                "SEALTRAIL_SIGNING_KEY_FILE": key_file,
                # counted against limits too high to refuse, as bench/server.py does
                **{Settings.env_name(name): str(MAX_RATE) for name in UNLIMITED},
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("sealtrail serve did not become ready")
                time.sleep(0.2)
            bodies = [
                orjson.dumps({"events": [e.to_dict() for e in chunk]})
                for chunk in _batches(data, batch)
            ]
            failures: list[tuple[int, str]] = []

            def post(share: Sequence[bytes]) -> None:
                headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
                with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                    for body in share:
                        response = client.post("/v1/events", content=body)
                        if response.status_code != 201:
                            failures.append((response.status_code, response.text[:300]))

            threads = [
                threading.Thread(target=post, args=(bodies[i::clients],)) for i in range(clients)
            ]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
            if failures:
                status, text = failures[0]
                raise RuntimeError(f"{len(failures)} batches refused, e.g. HTTP {status}: {text}")
            return elapsed
        finally:
            server.terminate()
            server.wait(timeout=30)


# -- concurrency ------------------------------------------------------------------------------


def _append_worker(
    url: str, tenant_id: str, events: list[Event], batch: int, start: Barrier, done: Queue[float]
) -> None:
    store = PostgresStore(url, max_connections=2)
    try:
        start.wait(timeout=120)
        began = time.perf_counter()
        for chunk in _batches(events, batch):
            store.append(tenant_id, chunk, seal)
        done.put(time.perf_counter() - began)
    finally:
        store.close()


def _in_processes(url: str, plans: Sequence[tuple[str, list[Event]]], batch: int) -> float:
    """Wall seconds for one forked process per plan, started together."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(plans) + 1)
    done: Queue[float] = context.Queue()
    workers = [
        context.Process(target=_append_worker, args=(url, tenant, events, batch, start, done))
        for tenant, events in plans
    ]
    for worker in workers:
        worker.start()
    start.wait(timeout=120)
    began = time.perf_counter()
    for _ in workers:
        done.get(timeout=3600)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    return elapsed


def measure_concurrent_ingest(
    admin_url: str = DEFAULT_ADMIN_URL, processes: int = 4, events: int = 5_000, batch: int = 100
) -> dict[str, float]:
    """``events`` per process, in batches of ``batch`` (an HTTP-sized batch)."""
    corpus = Corpus()
    now = _now_us()
    total = processes * events
    results: dict[str, float] = {"processes": processes, "batch": batch, "events": total}
    with scratch_database(admin_url) as url:
        store = migrated_store(url)
        tenants = [f"t{i}" for i in range(processes)]
        for tenant in ["one", "alone", *tenants]:
            store.create_tenant(Tenant(tenant, tenant, now))
        store.close()
        span = 7 * DAY_US
        one = [
            ("one", list(corpus.events("one", events, now - span + i, span)))
            for i in range(processes)
        ]
        each = [(t, list(corpus.events(t, events, now - span, span))) for t in tenants]
        alone = [("alone", list(corpus.events("alone", total, now - span, span)))]
        results["one_process_eps"] = total / _in_processes(url, alone, batch)
        results["one_tenant_eps"] = total / _in_processes(url, one, batch)
        results["tenant_each_eps"] = total / _in_processes(url, each, batch)
    return results


# -- the query corpus and its latencies --------------------------------------------------------


def load_corpus(url: str, rows: int, *, chunk: int = 50_000) -> dict[str, float]:
    """``rows`` events over the last 12 months (90 % in ``acme``), COPYed with their ids."""
    corpus = Corpus()
    end = _now_us()
    start = end - 365 * DAY_US
    migrated_store(url).close()
    add_month_partitions(url, start, end)
    tenants = {"acme": rows - rows // 10, **{f"other{i}": rows // 90 for i in range(9)}}
    tenants["acme"] += rows - sum(tenants.values())
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        for tenant, count in tenants.items():
            connection.execute(
                "INSERT INTO tenants (id, name, created_at) VALUES (%s, %s, %s)",
                (tenant, tenant, start),
            )
            pending: list[list[Any]] = []
            for seq, event in enumerate(corpus.events(tenant, count, start, end - start)):
                event = replace(event, seq=seq)
                pending.append(event_row(event, hashlib.sha256(event.id.encode()).digest()))
                if len(pending) == chunk:
                    copy_rows(connection, pending, with_ids=True)
                    pending = []
            if pending:
                copy_rows(connection, pending, with_ids=True)
        loaded = time.perf_counter() - began
        # The timeline's counts of the COPYed rows, as migration 0011 counts stored events
        # (migration 0012's trigger sums them per day as they are inserted).
        connection.execute(
            "INSERT INTO event_counts (tenant_id, hour, kind, outcome, events)"
            f" SELECT tenant_id, occurred_at - mod(mod(occurred_at, {HOUR_US}) + {HOUR_US},"
            f" {HOUR_US}), kind, outcome, count(*) FROM events GROUP BY 1, 2, 3, 4"
        )
        # Each actor's day counts, as migration 0014 counts stored events.
        connection.execute(
            "INSERT INTO actor_day_counts (tenant_id, actor_id, day, events)"
            f" SELECT tenant_id, actor_id, occurred_at - mod(mod(occurred_at, {DAY_US}) + {DAY_US},"
            f" {DAY_US}), count(*) FROM events GROUP BY 1, 2, 3"
        )
        connection.execute("VACUUM ANALYZE")
    return {"rows": rows, "load_rows_per_s": rows / loaded, "load_s": loaded}


@dataclass(frozen=True)
class QueryCase:
    name: str
    queries: list[tuple[EventQuery, Page]]
    kind: str = "search"  # search | search_total | count | count_exact | histogram | get


def query_cases(url: str, repeats: int) -> tuple[list[QueryCase], list[str]]:
    """Realistic values for every filter, drawn from the loaded data; and ids to fetch."""
    rng = random.Random(7)
    with psycopg.connect(url) as connection:

        def values(column: str) -> list[Any]:
            rows = connection.execute(
                f"SELECT {column} FROM events TABLESAMPLE SYSTEM (1)"
                f" WHERE tenant_id = 'acme' AND {column} IS NOT NULL LIMIT 2000"
            ).fetchall()
            picked = [r[0] for r in rows]
            rng.shuffle(picked)
            return (picked * repeats)[:repeats]

        ids = [str(v) for v in values("id")]
        times = [int(v) for v in values("occurred_at")]
        actions = [str(v) for v in values("action")]
        words = [str(v).split()[-1] for v in values("description")]
        ips = [str(v) for v in values("ip")]

        def same(column: str) -> list[str]:
            return [str(v) for v in values(column)]

        month_ago = format_timestamp(_now_us() - 30 * DAY_US)
        searches: dict[str, list[dict[str, str]]] = {
            "latest": [{}] * repeats,
            "action": [{"action": a} for a in actions],
            "action_prefix": [{"action": a.split(".")[0] + ".*"} for a in actions],
            "category": [{"category": c} for c in same("category")],
            "kind": [{"kind": k} for k in same("kind")],
            "outcome_failure": [{"outcome": "failure"}] * repeats,
            "actor_id": [{"actor_id": a} for a in same("actor_id")],
            "actor_email": [{"actor_email": e.upper()} for e in same("actor_email")],
            "target_id": [{"target_id": t} for t in same("target_id")],
            "resource_type": [{"resource_type": r} for r in same("resource_type")],
            "resource_id": [{"resource_id": r} for r in same("resource_id")],
            "account_id": [{"account_id": a} for a in same("account_id")],
            "ip_cidr": [{"ip": ip.rsplit(".", 1)[0] + ".0/24"} for ip in ips if "." in ip],
            "q_word": [{"q": w} for w in words],
            "q_rare_pair": [{"q": f"{_LAST[i % 10]} {_FIRST[i % 15]}"} for i in range(repeats)],
            "last_30_days": [{"since": month_ago}] * repeats,
            "phrase": [
                {"phrase": f"action:{a.split('.')[0]}.* -actor:system created:>={month_ago[:10]}"}
                for a in actions
            ],
        }
    cases = [
        QueryCase(name, [query_from_params({k: [v] for k, v in raw.items()}) for raw in raws])
        for name, raws in searches.items()
    ]
    # Each filter's first page with its capped total, as GET /v1/events reads it.
    cases += [
        QueryCase(f"{case.name}_total", case.queries, "search_total")
        for case in cases
        if case.name != "latest"
    ]
    cases += [
        QueryCase(
            name, [query_from_params({k: [v] for k, v in raw.items()}) for raw in raws], "count"
        )
        for name, raws in (
            ("count_30_days", searches["last_30_days"]),
            ("count_action", searches["action"]),
        )
    ]
    # The seed endpoint's exact total of one actor (summed from actor_day_counts, 0014).
    cases.append(
        QueryCase(
            "count_actor_exact",
            [query_from_params({"actor_id": [raw["actor_id"]]}) for raw in searches["actor_id"]],
            "count_exact",
        )
    )
    year_ago = format_timestamp(_now_us() - 365 * DAY_US)
    year = [query_from_params({"since": [year_ago]}) for _ in range(repeats)]
    cases += [
        # The timeline (issue 15): a year of the tenant in 60 buckets, no filter, next to
        # one exact count(*) of the same year; and the viewer's default 30 days.
        QueryCase("count_year_exact", year, "count_exact"),
        QueryCase("histogram_year", year, "histogram"),
        QueryCase(
            "histogram_30_days",
            [query_from_params(raw) for raw in ({"since": [month_ago]},) * repeats],
            "histogram",
        ),
    ]
    cases += [
        QueryCase(
            "deep_cursor",
            [(EventQuery(), Page(limit=50, cursor=Cursor(t, 2**40, "desc"))) for t in times],
        ),
        QueryCase("offset_5000", [(EventQuery(), Page(limit=50, offset=5000))] * repeats),
        QueryCase("get_event", [(EventQuery(), Page())] * len(ids), "get"),
    ]
    return cases, ids


TIMELINE_CASES = ("latest", "count_year_exact", "histogram_year", "histogram_30_days")
# What the timeline reads of events: the unique keys, time, kind and outcome.
_TIMELINE_INDEXES = ("events_pkey", "events_by_time", "events_by_kind", "events_by_outcome")


def derive_dense(url: str, copies: int) -> dict[str, float]:
    """Every tenant's events of a ``load_corpus`` database copied ``copies - 1`` more times
    by bulk SQL, as ``bench.dataset.ensure_dense`` does for SQLite: each copy's seq
    renumbered, ``~k`` appended to its id, its times moved by k µs. Indexes the timeline
    does not read and the generated full-text column are dropped first, ``event_ids`` is
    not copied (the timeline reads neither); ``event_counts`` is counted again from the
    events (migration 0012's trigger sums the days), then ``VACUUM ANALYZE``."""
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as connection:
        began = time.perf_counter()
        dropped = [
            str(row[0])
            for row in connection.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'events'"
                " AND NOT indexname = ANY (%s)",
                (list(_TIMELINE_INDEXES),),
            )
        ]
        for name in dropped:
            connection.execute(f'DROP INDEX IF EXISTS "{name}"')
        connection.execute("ALTER TABLE events DROP COLUMN search")
        columns = [
            str(row[0])
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'events'"
                " ORDER BY ordinal_position"
            )
        ]
        moved = {
            "tenant_id": "tenant_id",
            "seq": "e.seq + %(k)s * b.n",
            "id": "e.id || %(suffix)s",
            "occurred_at": "e.occurred_at + %(k)s",
        }
        chosen = ", ".join(moved.get(c, f"e.{c}") for c in columns)
        connection.execute(
            "CREATE TEMPORARY TABLE base AS"
            " SELECT tenant_id, max(seq) + 1 AS n FROM events GROUP BY 1"
        )
        for k in range(1, copies):
            connection.execute(
                f"INSERT INTO events ({', '.join(columns)}) SELECT {chosen}"
                " FROM events e JOIN base b USING (tenant_id) WHERE e.seq < b.n",
                {"k": k, "suffix": f"~{k}"},
            )
        timings["copy_s"] = time.perf_counter() - began
        began = time.perf_counter()
        with connection.transaction():
            connection.execute("DELETE FROM event_counts")
            connection.execute(
                "INSERT INTO event_counts (tenant_id, hour, kind, outcome, events)"
                f" SELECT tenant_id, occurred_at - mod(mod(occurred_at, {HOUR_US}) + {HOUR_US},"
                f" {HOUR_US}), kind, outcome, count(*) FROM events GROUP BY 1, 2, 3, 4"
            )
        timings["count_s"] = time.perf_counter() - began
        began = time.perf_counter()
        connection.execute("VACUUM ANALYZE")
        timings["vacuum_s"] = time.perf_counter() - began
        row = connection.execute("SELECT count(*) FROM events").fetchone()
        assert row is not None
        timings["rows"] = float(row[0])
    return timings


def measure_timeline(
    report: Report, admin_url: str, rows: int, repeats: int, *, keep: bool = False
) -> None:
    """``postgres.timeline``: the timeline's cases on the 1 M corpus, then on one derived
    from it up to ``rows`` (whole millions)."""
    base = min(rows, 1_000_000)
    with scratch_database(admin_url, keep=keep) as url:
        report("postgres.load", load_corpus(url, base))
        sizes = [(base, "postgres.timeline")]
        if rows > base:
            sizes.append((rows, f"postgres.timeline_{rows // 1_000_000}m"))
        for size, name in sizes:
            if size > base:
                report(f"{name}.derive", derive_dense(url, size // base))
            cases, ids = query_cases(url, repeats)
            store = PostgresStore(url)
            try:
                measured = measure_queries(
                    store, [c for c in cases if c.name in TIMELINE_CASES], ids
                )
                for case, result in measured:
                    report(f"{name}.{case}", {**result, "load_1min": os.getloadavg()[0]})
            finally:
                store.close()


def measure_storage(report: Report, admin_url: str, rows: int, *, keep: bool = False) -> None:
    """``postgres.storage``: each relation's bytes per event of the loaded corpus."""
    with scratch_database(admin_url, keep=keep) as url:
        report("postgres.load", load_corpus(url, rows))
        with psycopg.connect(url) as connection:
            parts = storage.postgres_footprint(connection)
            row = connection.execute("SELECT count(*) FROM events").fetchone()
        events = int(row[0]) if row else 0
        total = sum(p.pages_bytes for p in parts)
        indexes = sum(p.pages_bytes for p in parts if p.kind.startswith("index"))
        for part in parts:
            report(
                f"postgres.storage.{part.name}",
                {"b_per_event": part.pages_bytes / events, "bytes": part.pages_bytes},
            )
        report(
            "postgres.storage.total",
            {
                "b_per_event": total / events,
                "tables_b_per_event": (total - indexes) / events,
                "indexes_b_per_event": indexes / events,
                "events": events,
                "load_1min": os.getloadavg()[0],
            },
        )
        for part in parts:
            detail = f"; {part.serves}" if part.serves else ""
            print(f"  {part.name} ({part.kind}): {storage.share(part, total)}{detail}")


def measure_queries(
    store: PostgresStore, cases: Sequence[QueryCase], ids: Sequence[str], *, warmup: int = 3
) -> Iterator[tuple[str, dict[str, float]]]:
    def once(case: QueryCase, index: int) -> None:
        query, page = case.queries[index]
        if case.kind == "count":
            store.count("acme", query)
        elif case.kind == "count_exact":
            store.count("acme", query, cap=None)
        elif case.kind == "histogram":
            since = query.time.since_us
            assert since is not None
            store.histogram("acme", query, Grid.over(since, _now_us(), 60))
        elif case.kind == "get":
            assert store.get_event("acme", ids[index % len(ids)]) is not None
        else:
            store.search("acme", query, page, with_total=case.kind == "search_total")

    def hours_only(case: QueryCase, index: int) -> None:
        since = case.queries[index][0].time.since_us
        assert since is not None
        grid = Grid.over(since, _now_us(), 60)
        before_0012(store, "acme", EventQuery(case.queries[index][0].terms), grid)

    def before(case: QueryCase, index: int) -> None:
        since = case.queries[index][0].time.since_us
        assert since is not None
        grid = Grid.over(since, _now_us(), 60)
        before_0011(store, "acme", EventQuery(case.queries[index][0].terms), grid)

    for case in cases:
        for index in range(min(warmup, len(case.queries))):
            once(case, index)
        if case.kind == "histogram":
            # Run by run in turn with the paths that answered before the day rollup
            # (every whole hour from event_counts) and before the pre-aggregate, each
            # run in the next of every order: the path after the index path before 0011
            # finds shared buffers full of its pages, so each gets that place as often.
            turns: tuple[list[float], ...] = ([], [], [])
            paths = zip((once, hours_only, before), turns, strict=True)
            orders = list(itertools.permutations(paths))
            for index in range(len(case.queries)):
                for work, measured in orders[index % len(orders)]:
                    began = time.perf_counter()
                    work(case, index)
                    measured.append((time.perf_counter() - began) * 1000)
            yield case.name, percentiles(turns[0])
            yield f"{case.name}_before_0012", percentiles(turns[1])
            yield f"{case.name}_before_0011", percentiles(turns[2])
            continue
        timings: list[float] = []
        for index in range(len(case.queries)):
            began = time.perf_counter()
            once(case, index)
            timings.append((time.perf_counter() - began) * 1000)
        yield case.name, percentiles(timings)


EXPORT_ROWS = 400_000  # the newest events of acme, as bench/export.py exports on SQLite
_EXPORT_TEXT = tuple(c for c in COLUMNS if c not in ("ip_key", "salts", "leaf_hash"))


def measure_export(url: str, *, rounds: int = 3) -> dict[str, float]:
    """``postgres.export``: rows/s of ``store.export_body`` (what ``AuditLog.export`` streams;
    the COPYed corpus cannot take the one append it records first) over acme's newest
    ``EXPORT_ROWS`` events, CSV and NDJSON, each in turn with the floor of a Python row
    loop: a server-side cursor's ``SELECT`` of the same rows written by ``csv.writer`` /
    ``orjson``. Medians of ``rounds``."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT occurred_at FROM events WHERE tenant_id = 'acme'"
            " ORDER BY occurred_at DESC, seq DESC OFFSET %s LIMIT 1",
            (EXPORT_ROWS - 1,),
        ).fetchone()
        assert row is not None, "the corpus holds fewer events than the export"
        since = int(row[0])
    query = EventQuery(time=TimeRange(from_micros(since), None))
    store = PostgresStore(url)
    raw_sql = (
        f"SELECT {', '.join(_EXPORT_TEXT)} FROM events WHERE tenant_id = 'acme'"
        f" AND occurred_at >= {since} ORDER BY occurred_at DESC, seq DESC"
    )

    def raw(fmt: Literal["csv", "ndjson"]) -> int:
        written = 0
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        with (
            psycopg.connect(url) as connection,
            connection.transaction(),
            connection.cursor(name="raw_export") as cursor,
        ):
            cursor.itersize = 1000
            cursor.execute(raw_sql)
            while rows := cursor.fetchmany(1000):
                if fmt == "csv":
                    writer.writerows(rows)
                    written += len(buffer.getvalue().encode())
                    buffer.seek(0)
                    buffer.truncate()
                else:
                    lines = (orjson.dumps(dict(zip(_EXPORT_TEXT, r, strict=True))) for r in rows)
                    written += len(b"".join(lines))
        return written

    def export(fmt: Literal["csv", "ndjson"]) -> int:
        return sum(len(chunk) for chunk in store.export_body("acme", query, fmt))

    out: dict[str, float] = {"rows": EXPORT_ROWS, "rounds": rounds}
    try:
        formats: tuple[Literal["csv", "ndjson"], ...] = ("csv", "ndjson")
        for fmt in formats:
            rates: dict[str, list[float]] = {"raw": [], "export": []}
            for _ in range(rounds):
                for kind, work in (("raw", raw), ("export", export)):
                    began = time.perf_counter()
                    work(fmt)
                    rates[kind].append(EXPORT_ROWS / (time.perf_counter() - began))
            out[f"{fmt}_rows_per_s"] = statistics.median(rates["export"])
            out[f"{fmt}_raw_rows_per_s"] = statistics.median(rates["raw"])
            print(
                f"  export {fmt}: {', '.join(f'{r:,.0f}' for r in rates['export'])} rows/s;"
                f" raw {', '.join(f'{r:,.0f}' for r in rates['raw'])}",
                flush=True,
            )
    finally:
        store.close()
    out["load_1min"] = os.getloadavg()[0]
    return out


def percentiles(timings_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(timings_ms)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[-1] if len(ordered) > 1 else 0.0
    return {"p50_ms": statistics.median(ordered), "p95_ms": p95 or ordered[-1]}


# -- free text: what each option costs ---------------------------------------------------------

_TEXT = (
    "coalesce(description, '') || ' ' || coalesce(actor_name, '') || ' ' ||"
    " coalesce(actor_email, '') || ' ' || coalesce(target_name, '') || ' ' ||"
    " coalesce(target_email, '') || ' ' || coalesce(resource_id, '') || ' ' ||"
    " coalesce(resource_name, '')"
)
FULLTEXT_VARIANTS: dict[str, list[str]] = {
    "none": ["ALTER TABLE events DROP COLUMN search"],
    "tsvector": [],
    "trigram": [
        "ALTER TABLE events DROP COLUMN search",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX events_trgm ON events USING gin (({_TEXT}) gin_trgm_ops)",
    ],
}


def _common_and_rare(events: Sequence[Event]) -> tuple[str, str]:
    counts: dict[str, int] = {}
    for event in events:
        for word in (event.description or "").split():
            if word.isalpha() and len(word) > 4:
                counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: item[1])
    return ranked[-1][0], next(word for word, n in ranked if n >= 2)


def measure_fulltext(
    admin_url: str = DEFAULT_ADMIN_URL, rows: int = 100_000, batch: int = 1000, repeats: int = 20
) -> dict[str, float]:
    corpus = Corpus()
    end = _now_us()
    start = end - 90 * DAY_US
    events = [
        replace(e, seq=i) for i, e in enumerate(corpus.events("acme", rows, start, end - start))
    ]
    data = [event_row(e, hashlib.sha256(e.id.encode()).digest()) for e in events]
    common, rare = _common_and_rare(events)
    results: dict[str, float] = {"rows": rows}
    for variant, statements in FULLTEXT_VARIANTS.items():
        with scratch_database(admin_url) as url:
            migrated_store(url).close()
            add_month_partitions(url, start, end)
            with psycopg.connect(url, autocommit=True) as connection:
                for statement in statements:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'A', 0)"
                )
                began = time.perf_counter()
                for first in range(0, len(data), batch):
                    copy_rows(connection, data[first : first + batch])
                results[f"{variant}_copy_rows_per_s"] = rows / (time.perf_counter() - began)
                connection.execute("VACUUM ANALYZE events")
                for label, word in (("common", common), ("rare", rare)):
                    if variant == "tsvector":
                        sql = "search @@ sealtrail_phrase(%s)"
                        param = word
                    else:
                        sql = f"({_TEXT}) ILIKE %s"
                        param = f"%{word}%"
                    statement = (
                        f"SELECT id FROM events WHERE tenant_id = 'acme' AND {sql}"
                        " ORDER BY occurred_at DESC, seq DESC LIMIT 50"
                    )
                    timings = []
                    for _ in range(repeats):
                        began = time.perf_counter()
                        connection.execute(statement, (param,)).fetchall()
                        timings.append((time.perf_counter() - began) * 1000)
                    results[f"{variant}_{label}_p50_ms"] = statistics.median(timings)
    return results


# -- the layout: partitions + event_ids against one flat table -------------------------------


def measure_layout(
    admin_url: str = DEFAULT_ADMIN_URL, rows: int = 100_000, batch: int = 1000
) -> dict[str, float]:
    """Raw COPY rows/s into the shipped layout and into the obvious alternative.

    Shipped: ``events`` partitioned by month plus ``event_ids`` (uniqueness of
    (tenant, id) and (tenant, seq)). Alternative: one unpartitioned ``events``
    with the same indexes and those two UNIQUE indexes on it directly.
    """
    corpus = Corpus()
    end = _now_us()
    start = end - 90 * DAY_US
    events = [
        replace(e, seq=i) for i, e in enumerate(corpus.events("acme", rows, start, end - start))
    ]
    data = [event_row(e, hashlib.sha256(e.id.encode()).digest()) for e in events]
    flat = "COPY events_flat" + _COPY_EVENTS.removeprefix("COPY events")
    results: dict[str, float] = {"rows": rows}
    with scratch_database(admin_url) as url:
        migrated_store(url).close()
        add_month_partitions(url, start, end)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE events_flat (LIKE events INCLUDING ALL)")
            connection.execute("CREATE UNIQUE INDEX ON events_flat (tenant_id, id)")
            connection.execute("CREATE UNIQUE INDEX ON events_flat (tenant_id, seq)")
            began = time.perf_counter()
            for first in range(0, rows, batch):
                copy_rows(connection, data[first : first + batch], with_ids=True)
            results["partitioned_with_ids_rows_per_s"] = rows / (time.perf_counter() - began)
            began = time.perf_counter()
            for first in range(0, rows, batch):
                with (
                    connection.transaction(),
                    connection.cursor() as cursor,
                    cursor.copy(flat) as copy,
                ):
                    copy.set_types(COPY_TYPES)
                    for row in data[first : first + batch]:
                        copy.write_row(row)
            results["flat_unique_rows_per_s"] = rows / (time.perf_counter() - began)
    return results


# -- entry points -------------------------------------------------------------------------------

PARTS = ("ingest", "concurrent", "queries", "fulltext", "layout")
EXTRA_PARTS = ("timeline", "storage")  # run only when asked for


def run(
    report: Report = print_report,
    *,
    admin_url: str = DEFAULT_ADMIN_URL,
    rows: int = 1_000_000,
    ingest_events: int = 50_000,
    processes: int = 4,
    repeats: int = 50,
    only: Sequence[str] = PARTS,
    keep: bool = False,
    http_workers: int = 2,
) -> None:
    """Every PostgreSQL measurement in ``only``; ``rows`` sizes the query corpus."""
    if "ingest" in only:
        report(
            "postgres.ingest",
            measure_ingest(admin_url, ingest_events, http_workers=http_workers),
        )
    if "concurrent" in only:
        per_process = max(ingest_events // (2 * processes), 100)
        report(
            "postgres.concurrent",
            measure_concurrent_ingest(admin_url, processes, per_process),
        )
    if "queries" in only:
        with scratch_database(admin_url, keep=keep) as url:
            report("postgres.load", load_corpus(url, rows))
            cases, ids = query_cases(url, repeats)
            store = PostgresStore(url)
            try:
                for name, result in measure_queries(store, cases, ids):
                    report(f"postgres.query.{name}", result)
            finally:
                store.close()
            report("postgres.export", measure_export(url))
    if "fulltext" in only:
        report("postgres.fulltext", measure_fulltext(admin_url, min(rows, 100_000)))
    if "layout" in only:
        report("postgres.layout", measure_layout(admin_url, min(rows, 100_000)))
    if "timeline" in only:
        measure_timeline(report, admin_url, rows, repeats, keep=keep)
    if "storage" in only:
        measure_storage(report, admin_url, rows, keep=keep)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--rows", type=int, default=1_000_000, help="query corpus size")
    parser.add_argument("--ingest-events", type=int, default=50_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=50, help="queries per filter")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"some of {','.join(PARTS + EXTRA_PARTS)}"
    )
    parser.add_argument("--keep", action="store_true", help="keep the query corpus database")
    parser.add_argument(
        "--http-workers", type=int, default=2, help="serve --workers for HTTP ingest; 0 skips it"
    )
    args = parser.parse_args(argv)
    only = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(only) - set(PARTS + EXTRA_PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    run(
        admin_url=args.admin_url,
        rows=args.rows,
        ingest_events=args.ingest_events,
        processes=args.processes,
        repeats=args.repeats,
        only=only,
        keep=args.keep,
        http_workers=args.http_workers,
    )


if __name__ == "__main__":
    main()
