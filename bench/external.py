"""The SDK and PostgreSQL sections: ``bench.sdk_bench`` and ``bench.postgres_bench`` as figures.

Both modules report ``(name, {key: number})`` pairs through a callback; this
module runs them and turns each pair into table lines with the baseline the
module measured in the same run. The SDK's ``record()`` cost gets a floor of
its own here: the same timing loop around a bare ``SimpleQueue.put`` of the
same arguments, which is the least any non-blocking hand-off can cost.
"""

from __future__ import annotations

import queue
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from bench.export import TARGET_RATE as EXPORT_TARGET
from bench.report import Figure, Run, percentile
from bench.server import serve

SDK: Final = "sdk"
POSTGRES: Final = "postgres"
RECORD_TARGET_US: Final = 20.0
QUERY_TARGET_MS: Final = 50.0

Results = dict[str, dict[str, float]]


def _collector(into: Results) -> Any:
    def report(name: str, values: Mapping[str, float]) -> None:
        into[name] = dict(values)
        print(f"    {name}: " + ", ".join(f"{k}={v:,.2f}" for k, v in values.items()), flush=True)

    return report


def _queue_put_p99(calls: int) -> tuple[float, float]:
    """p50/p99 µs of ``SimpleQueue.put`` of a small event dict, timed like ``record()``."""
    sink: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
    clock = time.perf_counter_ns
    timings = [0] * calls
    for n in range(calls):
        fields = {"action": "document.updated", "resource": {"type": "document", "id": f"d{n}"}}
        started = clock()
        sink.put(fields)
        timings[n] = clock() - started
    return percentile(timings, 0.50) / 1000, percentile(timings, 0.99) / 1000


def run_sdk(report: Run, work: Path, *, calls: int, events: int) -> None:
    from bench import sdk_bench

    results: Results = {}
    with (
        tempfile.TemporaryDirectory(dir=work, prefix="sdk-") as directory,
        serve(Path(directory)) as live,
    ):
        sdk_bench.run(
            _collector(results), url=live.url, api_key=live.api_key, calls=calls, events=events
        )
    put50, put99 = _queue_put_p99(calls)
    record = results["sdk.record"]
    figures = [
        Figure(
            SDK,
            "Client.record() caller cost, p99",
            record["p99_us"],
            "µs",
            baseline=put99,
            baseline_name="SimpleQueue.put of a dict, p99",
            detail=(
                f"p50 {record['p50_us']:.1f} µs, max {record['max_us']:,.0f} µs over "
                f"{int(record['calls']):,} calls; queue.put p50 {put50:.2f} µs"
            ),
            target=f"p99 ≤ {RECORD_TARGET_US:.0f} µs",
            passed=record["p99_us"] <= RECORD_TARGET_US,
        )
    ]
    e2e = results.get("sdk.end_to_end")
    if e2e is not None:
        figures.append(
            Figure(
                SDK,
                f"end to end through Client, batches of {int(e2e['batch_size'])}",
                e2e["sdk_events_per_s"],
                "events/s",
                baseline=e2e["raw_httpx_events_per_s"],
                baseline_name="the same events as raw httpx POSTs, one client",
                detail=f"{int(e2e['events']):,} events, {int(e2e['retried'])} retried",
                ratio=e2e["ratio"],
            )
        )
    report.add(figures)
    report.note(
        SDK,
        "From bench/sdk_bench.py against a `sealtrail serve` subprocess over a fresh SQLite "
        "database; the queue.put floor is measured here in the same run.",
    )


