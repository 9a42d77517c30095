"""Rate limits under load: one key floods at 10x its limit beside another tenant's traffic.

Bounded and on loopback only (``python -m bench --only ratelimits``; not part of
``make test``). ``sealtrail serve --workers N`` runs on a scratch PostgreSQL
database, so with two processes the limit is shared through the database. Two
tenants: ``victim`` searches its 2,000 events at a steady 20 requests/s with its
own key; ``flood``'s key has a read limit of ``FLOOD_LIMIT``/s (its tenant's own,
set by the operator) and sends searches at ten times that, open loop. The run
alternates phases of ``seconds`` each — the victim alone, then the victim with
the flood — ``repeats`` times, so machine noise falls on both alike, and
compares the victim's p95 latency over the flooded phases with its p95 alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from bench.report import Figure, Run
from bench.server import free_port
from sealtrail.audit_log import AuditLog, TenantRateLimits
from sealtrail.settings import Settings

SECTION: Final = "ratelimits"
FLOOD_LIMIT: Final = 5  # read units per second for the flooding key
FLOOD_FACTOR: Final = 10
VICTIM_RATE: Final = 20.0  # requests per second
VICTIM_EVENTS: Final = 2000
TARGET: Final = 1.20


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _prepare(url: str, directory: Path) -> tuple[str, str]:
    settings = Settings(database_url=url, signing_key_file=str(directory / "signing.key"))
    log = AuditLog.open(settings=settings)
    try:
        log.migrate()
        log.create_tenant("victim")
        log.create_tenant("flood")
        victim = log.create_api_key("victim", "events:write,events:read", name="bench").plain
        flood = log.create_api_key("flood", "events:read", name="flooder").plain
        log.set_rate_limits("flood", TenantRateLimits(key_reads=FLOOD_LIMIT))
        events = [
            {
                "action": "member.invited",
                "actor": {"type": "user", "id": f"u{n % 50}", "email": f"u{n % 50}@example.com"},
                "target": {"type": "user", "id": f"t{n}"},
            }
            for n in range(VICTIM_EVENTS)
        ]
        writer = log.authenticate_api_key(victim)
        for start in range(0, VICTIM_EVENTS, 500):
            log.ingest(writer, {"events": events[start : start + 500]})
    finally:
        log.close()
    return victim, flood


@contextlib.contextmanager
def _serve(url: str, directory: Path, workers: int) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    env["SEALTRAIL_SIGNING_KEY_FILE"] = str(directory / "signing.key")
    command = [sys.executable, "-m", "sealtrail", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--database", url]
    with (directory / f"serve-{workers}.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=directory, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"sealtrail serve did not become ready on {base}")
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _paced(
    base: str, key: str, rate: float, until: float, stop: threading.Event
) -> tuple[list[float], Counter[int]]:
    """GET /v1/events at ``rate`` per second, open loop, until ``until``: latencies (ms)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        next_at = time.monotonic()
        while not stop.is_set() and next_at < until:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            started = time.perf_counter()
            response = client.get("/v1/events", params={"limit": 20})
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] += 1
            next_at += 1 / rate
    return latencies, statuses


def _phase(
    base: str, victim: str, flood: str | None, seconds: float
) -> tuple[list[float], Counter[int]]:
    until = time.monotonic() + seconds
    stop = threading.Event()
    flooded: Counter[int] = Counter()
    threads: list[threading.Thread] = []
    if flood is not None:
        flooders = 4
        rate = FLOOD_LIMIT * FLOOD_FACTOR / flooders

        def flood_once() -> None:
            _, statuses = _paced(base, flood, rate, until, stop)
            flooded.update(statuses)

        threads = [threading.Thread(target=flood_once) for _ in range(flooders)]
        for thread in threads:
            thread.start()
    try:
        latencies, statuses = _paced(base, victim, VICTIM_RATE, until, stop)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if set(statuses) != {200}:
        raise RuntimeError(f"the victim was answered {dict(statuses)}")
    return latencies, flooded


