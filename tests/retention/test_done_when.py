"""Done when (issue 13): a 30-day policy on a 365-day demo tenant, on each engine.

Pruning leaves every remaining event provable — its leaf rebuilt and its
inclusion proof checked by ``tests/privacy/independent`` (rfc8785 and a few
lines of RFC 6962, no Sealtrail code) against the checkpoints signed before
and after — and ``verify --database`` clean, reporting the pruned range. A
legal hold stops it. On PostgreSQL, where events are partitioned by month for
every tenant, whole months are dropped, except a month another tenant (whose
log is kept forever) still has an event in.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.demo import seed_demo
from sealtrail.demo.cast import TENANT_ID
from sealtrail.events import from_micros, now_micros
from sealtrail.ledger import merkle
from sealtrail.query import EventQuery, Field, Term, TimeRange
from sealtrail.retention import DAY_US, RetentionPolicy
from sealtrail.settings import Settings
from sealtrail.timeline import HOUR

from ..privacy import independent
from .conftest import event, write

EVENTS = 6000
NOW = now_micros()
OPERATOR = Principal.operator(TENANT_ID)


def _months_back(count: int) -> list[date]:
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1
    return [date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(count, -1, -1)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    url = (
        f"sqlite:///{tmp_path / 'demo.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    settings = Settings(database_url=url, signing_key_file=str(tmp_path / "signing.key"))
    log = AuditLog.open(settings=settings)
    log.migrate()
    if request.param == "postgres":  # a month partition for each month of the year
        with psycopg.connect(url, autocommit=True) as owner:
            for month in _months_back(13):
                owner.execute("SELECT sealtrail_add_partition(%s, true)", (month,))
    seed_demo(log, settings, events=EVENTS, days=365, now=NOW)
    # Another tenant keeps everything, and has one event 200 days old.
    log.create_tenant("keeper")
    write(log, [event(200)], tenant="keeper")
    try:
        yield log
    finally:
        log.close()


def _events(log: AuditLog) -> list[Any]:
    found = [e for chunk in log.stream(OPERATOR, EventQuery(order="asc")) for e in chunk]
    return sorted(found, key=lambda e: e.seq)


def _check_independently(log: AuditLog, shown: dict[str, Any], note: str) -> None:
    size, root = independent.note_root(note)
    proof = log.inclusion_proof(OPERATOR, shown["seq"], size)
    leaf = independent.leaf_hash(shown)
    assert base64.b64encode(leaf).decode() == proof["leaf_hash"], shown["id"]
    path = [base64.b64decode(p) for p in proof["proof"]]
    assert independent.root_from_inclusion(shown["seq"], size, leaf, path) == root


def test_a_30_day_policy_leaves_every_remaining_event_provable(demo: AuditLog) -> None:
    log = demo
    before = log.checkpoint(OPERATOR)
    assert before.tree_size >= EVENTS  # the history, and the records of the demo key
    log.set_retention(OPERATOR, RetentionPolicy(30))

    hold = log.add_hold(OPERATOR, "litigation hold LH-7")
    held = log.prune()
    assert held.events == 0 and _events(log)[0].seq == 0  # a legal hold stops it
    assert held.partitions_dropped == []
    log.release_hold(OPERATOR, hold.id)

    report = log.prune()
    pruned = next(t for t in report.tenants if t.tenant_id == TENANT_ID)
    keeper = next(t for t in report.tenants if t.tenant_id == "keeper")
    assert keeper.events == 0 and log.tree_size("keeper") == 1
    remaining = _events(log)
    assert pruned.first_seq == 0 and remaining[0].seq == pruned.below
    assert 0.85 * EVENTS < pruned.below < 0.95 * EVENTS  # about 335 of the 365 days
    assert all(e.occurred_at >= NOW - 31 * DAY_US for e in remaining)
    if log.database_url.startswith("postgresql"):
        # Whole past months went at once; the month of keeper's event stayed.
        keeper_month = datetime.fromtimestamp((NOW - 200 * DAY_US) / 1e6, UTC)
        assert len(report.partitions_dropped) >= 8
        assert f"events_{keeper_month:%Y_%m}" not in report.partitions_dropped
        with psycopg.connect(log.database_url) as owner:
            rows = owner.execute("SELECT count(*) FROM events WHERE tenant_id = 'demo'")
            assert rows.fetchone() == (len(remaining),)

    # The timeline forgets them too: event_counts lost every pruned event, through the
    # batches and (on PostgreSQL) the dropped partitions alike.
    year = TimeRange(from_micros(NOW - 400 * DAY_US), from_micros(NOW + DAY_US))
    timeline = log.histogram(OPERATOR, EventQuery(time=year), 60)
    assert timeline.grid.width % HOUR == 0  # whole hours: summed from event_counts
    by_kind = Counter(e.kind for e in remaining)
    assert timeline.total == len(remaining)
    assert {k: sum(b.by_kind[k] for b in timeline.buckets) for k in by_kind} == by_kind
    assert sum(b.failures for b in timeline.buckets) == sum(
        e.outcome == "failure" for e in remaining
    )
    # And each actor's day counts (actor_day_counts), which an exact count of one actor
    # sums, lost them the same ways.
    for actor, n in Counter(e.actor.id for e in remaining).items():
        one = EventQuery((Term(Field.ACTOR_ID, (actor,)),), year)
        assert log._store.count(TENANT_ID, one, cap=None) == n, actor

    after = log.checkpoint(OPERATOR)
    for found in remaining:
        shown = log.get_event(OPERATOR, found.id).to_dict(include_salts=True)
        _check_independently(log, shown, after.note)
        if found.seq < before.tree_size:
            _check_independently(log, shown, before.note)
    consistency = log.consistency_proof(OPERATOR, before.tree_size, after.tree_size)
    merkle.verify_consistency(
        before.tree_size,
        after.tree_size,
        [base64.b64decode(h) for h in consistency["proof"]],
        before.root_hash,
        after.root_hash,
    )
    verified = log.verify_database(log.verifier_key)
    assert verified.ok, verified.problems[:5]
    assert [s.message.split(" on ")[0] for s in verified.pruned] == [
        f"events 0..{pruned.below - 1} pruned"
    ]