def postgres_reason(admin_url: str) -> str | None:
    """Why the PostgreSQL section cannot run, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (the postgres extra)"
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL at {admin_url}: {str(exc).strip().splitlines()[0]}"


def run_postgres(
    report: Run, *, admin_url: str, rows: int, ingest_events: int, repeats: int
) -> None:
    # A 10 M run is recorded in a block of its own, beside the 1 M one.
    section = POSTGRES if rows < 10_000_000 else f"{POSTGRES}-10m"
    reason = postgres_reason(admin_url)
    if reason is not None:
        report.note(section, f"skipped: {reason} (set --postgres-url)")
        print(f"postgres: SKIPPED — {reason}", flush=True)
        return
    from bench import postgres_bench

    results: Results = {}
    postgres_bench.run(
        _collector(results),
        admin_url=admin_url,
        rows=rows,
        ingest_events=ingest_events,
        repeats=repeats,
    )
    report.add(postgres_figures(results, rows, section))
    report.note(
        section,
        "From bench/postgres_bench.py, each part in a scratch database on "
        f"{admin_url.rsplit('@', 1)[-1]}: ingest of {ingest_events:,} events; queries over "
        f"{rows:,} events after VACUUM ANALYZE, p50/p95 over {repeats} values per filter, "
        "first page of 50 without a total (`<filter>_total`: with the capped total, as "
        "GET /v1/events reads it). Its raw COPY baseline for ingest writes `events` "
        "alone (the store also writes `event_ids` and tree nodes).",
    )


def _unit(key: str) -> str | None:
    if key.endswith(("_eps", "_per_s")):
        return "events/s" if key.endswith("_eps") else "rows/s"
    if key.endswith("_ms"):
        return "ms"
    return None


def _generic(name: str, values: Mapping[str, float], section: str) -> list[Figure]:
    """Lines for a report this module has no special reading of."""
    figures = []
    for key, value in values.items():
        unit = _unit(key)
        if unit is not None:
            figures.append(Figure(section, f"{name.removeprefix('postgres.')} {key}", value, unit))
    return figures


def postgres_figures(results: Results, rows: int, section: str = POSTGRES) -> list[Figure]:
    figures: list[Figure] = []
    known = {"postgres.ingest", "postgres.concurrent", "postgres.load", "postgres.fulltext"}
    known |= {"postgres.layout"}
    ingest = results.get("postgres.ingest")
    if ingest is not None:
        raw = ingest["raw_copy_eps"]
        figures.append(
            Figure(
                section,
                f"raw binary COPY into events, batches of {int(ingest['batch'])} (baseline)",
                raw,
                "events/s",
                detail=f"{int(ingest['events']):,} events",
            )
        )
        figures.append(
            Figure(
                section,
                f"PostgresStore.append, batches of {int(ingest['batch'])} (ledger included)",
                ingest["store_eps"],
                "events/s",
                baseline=raw,
                baseline_name="raw binary COPY of the same rows",
                detail=f"leaf hashing alone {ingest['seal_eps']:,.0f}/s",
                ratio=ingest["ratio"],
            )
        )
        if "http_eps" in ingest:
            figures.append(
                Figure(
                    section,
                    f"HTTP POST, batches of {min(int(ingest['batch']), 1000)}, "
                    f"serve --workers {int(ingest['http_workers'])}, "
                    f"{int(ingest['http_clients'])} clients",
                    ingest["http_eps"],
                    "events/s",
                    baseline=raw,
                    baseline_name="raw binary COPY of the same rows",
                    ratio=ingest["http_ratio"],
                )
            )
    concurrent = results.get("postgres.concurrent")
    if concurrent is not None:
        alone = concurrent["one_process_eps"]
        for key, label in (
            ("one_tenant_eps", "one tenant"),
            ("tenant_each_eps", "a tenant each"),
        ):
            figures.append(
                Figure(
                    section,
                    f"{int(concurrent['processes'])} processes appending to {label}, "
                    f"batches of {int(concurrent['batch'])}",
                    concurrent[key],
                    "events/s",
                    baseline=alone,
                    baseline_name="one process alone, same events",
                    detail=f"{int(concurrent['events']):,} events",
                )
            )
    load = results.get("postgres.load")
    if load is not None:
        figures.append(
            Figure(
                section,
                f"COPY building the {int(load['rows']):,}-event query corpus",
                load["load_rows_per_s"],
                "rows/s",
                detail=f"{load['load_s']:,.0f} s",
            )
        )
    latest = results.get("postgres.query.latest")
    base = None if latest is None else latest["p95_ms"]
    if latest is not None:
        figures.append(
            Figure(
                section,
                "query latest page, tenant only (baseline)",
                latest["p95_ms"],
                "ms",
                detail=f"p50 {latest['p50_ms']:.2f} ms",
            )
        )
    for name, values in results.items():
        if not name.startswith("postgres.query.") or name == "postgres.query.latest":
            continue
        case = name.removeprefix("postgres.query.")
        indexed = case not in (
            "offset_5000",
            "count_30_days",
            "count_action",
            "count_year_exact",
            "count_actor_exact",
            "get_event",
        ) and not case.endswith(("_before_0011", "_before_0012"))
        figures.append(
            Figure(
                section,
                f"query {case}",
                values["p95_ms"],
                "ms",
                baseline=base,
                baseline_name="tenant-only latest page p95",
                detail=f"p50 {values['p50_ms']:.2f} ms at {rows:,} events",
                target=f"p95 ≤ {QUERY_TARGET_MS:.0f} ms" if indexed else "",
                passed=values["p95_ms"] <= QUERY_TARGET_MS if indexed else None,
            )
        )
    fulltext = results.get("postgres.fulltext")
    if fulltext is not None:
        plain = fulltext.get("none_copy_rows_per_s")
        for variant in ("tsvector", "trigram"):
            rate = fulltext.get(f"{variant}_copy_rows_per_s")
            if rate is None:
                continue
            figures.append(
                Figure(
                    section,
                    f"COPY with the {variant} text index, {int(fulltext['rows']):,} rows",
                    rate,
                    "rows/s",
                    baseline=plain,
                    baseline_name="COPY with no text index",
                    detail=(
                        f"common word p50 {fulltext.get(f'{variant}_common_p50_ms', 0):.1f} ms, "
                        f"rare word p50 {fulltext.get(f'{variant}_rare_p50_ms', 0):.1f} ms"
                    ),
                )
            )
    layout = results.get("postgres.layout")
    if layout is not None and "partitioned_with_ids_rows_per_s" in layout:
        figures.append(
            Figure(
                section,
                f"COPY into the shipped layout (partitions + event_ids), "
                f"{int(layout.get('rows', 0)):,} rows",
                layout["partitioned_with_ids_rows_per_s"],
                "rows/s",
                baseline=layout.get("flat_unique_rows_per_s"),
                baseline_name="one flat table, same indexes + UNIQUE (tenant, id), (tenant, seq)",
            )
        )
    known.add("postgres.export")
    exported = results.get("postgres.export")
    if exported is not None:
        for fmt in ("csv", "ndjson"):
            rate = exported[f"{fmt}_rows_per_s"]
            figures.append(
                Figure(
                    section,
                    f"{fmt.upper()} through store.export_body, {int(exported['rows']):,} events",
                    rate,
                    "rows/s",
                    baseline=exported[f"{fmt}_raw_rows_per_s"],
                    baseline_name="raw SELECT (server-side cursor) + "
                    + ("csv.writer" if fmt == "csv" else "orjson"),
                    detail=f"medians of {int(exported['rounds'])}, taking turns",
                    target=f"≥ {EXPORT_TARGET[fmt]:,} rows/s",
                    passed=rate >= EXPORT_TARGET[fmt],
                )
            )
    for name, values in results.items():
        if name not in known and not name.startswith("postgres.query."):
            figures.extend(_generic(name, values, section))
    return figures
