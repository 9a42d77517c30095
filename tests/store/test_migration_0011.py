"""Migration 0011 counts the events a database already holds into ``event_counts``.

On each engine a database is migrated to 0010 only, and events are stored the
way a server of that revision stored them (the append without the counts,
which 0010 has no table for); then ``migrate`` runs 0011 and the timeline,
now summed from ``event_counts`` for whole hours, matches the events counted
here in Python, kind by kind and failures too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from sealtrail.limits import KINDS, OUTCOMES
from sealtrail.query import EventQuery
from sealtrail.store import migrations, open_store
from sealtrail.store.base import EventStore
from sealtrail.store.sql import whole_hours
from sealtrail.timeline import DAY, HOUR, Grid

from .factory import T0, add_tenant, append, make_event
from .test_contract_event_counts import expected, same, stored


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    yield request.getfixturevalue("postgres_url")


def migrate_to(url: str, revision: str) -> None:
    _step(url, command.upgrade, revision)


def downgrade_to(url: str, revision: str) -> None:
    _step(url, command.downgrade, revision)


def _step(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    if url.startswith("sqlite"):
        engine, name = create_engine(url), "sqlite"
    else:
        from sealtrail.store.postgres_admin import sqlalchemy_url

        engine, name = create_engine(sqlalchemy_url(url), poolclass=NullPool), "postgres"
    try:
        with engine.begin() as connection:
            step(migrations._config(name, connection), revision)
    finally:
        engine.dispose()


def test_0011_counts_the_events_already_stored(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate_to(url, "0010")
    old = open_store(url)
    rng = random.Random(11)
    try:
        with monkeypatch.context() as patched:  # a 0010 server: no counts to keep
            patched.setattr(type(old), "_add_counts", lambda *_args: None)
            patched.setattr(type(old), "_add_actor_counts", lambda *_args: None)
            add_tenant(old, "acme")
            add_tenant(old, "globex")
            for tenant in ("acme", "globex"):
                events = [
                    make_event(
                        tenant,
                        f"{tenant}-{i}",
                        occurred_at=T0 + rng.randrange(5 * DAY),
                        kind=rng.choice(KINDS),
                        outcome=rng.choice(OUTCOMES),
                    )
                    for i in range(300)
                ]
                for start in range(0, len(events), 70):
                    append(old, tenant, *events[start : start + 70])
    finally:
        old.close()

    store: EventStore = open_store(url)
    try:
        assert "0011" in store.migrate()
        kept = stored(store, "acme")
        assert len(kept) == 300
        for since, until, buckets in (
            (T0, T0 + 5 * DAY, 5),
            (T0 - 7, T0 + 3 * DAY + HOUR + 11, 40),
            (T0 + 2 * HOUR, T0 + 4 * HOUR, 2),
        ):
            grid = Grid.over(since, until, buckets)
            assert whole_hours(grid) is not None
            answer = store.histogram("acme", EventQuery(), grid)
            want: Any = expected(kept, EventQuery(), grid)
            assert same(answer, want), grid
        assert sum(c.count for c in store.histogram("acme", EventQuery(), grid)) > 0
    finally:
        store.close()
