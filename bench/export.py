"""Export rows/s and peak memory through ``AuditLog.export``, each run in its own process.

A run exports the big tenant's newest N events (a ``since``/``until`` window
chosen to hold exactly N) as CSV or NDJSON into a byte counter, in a fresh
``python -m bench.export --child`` process that reports its wall time and
its peak resident memory (``VmHWM``) before and after. Memory is flat when the peak does not grow
with N: 100 k and 400 k events are compared.

``AuditLog.export`` records an ``audit_log.exported`` event before the first
byte, so the runs use a scratch copy of the cached dataset.

The baseline is the floor under an exporter that writes rows in Python: the
same rows read with a raw ``SELECT`` on the same connection settings and
written straight from the row tuples by ``csv.writer`` (CSV) or ``orjson.dumps``
of a dict (NDJSON), in chunks, with no ``Event`` objects and no CSV-injection
neutralising. On SQLite the export's lines are written by SQLite itself
(``store.sqlite_export``), so it can pass that floor.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import orjson

from bench.dataset import Dataset
from bench.report import REPO, Figure, Run, median
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.query import EventQuery, TimeRange
from sealtrail.settings import Settings
from sealtrail.store.codec import COLUMNS
from sealtrail.store.sqlite import SQLiteStore

SECTION: Final = "export"
SIZES: Final = (100_000, 400_000)
TARGET_RATE: Final = {"csv": 100_000, "ndjson": 150_000}  # rows/s (issue 14)
_TEXT_COLUMNS: Final = tuple(c for c in COLUMNS if c not in ("ip_key", "salts", "leaf_hash"))


def _window(since_us: int, until_us: int) -> EventQuery:
    from sealtrail.events import from_micros

    return EventQuery(time=TimeRange(from_micros(since_us), from_micros(until_us)))


# -- the child process -----------------------------------------------------------------------


def _memory_mib(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` of this process from /proc, in MiB.

    Not ``ru_maxrss``: Linux carries that across fork and exec, so a child of a
    big parent would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _export_chunks(args: argparse.Namespace) -> Iterator[bytes]:
    settings = Settings(database_url=f"sqlite:///{args.db}", signing_key_file=args.key)
    log = AuditLog(SQLiteStore(settings.database_url), settings=settings)
    query = _window(args.since_us, args.until_us)
    try:
        yield from log.export(Principal.operator(args.tenant), query, args.format).chunks
    finally:
        log.close()


def _raw_chunks(args: argparse.Namespace) -> Iterator[bytes]:
    store = SQLiteStore(f"sqlite:///{args.db}")
    connection = store._connect()
    sql = (
        f"SELECT {', '.join(_TEXT_COLUMNS)} FROM events"
        " WHERE tenant_id = ? AND occurred_at >= ? AND occurred_at < ?"
        " ORDER BY occurred_at DESC, seq DESC"
    )
    try:
        cursor = connection.execute(sql, (args.tenant, args.since_us, args.until_us))
        if args.format == "raw-csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            writer.writerow(_TEXT_COLUMNS)
            while rows := cursor.fetchmany(1000):
                writer.writerows(rows)
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        else:
            dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
            while rows := cursor.fetchmany(1000):
                yield b"".join(
                    dumps(dict(zip(_TEXT_COLUMNS, r, strict=True)), option=option) for r in rows
                )
    finally:
        connection.close()


def child(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.export --child")
    parser.add_argument("--db", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--since-us", type=int, required=True)
    parser.add_argument("--until-us", type=int, required=True)
    parser.add_argument(
        "--format", choices=("csv", "ndjson", "raw-csv", "raw-ndjson"), required=True
    )
    args = parser.parse_args(argv)
    before = _memory_mib("VmHWM")
    chunks = _raw_chunks(args) if args.format.startswith("raw-") else _export_chunks(args)
    written = 0
    started = time.perf_counter()
    for chunk in chunks:
        written += len(chunk)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bytes": written,
                "rss_before_mib": before,
                "rss_peak_mib": _memory_mib("VmHWM"),
            }
        )
    )


# -- the parent -----------------------------------------------------------------------------------


def _spawn(db: Path, dataset: Dataset, fmt: str, since_us: int, until_us: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.export",
            "--child",
            "--db",
            str(db),
            "--key",
            str(dataset.key_file),
            "--tenant",
            dataset.big.tenant_id,
            "--since-us",
            str(since_us),
            "--until-us",
            str(until_us),
            "--format",
            fmt,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"export child failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _windows(store: SQLiteStore, tenant_id: str) -> dict[int, tuple[int, int]]:
    """For each size, a [since, until) window holding exactly that many of the newest events."""
    connection = store._connect()
    try:
        (until,) = connection.execute(
            "SELECT max(occurred_at) + 1 FROM events WHERE tenant_id = ?", (tenant_id,)
        ).fetchone()
        windows = {}
        for size in SIZES:
            (since,) = connection.execute(
                "SELECT occurred_at FROM events WHERE tenant_id = ?"
                " ORDER BY occurred_at DESC, seq DESC LIMIT 1 OFFSET ?",
                (tenant_id, size - 1),
            ).fetchone()
            windows[size] = (since, until)
    finally:
        connection.close()
    return windows


def _runs_text(repeats: int) -> str:
    return "one run each" if repeats == 1 else f"medians of {repeats}"


def run(report: Run, dataset: Dataset, work: Path, *, repeats: int) -> None:
    if dataset.big.events < max(SIZES):
        report.note(
            SECTION, f"skipped: the dataset's big tenant holds fewer than {max(SIZES):,} events"
        )
        return
    with tempfile.TemporaryDirectory(dir=work, prefix="export-") as scratch:
        copy = Path(scratch) / "export.db"
        started = time.perf_counter()
        shutil.copyfile(dataset.path, copy)
        print(f"export: copied the dataset in {time.perf_counter() - started:.1f} s", flush=True)
        store = SQLiteStore(f"sqlite:///{copy}")
        windows = _windows(store, dataset.big.tenant_id)
        counts = {
            size: store.count(dataset.big.tenant_id, _window(*w), cap=None)
            for size, w in windows.items()
        }
        store.close()
        big = max(SIZES)
        figures: list[Figure] = []
        for fmt in ("csv", "ndjson"):
            rates: dict[str, list[float]] = {"raw": [], "export": []}
            peaks: dict[int, dict[str, Any]] = {}
            for rep in range(repeats):
                for kind, name in (("raw", f"raw-{fmt}"), ("export", fmt)):
                    result = _spawn(copy, dataset, name, *windows[big])
                    rate = big / result["seconds"]
                    rates[kind].append(rate)
                    if kind == "export" and rep == 0:
                        peaks[big] = result
                    print(
                        f"    {name} {big:,} rows, run {rep + 1}/{repeats}: {rate:,.0f} rows/s",
                        flush=True,
                    )
            small = min(SIZES)
            peaks[small] = _spawn(copy, dataset, fmt, *windows[small])
            raw, value = median(rates["raw"]), median(rates["export"])
            label = fmt.upper()
            figures.append(
                Figure(
                    SECTION,
                    f"{label} through AuditLog.export, {big:,} events",
                    value,
                    "rows/s",
                    baseline=raw,
                    baseline_name=f"raw SELECT + {'csv.writer' if fmt == 'csv' else 'orjson'}",
                    detail="runs " + ", ".join(f"{v:,.0f}" for v in rates["export"]),
                    target=f"≥ {TARGET_RATE[fmt]:,} rows/s",
                    passed=value >= TARGET_RATE[fmt],
                )
            )
            growth = {
                size: peaks[size]["rss_peak_mib"] - peaks[size]["rss_before_mib"] for size in SIZES
            }
            figures.append(
                Figure(
                    SECTION,
                    f"{label} peak memory added by exporting {big:,} vs {small:,} events",
                    growth[big],
                    "MiB",
                    baseline=growth[small],
                    baseline_name=f"same export of {small:,} events",
                    detail=(
                        f"peak RSS {peaks[big]['rss_peak_mib']:.0f} vs "
                        f"{peaks[small]['rss_peak_mib']:.0f} MiB; "
                        f"{peaks[big]['bytes'] / 2**20:.0f} vs "
                        f"{peaks[small]['bytes'] / 2**20:.0f} MiB written"
                    ),
                    target="flat (≤ 1.25× for 4× the rows)",
                    passed=growth[big] <= 1.25 * max(growth[small], 1.0),
                )
            )
        report.add(figures)
        report.note(
            SECTION,
            f"Windows over the big tenant's newest events: {counts[min(SIZES)]:,} and "
            f"{counts[big]:,} rows; each run is a fresh process ({_runs_text(repeats)}); "
            "memory is the growth of the peak RSS (VmHWM) from after start-up to the end of the "
            "export.",
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        raise SystemExit("run the export benchmark through `python -m bench --only export`")
