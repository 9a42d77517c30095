"""Migration 0014 counts the events a database already holds per actor and UTC day.

On each engine a database is migrated to 0013 only and events are stored the
way a server of that revision stored them (no actor counts, which 0013 has no
table for), some of them by an actor whose id holds a NUL (escaped as the
PostgreSQL store stores text); then ``migrate`` runs 0014: ``actor_day_counts``
holds exactly the events grouped by tenant, actor and day, and an exact count
of one actor, now summed from it, matches the events counted here. Appends
and a prune after the migration keep it exact. The downgrade drops the table
and, on PostgreSQL, puts back the prune function of 0011, which still prunes.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from typing import Any

import psycopg
import pytest

from sealtrail.events import Actor, from_micros
from sealtrail.query import EventQuery, Field, Term, TimeRange
from sealtrail.store import open_store
from sealtrail.store.base import EventStore
from sealtrail.timeline import DAY

from .factory import T0, add_tenant, announce_prune, append, make_event
from .test_contract_event_counts import counted_as_grouped
from .test_migration_0011 import downgrade_to, migrate_to, url

__all__ = ["url"]

ACTORS = ("u_ada", "u_bob", "u_\x00nul", "system")


def _events(tenant: str, rng: random.Random, first: int, size: int) -> list[Any]:
    return [
        make_event(
            tenant,
            f"{tenant}-{i}",
            occurred_at=T0 - 3 * DAY + rng.randrange(20 * DAY),
            actor=Actor("user", rng.choice(ACTORS), "member"),
        )
        for i in range(first, first + size)
    ]


def _counted_one_by_one(store: EventStore) -> None:
    """Each actor's exact count over days that straddle the history's first and last."""
    events = [e for chunk in store.stream("acme", EventQuery()) for e in chunk]
    since, until = T0 - 2 * DAY - 7, T0 + 15 * DAY + 11  # clipped first and last days
    span = TimeRange(from_micros(since), from_micros(until))
    want = Counter(e.actor.id for e in events if since <= e.occurred_at < until)
    for actor in ACTORS:
        counted = store.count("acme", EventQuery((Term(Field.ACTOR_ID, (actor,)),), span), None)
        assert counted == want[actor], actor


def _tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as lite:
            found = lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {r[0] for r in found.fetchall()}
    with psycopg.connect(url) as connection:
        listed = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {r[0] for r in listed.fetchall()}


def test_0014_counts_the_events_already_stored(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate_to(url, "0013")
    rng = random.Random(14)
    old = open_store(url)
    try:
        with monkeypatch.context() as patched:  # a 0013 server: no actor counts to keep
            patched.setattr(type(old), "_add_actor_counts", lambda *_args: None)
            for tenant in ("acme", "globex"):
                add_tenant(old, tenant)
                events = _events(tenant, rng, 0, 300)
                for start in range(0, len(events), 70):
                    append(old, tenant, *events[start : start + 70])
    finally:
        old.close()
    assert "actor_day_counts" not in _tables(url)

    store: EventStore = open_store(url)
    try:
        assert "0014" in store.migrate()
        counted_as_grouped(store)
        _counted_one_by_one(store)

        # After the migration the store keeps them: appends, then a prune.
        append(store, "acme", *_events("acme", rng, 300, 120))
        announce_prune(store, "acme", 0, 150)
        while store.prune_events("acme", 40):
            pass
        counted_as_grouped(store)
        _counted_one_by_one(store)
        announce_prune(store, "acme", 150, 200)  # run after the downgrade
    finally:
        store.close()

    downgrade_to(url, "0013")
    assert "actor_day_counts" not in _tables(url)
    if url.startswith("sqlite"):
        return
    # 0011's prune function is back: it prunes without the table it no longer has.
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT sealtrail_prune('acme', 20)").fetchone()
        assert row == (20,)
