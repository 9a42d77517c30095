"""The ledger at scale: inclusion proofs on a big tree, and how fast a database verifies.

* **inclusion proof**: ``AuditLog.inclusion_proof`` for random leaves of the big
  tenant (its tree has exactly ``size`` leaves), p50/p95; the baseline is one
  indexed row read (``SELECT leaf_hash … WHERE tenant_id = ? AND seq = ?``) of the
  same leaves. One proof is checked against the signed root, so the figure is
  of a proof that verifies.
* **verify**: ``verify_store`` on the big tenant, events/s and CPU seconds per
  1 M events (the workers' included: that figure does not depend on the
  machine's load), with two worker processes and with one, taking turns, next
  to a raw ``SELECT`` of the same rows in seq order. A cProfile of a smaller
  tenant (one process) shows where the time goes.

The dataset carries a checkpoint for every tenant's full tree, so nothing here
writes to it.
"""

from __future__ import annotations

import base64
import cProfile
import io
import pstats
import random
import resource
import time
from typing import Final

from bench.dataset import Dataset
from bench.report import Figure, Run, median, percentile
from sealtrail.auth import Principal
from sealtrail.ledger import merkle
from sealtrail.ledger.checkpoint import origin_for_tenant
from sealtrail.store.codec import SELECT_LIST
from sealtrail.store.sqlite import SQLiteStore
from sealtrail.verify import verify_store

PROOFS: Final = 100
PROOF_TARGET_MS: Final = 5.0
VERIFY_TARGET: Final = 100_000
VERIFY_WORKERS: Final = 2  # the machine's cores
VERIFY_ROUNDS: Final = 2


def _proofs(report: Run, dataset: Dataset, section: str) -> None:
    log = dataset.open()
    tenant = dataset.big.tenant_id
    operator = Principal.operator(tenant)
    store = dataset.store()
    try:
        head = store.tree_head(tenant)
        latest = store.latest_checkpoint(tenant)
        if latest is None or latest.tree_size < head.size:
            report.note(section, "the dataset's checkpoint was behind its tree; signed a new one")
        rng = random.Random(f"{dataset.seed}:proofs")
        seqs = [rng.randrange(head.size) for _ in range(PROOFS)]
        for seq in seqs[:10]:
            log.inclusion_proof(operator, seq)
        timings = []
        body: dict[str, object] = {}
        for seq in seqs:
            started = time.perf_counter()
            body = log.inclusion_proof(operator, seq)
            timings.append((time.perf_counter() - started) * 1000)
        signed = store.latest_checkpoint(tenant)
        if signed is None or signed.tree_size != head.size:
            raise RuntimeError("the dataset's tree has no checkpoint of its full size")
        checkpoint = log.signer().open(signed.note, origin_for_tenant(tenant))
        path = [base64.b64decode(h) for h in body["proof"]]  # type: ignore[attr-defined]
        merkle.verify_inclusion(
            seqs[-1],
            checkpoint.size,
            base64.b64decode(str(body["leaf_hash"])),
            path,
            checkpoint.root_hash,
        )
        connection = store._connect()
        raw = []
        try:
            for seq in seqs:
                started = time.perf_counter()
                connection.execute(
                    "SELECT leaf_hash FROM events WHERE tenant_id = ? AND seq = ?", (tenant, seq)
                ).fetchone()
                raw.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
    finally:
        log.close()
    report.add(
        [
            Figure(
                section,
                f"inclusion proof, tree of {head.size:,} leaves ({len(path)} hashes)",
                percentile(timings, 0.95),
                "ms",
                baseline=percentile(raw, 0.95),
                baseline_name="one indexed leaf_hash row read, p95",
                detail=f"p50 {median(timings):.3f} ms over {PROOFS} random leaves",
                target=f"p95 ≤ {PROOF_TARGET_MS:.0f} ms",
                passed=percentile(timings, 0.95) <= PROOF_TARGET_MS,
            )
        ]
    )


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the verify workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed_verify(store: SQLiteStore, vkey: str, tenant: str, workers: int) -> tuple[float, float]:
    """(events/s, CPU seconds per 1 M events) of one ``verify_store`` run that must pass."""
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = verify_store(store, vkey, tenants=[tenant], workers=workers)
    elapsed, used = time.perf_counter() - started, _cpu_seconds() - cpu
    if not result.ok:
        raise RuntimeError(f"the dataset does not verify: {result.problems[:3]}")
    return result.events / elapsed, used / result.events * 1_000_000


