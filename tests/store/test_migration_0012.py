"""Migration 0012 sums the hours ``event_counts`` already holds into ``event_day_counts``.

On each engine a database is migrated to 0011 only and events are appended
(0011's append keeps the hours); then ``migrate`` runs 0012: the day rollup
holds exactly the events grouped by UTC day, and the year's timeline, now
summed from it, matches the events counted here. Appends and a prune after
the migration keep both tables exact through its triggers.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from sealtrail.limits import KINDS, OUTCOMES
from sealtrail.query import EventQuery
from sealtrail.store import open_store
from sealtrail.store.base import EventStore
from sealtrail.store.sql import whole_days, whole_hours
from sealtrail.timeline import DAY, HOUR, Grid

from .factory import T0, add_tenant, announce_prune, append, make_event
from .test_contract_event_counts import counted_as_grouped, expected, same, stored
from .test_migration_0011 import migrate_to, url

__all__ = ["url"]


def _events(tenant: str, rng: random.Random, first: int, size: int) -> list[Any]:
    return [
        make_event(
            tenant,
            f"{tenant}-{i}",
            occurred_at=T0 - 3 * DAY + rng.randrange(40 * DAY),
            kind=rng.choice(KINDS),
            outcome=rng.choice(OUTCOMES),
        )
        for i in range(first, first + size)
    ]


def test_0012_sums_the_hours_already_counted(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate_to(url, "0011")
    rng = random.Random(12)
    old = open_store(url)
    try:
        with monkeypatch.context() as patched:  # a 0011 server: no actor counts to keep
            patched.setattr(type(old), "_add_actor_counts", lambda *_args: None)
            for tenant in ("acme", "globex"):
                add_tenant(old, tenant)
                events = _events(tenant, rng, 0, 400)
                for start in range(0, len(events), 70):
                    append(old, tenant, *events[start : start + 70])
    finally:
        old.close()

    store: EventStore = open_store(url)
    try:
        assert "0012" in store.migrate()
        counted_as_grouped(store)
        grid = Grid.over(T0 - 5 * DAY + 7, T0 + 40 * DAY - HOUR - 3, 20)
        hours = whole_hours(grid)
        assert hours is not None and whole_days(grid, hours) is not None
        assert same(
            store.histogram("acme", EventQuery(), grid),
            expected(stored(store, "acme"), EventQuery(), grid),
        )

        # After the migration the triggers keep the days: appends, then a prune.
        append(store, "acme", *_events("acme", rng, 400, 150))
        announce_prune(store, "acme", 0, 120)
        while store.prune_events("acme", 50):
            pass
        counted_as_grouped(store)
        assert same(
            store.histogram("acme", EventQuery(), grid),
            expected(stored(store, "acme"), EventQuery(), grid),
        )
    finally:
        store.close()
