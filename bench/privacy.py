"""Privacy at scale (SQLite): erasing and pruning in the big tenant, each next to a raw
statement on the same rows, measured in the same run.

* **erase**: ``AuditLog.erase`` + ``run_erasure`` of the big tenant's most active
  user (by actor id), events/s, including the purge at the end (FTS merge, WAL
  truncate). Baseline: one raw ``UPDATE`` setting the same personal columns to
  NULL on the same rows, on a copy whose guard trigger is dropped — no
  commitments, no full-text upkeep, no secure delete.
* **prune**: ``AuditLog.prune`` with a 30-day policy at the dataset's anchor time,
  which lets about 335 of its 365 days go, events/s, including the walk that
  finds the cut, the announcement and the kept leaf hashes. Baseline: raw
  ``DELETE``s of the same rows (seq below the cut) in batches of the same size, on
  a copy without the guard triggers — no full-text upkeep, no leaf hashes kept,
  no secure delete.

Each runs on its own copy of the cached dataset, which stays untouched.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Final

from bench import data
from bench.dataset import Dataset
from bench.report import Figure, Run
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.limits import PRUNE_BATCH
from sealtrail.privacy import Subject
from sealtrail.retention import RetentionPolicy
from sealtrail.settings import Settings

SECTION: Final = "privacy"
PRUNE_DAYS: Final = 30
_CLEARED: Final = (
    "actor_name = NULL, actor_email = NULL, ip = NULL, ip_key = NULL, user_agent = NULL"
)


def _copy(dataset: Dataset, work: Path, name: str) -> tuple[Path, Settings]:
    path = work / f"{name}.db"
    shutil.copyfile(dataset.path, path)
    key = work / f"{name}.key"
    shutil.copyfile(dataset.key_file, key)
    key.chmod(0o600)
    settings = Settings(database_url=f"sqlite:///{path}", signing_key_file=str(key))
    log = AuditLog.open(settings=settings)
    try:
        log.migrate()  # a dataset built before this schema revision gets it here
    finally:
        log.close()
    return path, settings


def _busiest_actor(path: Path, tenant_id: str) -> tuple[str, list[int]]:
    with sqlite3.connect(path) as connection:
        actor = connection.execute(
            "SELECT actor_id FROM events WHERE tenant_id = ? AND actor_type = 'user'"
            " GROUP BY actor_id ORDER BY count(*) DESC LIMIT 1",
            (tenant_id,),
        ).fetchone()[0]
        rowids = [
            r[0]
            for r in connection.execute(
                "SELECT rowid FROM events WHERE tenant_id = ? AND actor_id = ?",
                (tenant_id, actor),
            )
        ]
    return str(actor), rowids


def _erase(report: Run, dataset: Dataset, work: Path) -> None:
    tenant = dataset.big.tenant_id
    path, settings = _copy(dataset, work, "erase")
    actor, rowids = _busiest_actor(path, tenant)
    log = AuditLog.open(settings=settings)
    try:
        principal = Principal.operator(tenant)
        started = time.perf_counter()
        erasure = log.erase(principal, Subject("actor_id", actor), "benchmark")
        assert erasure.erasure_id is not None
        done = log.run_erasure(tenant, erasure.erasure_id)
        seconds = time.perf_counter() - started
    finally:
        log.close()
    path.unlink()
    raw_path, _ = _copy(dataset, work, "erase-raw")
    with sqlite3.connect(raw_path, isolation_level=None) as connection:
        connection.execute("DROP TRIGGER events_refuse_update")
        started = time.perf_counter()
        connection.execute("BEGIN")
        marks = ",".join("?" * len(rowids))
        connection.execute(f"UPDATE events SET {_CLEARED} WHERE rowid IN ({marks})", rowids)
        connection.execute("COMMIT")
        raw_seconds = time.perf_counter() - started
    raw_path.unlink()
    report.add(
        [
            Figure(
                SECTION,
                f"erase a user's {done.events_erased:,} events, tenant of {dataset.big.events:,}",
                done.events_erased / seconds,
                "events/s",
                baseline=len(rowids) / raw_seconds,
                baseline_name="raw UPDATE … SET personal columns = NULL of the same rows",
                detail=f"{seconds:.1f} s with the purge; raw {raw_seconds:.2f} s",
            )
        ]
    )


def _prune(report: Run, dataset: Dataset, work: Path) -> None:
    tenant = dataset.big.tenant_id
    path, settings = _copy(dataset, work, "prune")
    log = AuditLog.open(settings=settings)
    try:
        principal = Principal.operator(tenant)
        log.set_retention(principal, RetentionPolicy(PRUNE_DAYS))
        started = time.perf_counter()
        result = log.prune(tenants=[tenant], now=data.ANCHOR_US)
        seconds = time.perf_counter() - started
        verified = log.verify_database(log.verifier_key, tenants=[tenant])
    finally:
        log.close()
    if not verified.ok:
        raise RuntimeError(f"the pruned tenant does not verify: {verified.problems[:3]}")
    path.unlink()
    (found,) = result.tenants
    raw_path, _ = _copy(dataset, work, "prune-raw")
    with sqlite3.connect(raw_path, isolation_level=None) as connection:
        connection.execute("DROP TRIGGER events_refuse_delete")
        started = time.perf_counter()
        for lo in range(found.first_seq, found.below, PRUNE_BATCH):
            connection.execute("BEGIN")
            connection.execute(
                "DELETE FROM events WHERE tenant_id = ? AND seq >= ? AND seq < ?",
                (tenant, lo, min(lo + PRUNE_BATCH, found.below)),
            )
            connection.execute("COMMIT")
        raw_seconds = time.perf_counter() - started
    raw_path.unlink()
    report.add(
        [
            Figure(
                SECTION,
                f"prune {found.events:,} events ({PRUNE_DAYS}-day policy),"
                f" tenant of {dataset.big.events:,}",
                found.events / seconds,
                "events/s",
                baseline=found.events / raw_seconds,
                baseline_name=f"raw DELETE of the same rows, {PRUNE_BATCH:,} per transaction",
                detail=f"{seconds:.1f} s; raw {raw_seconds:.1f} s; verify --database clean after",
            )
        ]
    )


def run(report: Run, dataset: Dataset, work: Path) -> None:
    _erase(report, dataset, work)
    _prune(report, dataset, work)
