"""The follower runs on both engines: its cursor and lease are rows in the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sealtrail.store import open_store
from sealtrail.store.base import EventStore

from ..store.conftest import ENGINES
from ..store.factory import add_tenant, append, make_event


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'follower.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[EventStore]:
    engine = open_store(store_url)
    engine.migrate()
    add_tenant(engine, "acme")
    try:
        yield engine
    finally:
        engine.close()


def add_events(store: EventStore, count: int, prefix: str = "e") -> None:
    start = store.tree_head("acme").size
    for first in range(0, count, 1000):
        batch = [
            make_event("acme", f"{prefix}{start + i}")
            for i in range(first, min(count, first + 1000))
        ]
        append(store, "acme", *batch)
