"""Fixtures every test package shares: databases, paths to shared vectors."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "SEALTRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _postgres_reason() -> str | None:
    """Why the PostgreSQL suite cannot run here, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (the postgres extra)"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {str(exc).strip().splitlines()[0]}"


def pytest_report_header(config: pytest.Config) -> str:
    reason = _postgres_reason()
    if reason is None:
        return f"PostgreSQL suite: running against {POSTGRES_ADMIN_URL}"
    return f"PostgreSQL suite: SKIPPED — {reason}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL; skip (fail under CI) without one."""
    reason = _postgres_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL suite, but {reason}")
        pytest.skip(f"PostgreSQL suite skipped: {reason}")
    return POSTGRES_ADMIN_URL


@contextlib.contextmanager
def fresh_postgres_database(server: str) -> Iterator[str]:
    """The URL of a new, empty database on ``server``, dropped afterwards."""
    import psycopg

    name = f"sealtrail_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    with fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sealtrail.db'}"


@pytest.fixture(scope="session")
def postgres_standby(postgres_server: str) -> Iterator[Any]:
    """A streaming replica of the test server on another local port (tests/standby.py).

    Fails, never skips, once PostgreSQL itself is there: a server that refuses to be
    copied is a configuration ``.ci/run`` makes (replication from 127.0.0.1).
    """
    from tests.standby import Standby

    try:
        standby = Standby.start(postgres_server)
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"could not start a hot standby of {postgres_server}: {exc} (see .ci/run)")
    try:
        yield standby
    finally:
        standby.stop()


@pytest.fixture
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The rate limiter's clock, stopped at the start of a window (tests/rate_clock.py)."""
    import limits.storage.memory

    from sealtrail import ratelimit
    from sealtrail.store import rate_counters

    from .rate_clock import Clock

    clock = Clock()
    for module in (ratelimit, rate_counters, limits.storage.memory):
        monkeypatch.setattr(module, "time", clock)
    return clock
