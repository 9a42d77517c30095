"""``python -m bench``: Sealtrail's benchmarks, each figure next to a baseline from the same run.

    python -m bench                               # everything at the default sizes
    python -m bench --only ingest,queries         # some sections
    python -m bench --only queries,ledger --ten-million   # add the 10 M figures
    python -m bench --record                      # and write docs/benchmarks.md

Sections: ingest (SQLite: raw, AuditLog, HTTP, ledger overhead), queries (every SPEC §6
filter at 1 M events), histogram (the timeline at 1 M events), export (CSV/NDJSON rows/s,
peak memory), storage (bytes per event of each table and index of the 1 M dataset, from
SQLite's dbstat; bench/storage.py), indexes (what each index of events costs an append on
SQLite and PostgreSQL, beside its bytes; bench/index_cost.py), ledger (inclusion proofs,
verify rate), privacy (erase and prune events/s next to raw UPDATE/DELETE of the same rows),
sdk (bench/sdk_bench.py), postgres (bench/postgres_bench.py; skipped when no server
answers), peer (django-auditlog beside Sealtrail on the same PostgreSQL at 1 M events, query
p95 side by side, CSV export, bytes per event; bench/peer.py, needs the bench dependency
group and PostgreSQL, skipped without either) and ratelimits (one key flooding at 10x its
limit beside another tenant's traffic, on one and two API processes;
bench/ratelimit_load.py, needs PostgreSQL; skipped when no server answers), streams (webhook
delivery throughput, ingest → receiver latency at 100 and 1,000 events/s, ingest with 3
streams vs none; bench/streams_bench.py) and detections (HTTP ingest with the built-in rules
on vs off, alert latency; bench/detections.py). The query dataset is built once and cached
under bench/.data/."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bench import (
    dataset,
    detections,
    export,
    external,
    histogram,
    index_cost,
    ingest,
    ledger,
    peer,
    privacy,
    query,
    ratelimit_load,
    storage,
    streams_bench,
)
from bench.report import REPO, Run, from_json, record, table, to_json

SECTIONS: Final = (
    "ingest",
    "queries",
    "histogram",
    "export",
    "storage",
    "indexes",
    "ledger",
    "privacy",
    "sdk",
    "postgres",
    "peer",
    "ratelimits",
    "streams",
    "detections",
)
RESULTS: Final = REPO / "bench" / "results"
DEFAULT_POSTGRES: Final = "postgresql://postgres@127.0.0.1:5432/postgres"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}"
    )
    parser.add_argument("--events", type=int, default=100_000, help="events per ingest measurement")
    parser.add_argument(
        "--size", type=int, default=1_000_000, help="events of the big tenant for queries/ledger"
    )
    parser.add_argument(
        "--ten-million",
        action="store_true",
        help=(
            "also run the queries and inclusion proofs at 10 M events (builds a ~14 GB SQLite "
            "dataset once, ~25 min on 2 cores) and the PostgreSQL section at 10 M (a ~20 GB "
            "scratch corpus, ~25 min), recorded beside the 1 M figures"
        ),
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved runs per in-process ingest figure"
    )
    parser.add_argument("--http-repeats", type=int, default=3, help="runs per HTTP ingest figure")
    parser.add_argument(
        "--export-repeats", type=int, default=3, help="runs per export rate (400 k rows each)"
    )
    parser.add_argument(
        "--index-events",
        type=int,
        default=100_000,
        help="events appended in turns to each database (indexes)",
    )
    parser.add_argument(
        "--index-prefill",
        type=int,
        default=200_000,
        help="events each database holds before the clock starts (indexes)",
    )
    parser.add_argument("--clients", type=int, default=4, help="HTTP client threads")
    parser.add_argument(
        "--detection-events", type=int, default=50_000, help="events per detections ingest run"
    )
    parser.add_argument(
        "--stream-rounds",
        type=int,
        default=4,
        help="rounds of ingest with no stream and with 3, taking turns (4,000 events each)",
    )
    parser.add_argument(
        "--alert-rounds", type=int, default=40, help="rounds of the alert latency measurement"
    )
    parser.add_argument("--sdk-calls", type=int, default=100_000, help="record() calls timed")
    parser.add_argument("--sdk-events", type=int, default=20_000, help="events sent end to end")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SEALTRAIL_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a superuser URL (scratch databases are created and dropped)",
    )
    parser.add_argument("--postgres-events", type=int, default=50_000, help="ingest events")
    parser.add_argument("--postgres-repeats", type=int, default=50, help="values per filter")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="processes building a dataset"
    )
    parser.add_argument(
        "--record", action="store_true", help="write the figures into docs/benchmarks.md"
    )
    parser.add_argument(
        "--record-last",
        action="store_true",
        help="measure nothing: record bench/results/latest.json into docs/benchmarks.md",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.record_last:
        last = from_json(json.loads((RESULTS / "latest.json").read_text()))
        record(last)
        print(f"recorded the run of {last.started:%Y-%m-%d %H:%M} UTC ({last.command})")
        return 0
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    shown = sys.argv[1:] if argv is None else list(argv)
    run = Run(command=shlex.join(["python", "-m", "bench", *shown]))
    dataset.prepare_data_dir()
    work = Path(tempfile.mkdtemp(dir=dataset.DATA_DIR, prefix="work-"))
    started = time.perf_counter()
    try:
        _run(run, args, only, work)
        _section("done")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    run.finish(elapsed / 60)
    print(f"\n{table(run.figures)}\n")
    for section in run.sections():
        for note in run.notes.get(section, []):
            print(f"[{section}] {note}")
    print(f"\nfinished in {elapsed / 60:.1f} min")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(to_json(run), indent=2) + "\n")
    if args.record:
        record(run)
        print(f"recorded in {REPO / 'docs' / 'benchmarks.md'}")
    return 0


_last_section: list[tuple[str, float]] = []


def _section(name: str) -> None:
    """Print a section heading, and how long the previous section took."""
    now = time.perf_counter()
    if _last_section:
        previous, began = _last_section.pop()
        print(f"   ({previous} took {(now - began) / 60:.1f} min)", flush=True)
    _last_section.append((name, now))
    print(f"\n== {name} ==", flush=True)


def _run(run: Run, args: argparse.Namespace, only: list[str], work: Path) -> None:
    if "ingest" in only:
        _section("ingest (SQLite)")
        ingest.run(
            run,
            work,
            events=args.events,
            repeats=args.repeats,
            http_repeats=args.http_repeats,
            clients=args.clients,
            seed=args.seed,
        )
    if "indexes" in only:
        _section("indexes (what each costs an append, SQLite and PostgreSQL)")
        index_cost.run(
            run,
            work,
            admin_url=args.postgres_url,
            prefill=args.index_prefill,
            events=args.index_events,
        )
    needs_data = {"queries", "histogram", "export", "storage", "ledger", "privacy"} & set(only)
    if needs_data:
        _section(f"dataset ({args.size:,} events in the big tenant)")
        data = dataset.ensure(args.size, seed=args.seed, workers=args.workers)
        if "queries" in only:
            _section("queries (SQLite)")
            query.run(run, data)
        if "histogram" in only:
            _section("histogram (SQLite)")
            histogram.run(run, data)
        if "export" in only:
            _section("export (SQLite)")
            export.run(run, data, work, repeats=args.export_repeats)
        if "storage" in only:
            _section("storage (SQLite)")
            storage.run(run, data)
        if "ledger" in only:
            _section("ledger (SQLite)")
            ledger.run(run, data)
        if "privacy" in only:
            _section("privacy (SQLite)")
            privacy.run(run, data, work)
        big = None
        if args.ten_million and {"queries", "ledger"} & set(only):
            _section("dataset (10,000,000 events in the big tenant)")
            big = dataset.ensure(10_000_000, seed=args.seed, workers=args.workers)
            if "queries" in only:
                _section("queries at 10 M (SQLite)")
                query.run(run, big, section="queries-10m")
        if args.ten_million and "histogram" in only:
            # The timeline reads no more than its counts and its clipped hours' events:
            # without the full 10 M dataset cached, a denser copy of the 1 M one does.
            full = big or dataset.cached(10_000_000, seed=args.seed)
            dense = full or dataset.ensure_dense(data, 10_000_000 // args.size)
            _section(f"histogram at 10 M (SQLite, {'full' if full else 'derived'} dataset)")
            histogram.run(run, dense, section="histogram-10m", other_filters=False)
        if big is not None and "ledger" in only:
            _section("ledger at 10 M (SQLite)")
            ledger.run(run, big, section="ledger-10m", verify=False)
    if "detections" in only:
        _section("detections (HTTP, SQLite)")
        detections.run(
            run,
            work,
            events=args.detection_events,
            repeats=args.repeats,
            clients=args.clients,
            rounds=args.alert_rounds,
        )
    if "sdk" in only:
        _section("sdk")
        external.run_sdk(run, work, calls=args.sdk_calls, events=args.sdk_events)
    if "streams" in only:
        _section("streams (SQLite: delivery throughput, latency, ingest slowdown)")
        streams_bench.run(run, work, rounds=args.stream_rounds)
    if "ratelimits" in only:
        _section("rate limits (PostgreSQL, one and two API processes)")
        ratelimit_load.run(run, admin_url=args.postgres_url)
    if "postgres" in only:
        _section("postgres")
        external.run_postgres(
            run,
            admin_url=args.postgres_url,
            rows=10_000_000 if args.ten_million else args.size,
            ingest_events=args.postgres_events,
            repeats=args.postgres_repeats,
        )
    if "peer" in only:
        _section("peer (django-auditlog and Sealtrail on the same PostgreSQL)")
        peer.run(run, admin_url=args.postgres_url, rows=args.size, repeats=args.postgres_repeats)


if __name__ == "__main__":
    raise SystemExit(main())
