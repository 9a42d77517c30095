"""The store contract suite runs against every engine.

``store`` is parametrised over the engines: SQLite always; PostgreSQL through
the ``postgres_url`` fixture of tests/conftest.py, which makes a fresh
database per test run (and fails, rather than skips, under CI=true when the
server is missing). The search and text contracts also run as
``postgres-standby``: the same store with ``read_url`` on a real streaming
replica (tests/standby.py), so their searches, counts and streams are read there.

On PostgreSQL every statement the store sends during a contract test is
captured (tests/store/citus.py) and must name exactly one tenant — the rule
Citus needs to route it to one shard; the test fails otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealtrail.store import open_store
from sealtrail.store.base import EventStore

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
STANDBY_ENGINES = [*ENGINES, pytest.param("postgres-standby", marks=pytest.mark.postgres)]


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
        engine = open_store(f"sqlite:///{tmp_path / 'contract.db'}")
        engine.migrate()
        try:
            yield engine
        finally:
            engine.close()
        return
    yield from _postgres(request, request.param == "postgres-standby")


def _postgres(request: pytest.FixtureRequest, on_standby: bool) -> Iterator[EventStore]:
    import psycopg

    from sealtrail.store.postgres import PostgresStore

    from . import citus

    url = request.getfixturevalue("postgres_url")
    standby = request.getfixturevalue("postgres_standby") if on_standby else None
    read_url = None if standby is None else standby.url(url)
    engine = PostgresStore(url, read_url=read_url, configure=citus.record)
    engine.migrate()
    if standby is not None:
        standby.wait_for_replay()  # the new database and its schema are there too
    with psycopg.connect(url) as connection:
        tables = set(citus.tenant_tables(connection))
    citus.RECORDED.clear()
    try:
        yield engine
    finally:
        engine.close()
    captured = list(citus.RECORDED)
    citus.RECORDED.clear()
    assert captured, "the statement capture saw nothing: is the configure hook installed?"
    found = {v for s in captured if (v := citus.statement_violation(s, tables))}
    if found:
        pytest.fail(
            "statements Citus could not route to one shard (tests/store/citus.py):\n"
            + "\n".join(sorted(found))
        )