def _verify(report: Run, dataset: Dataset, section: str) -> None:
    plan = dataset.big
    log = dataset.open()
    store = dataset.store()
    try:
        vkey = log.verifier_key
        connection = store._connect()
        try:
            cpu, started = _cpu_seconds(), time.perf_counter()
            rows = 0
            cursor = connection.execute(
                f"SELECT {SELECT_LIST} FROM events WHERE tenant_id = ? ORDER BY seq",
                (plan.tenant_id,),
            )
            while chunk := cursor.fetchmany(5000):
                rows += len(chunk)
            raw_rate = rows / (time.perf_counter() - started)
            raw_cpu = (_cpu_seconds() - cpu) / rows * 1_000_000
        finally:
            connection.close()
        # One process and VERIFY_WORKERS processes take turns, so load falls on both alike.
        single: list[tuple[float, float]] = []
        parallel: list[tuple[float, float]] = []
        for _ in range(VERIFY_ROUNDS):
            single.append(_timed_verify(store, vkey, plan.tenant_id, 1))
            parallel.append(_timed_verify(store, vkey, plan.tenant_id, VERIFY_WORKERS))
        small = dataset.plans[-1]
        profiler = cProfile.Profile()
        profiler.enable()
        verify_store(store, vkey, tenants=[small.tenant_id])
        profiler.disable()
    finally:
        log.close()
    rate, cpu_per_million = median([r for r, _ in parallel]), median([c for _, c in parallel])
    single_rate = median([r for r, _ in single])
    single_cpu = median([c for _, c in single])
    report.add(
        [
            Figure(
                section,
                f"verify_store, {VERIFY_WORKERS} workers, tenant of {plan.events:,} events",
                rate,
                "events/s",
                baseline=raw_rate,
                baseline_name="raw SELECT of the same rows in seq order",
                detail=(
                    f"{cpu_per_million:.1f} CPU s per 1 M events (raw SELECT: {raw_cpu:.1f}); "
                    f"runs {', '.join(f'{r:,.0f}' for r, _ in parallel)}"
                ),
                target=f"≥ {VERIFY_TARGET:,} events/s",
                passed=rate >= VERIFY_TARGET,
            ),
            Figure(
                section,
                f"verify_store, one process, tenant of {plan.events:,} events",
                single_rate,
                "events/s",
                baseline=raw_rate,
                baseline_name="raw SELECT of the same rows in seq order",
                detail=(
                    f"{single_cpu:.1f} CPU s per 1 M events; "
                    f"runs {', '.join(f'{r:,.0f}' for r, _ in single)}"
                ),
            ),
        ]
    )
    report.note(
        section,
        f"verify runs taking turns, one process and {VERIFY_WORKERS} workers, "
        f"{VERIFY_ROUNDS} each; CPU time counts the workers'",
    )
    report.note(section, f"where verify_store spends its time ({small.events:,} events, cProfile):")
    for line in _top(profiler, 12):
        report.note(section, line)


def _top(profiler: cProfile.Profile, count: int) -> list[str]:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    lines = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in entries[:count]:
        where = filename.split("/site-packages/")[-1].split("/src/")[-1]
        lines.append(
            f"`{name}` ({where}:{line}): {tottime / total * 100:.0f} % self, "
            f"{cumtime / total * 100:.0f} % with callees, {calls:,} calls"
        )
    return lines


def run(report: Run, dataset: Dataset, *, section: str = "ledger", verify: bool = True) -> None:
    _proofs(report, dataset, section)
    if verify:
        _verify(report, dataset, section)