def run(report: Run, *, admin_url: str, seconds: float = 15, repeats: int = 3) -> None:
    import psycopg

    from bench.postgres_bench import scratch_database

    try:
        psycopg.connect(admin_url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        report.note(SECTION, f"skipped: no PostgreSQL server answers at {admin_url} ({exc})")
        return
    report.note(
        SECTION,
        f"PostgreSQL, `sealtrail serve --workers 1` and `--workers 2` on loopback. Tenant "
        f"`victim` searches (limit 20, {VICTIM_EVENTS:,} events) at {VICTIM_RATE:.0f}/s with "
        f"its key; tenant `flood`'s key, limited to {FLOOD_LIMIT} read units/s, sends searches "
        f"at {FLOOD_FACTOR}x that ({FLOOD_LIMIT * FLOOD_FACTOR}/s, 4 threads, open loop). "
        f"{repeats} x ({seconds:.0f} s alone, {seconds:.0f} s flooded), interleaved; the "
        "victim's p95 over its flooded phases against its p95 alone.",
    )
    figures: list[Figure] = []
    for workers in (1, 2):
        with (
            scratch_database(admin_url) as url,
            tempfile.TemporaryDirectory(prefix="sealtrail-ratelimit-") as scratch,
        ):
            directory = Path(scratch)
            victim, flood = _prepare(url, directory)
            with _serve(url, directory, workers) as base:
                _phase(base, victim, None, 3)  # warm both processes' pools
                alone: list[float] = []
                loaded: list[float] = []
                flooded: Counter[int] = Counter()
                for rep in range(repeats):
                    alone += _phase(base, victim, None, seconds)[0]
                    latencies, statuses = _phase(base, victim, flood, seconds)
                    loaded += latencies
                    flooded.update(statuses)
                    print(
                        f"    {workers} process(es), run {rep + 1}/{repeats}: victim p95 "
                        f"alone {_p95(alone):.1f} ms, flooded {_p95(loaded):.1f} ms; "
                        f"flood {dict(flooded)}",
                        flush=True,
                    )
        granted = flooded[200] / (repeats * seconds)
        ratio = _p95(loaded) / _p95(alone)
        figures.append(
            Figure(
                SECTION,
                f"victim p95 while another tenant's key floods at {FLOOD_FACTOR}x its limit, "
                f"{workers} API process{'es' if workers > 1 else ''}",
                _p95(loaded),
                "ms",
                baseline=_p95(alone),
                baseline_name="victim p95 alone",
                detail=(
                    f"{len(loaded):,} victim requests flooded, {len(alone):,} alone; flood: "
                    f"{flooded[200]:,} granted ({granted:.1f}/s against a limit of "
                    f"{FLOOD_LIMIT}/s), {flooded[429]:,} refused with 429"
                    + ("" if set(flooded) <= {200, 429} else f", other answers {dict(flooded)}")
                ),
                target=f"≤ {TARGET * 100:.0f} % of alone",
                passed=ratio <= TARGET,
            )
        )
    for engine in ("SQLite", "PostgreSQL"):
        with contextlib.ExitStack() as stack:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rl-cost-")))
            url = (
                f"sqlite:///{folder / 'costs.db'}"
                if engine == "SQLite"
                else stack.enter_context(scratch_database(admin_url))
            )
            cost = _charge_cost(url, folder)
        where = "in the process" if engine == "SQLite" else "shared, in PostgreSQL"
        shared = (
            f"; {cost.to_database} of the {cost.charged} charges went to the database"
            f" ({cost.statements} statements: one each, and two more where the first made"
            f" the counters' rows; median {cost.statement_charge:,.0f} µs), the others"
            " spent the process's advance"
            if engine == "PostgreSQL"
            else ""
        )
        figures.append(
            Figure(
                SECTION,
                f"limiter cost of a write request, counters {where} ({engine})",
                cost.charge / cost.ingest * 100,
                "%",
                detail=(
                    f"{cost.charge:,.0f} µs per request to charge the key's and the tenant's"
                    f" write limits (median of all {cost.median_charge:,.0f} µs) vs"
                    f" {cost.ingest:,.0f} µs for AuditLog.ingest of 100 events on the same"
                    f" database (median), {cost.charged} of each taking turns{shared}"
                ),
                target="≤ 3 %",
                passed=cost.charge / cost.ingest <= 0.03,
            )
        )
    report.add(figures)


@dataclass
class ChargeCost:
    charge: float  # µs per request: each kind's median (advance spent / statement sent),
    # weighted by how many charges were of that kind
    median_charge: float  # µs, over every charge
    ingest: float  # µs, median AuditLog.ingest of 100 events
    statements: int  # statements sent (shared counters only)
    to_database: int  # charges that sent any
    charged: int  # charges in all
    statement_charge: float  # µs, median of the charges that sent one


def _charge_cost(url: str, directory: Path, batches: int = 60) -> ChargeCost:
    """µs one write request's charge takes (key and tenant limits, the store's counters:
    in-process on SQLite, the shared table on PostgreSQL) and µs a 100-event
    ``AuditLog.ingest`` takes on the same database, taking turns; medians. On
    PostgreSQL most charges spend an advance and a few send the statement, so the
    charge is what a request costs on average: the median of each kind weighted by
    how many charges were of it (a mean would be one preemption of this loaded
    machine away from any figure); also how many charges sent a statement and
    what those took."""
    from statistics import median

    from sealtrail.ratelimit import RateLimiter
    from sealtrail.store.rate_counters import PostgresRateCounters

    settings = Settings(
        database_url=url, signing_key_file=str(directory / "signing.key"), rate_limits=False
    )
    log = AuditLog.open(settings=settings)
    sent: list[int] = []
    try:
        log.migrate()
        log.create_tenant("costs")
        principal = log.authenticate_api_key(log.create_api_key("costs", "events:write").plain)
        high = TenantRateLimits(10_000_000, 10_000_000, 10_000_000, 10_000_000)
        counters = log._store.rate_counters()
        if isinstance(counters, PostgresRateCounters):  # the same, counting its statements
            rows = log._store._counter_rows  # type: ignore[attr-defined]

            def counted(sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
                sent.append(1)
                return rows(sql, params)  # type: ignore[no-any-return]

            counters = PostgresRateCounters(log._store._first_row, counted)  # type: ignore[attr-defined]
        limiter = RateLimiter(counters, high, lambda _: TenantRateLimits())
        bodies = [
            {
                "events": [
                    {"id": f"b{n}-{i}", "action": "member.invited",
                     "actor": {"type": "user", "id": f"u{i}"}}
                    for i in range(100)
                ]
            }
            for n in range(batches)
        ]  # fmt: skip
        charges: list[float] = []
        with_statement: list[float] = []
        spent: list[float] = []  # the charges that sent no statement
        ingests: list[float] = []
        clock = time.perf_counter
        for body in bodies:
            before = len(sent)
            started = clock()
            limiter.charge("costs", principal.actor.id, "write", 100)
            charges.append((clock() - started) * 1e6)
            (with_statement if len(sent) > before else spent).append(charges[-1])
            started = clock()
            log.ingest(principal, body)
            ingests.append((clock() - started) * 1e6)
    finally:
        log.close()
    per_request = sum(len(kind) * median(kind) for kind in (spent, with_statement) if kind) / len(
        charges
    )
    return ChargeCost(
        per_request,
        median(charges),
        median(ingests),
        len(sent),
        len(with_statement),
        len(charges),
        median(with_statement) if with_statement else 0.0,
    )
