"""The store contract suite runs against every engine.

``store`` is parametrised over the engines: SQLite always; PostgreSQL through
the ``postgres_url`` fixture of tests/conftest.py, which makes a fresh
database per test run (and fails, rather than skips, under CI=true when the
server is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealtrail.store import open_store
from sealtrail.store.base import EventStore

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Any]:
    """A migrated PostgreSQL store (engine-specific tests)."""
    from sealtrail.store.postgres import PostgresStore

    store = PostgresStore(postgres_url)
    store.migrate()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'contract.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_store(url)
    engine.migrate()
    try:
        yield engine
    finally:
        engine.close()
