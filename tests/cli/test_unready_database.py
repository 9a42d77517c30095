"""A database that is not there, not migrated or not reachable: one line, exit 1, nothing made."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.errors import DatabaseUnavailable
from tests.cli.conftest import Cli

NOT_MIGRATED = "error: database not migrated — run 'sealtrail migrate'\n"


def _one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr
    return stderr


@pytest.mark.parametrize(
    "command",
    [
        ("search", "--tenant", "demo"),
        ("tenants", "list"),
        ("keys", "list"),
        ("checkpoint",),
        ("export", "--tenant", "demo", "--format", "csv"),
        ("follow",),
    ],
)
def test_a_mistyped_sqlite_path_is_reported_and_nothing_is_created(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    runner = Cli(tmp_path, f"sqlite:///{missing}")
    assert _one_line_error(runner.run(*command, check=False)) == NOT_MIGRATED
    assert not (tmp_path / "no").exists()


def test_a_fresh_sqlite_file_is_not_migrated(tmp_path: Path) -> None:
    runner = Cli(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}")
    assert _one_line_error(runner.run("tenants", "list", check=False)) == NOT_MIGRATED
    assert not (tmp_path / "fresh.db").exists()
    runner.run("migrate")
    assert runner.run("tenants", "list").returncode == 0


def test_serve_without_migrating_refuses_an_empty_database(tmp_path: Path) -> None:
    runner = Cli(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}")
    assert _one_line_error(runner.run("serve", "--no-migrate", check=False)) == NOT_MIGRATED


@pytest.mark.postgres
def test_an_empty_postgres_database_is_not_migrated(tmp_path: Path, postgres_url: str) -> None:
    runner = Cli(tmp_path, postgres_url)
    assert _one_line_error(runner.run("tenants", "list", check=False)) == NOT_MIGRATED
    assert _one_line_error(runner.run("search", "--tenant", "x", check=False)) == NOT_MIGRATED


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [("tenants", "list"), ("migrate",), ("serve",)])
def test_an_unreachable_postgres_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    runner = Cli(tmp_path, f"postgresql://postgres@127.0.0.1:{_closed_port()}/x")
    stderr = _one_line_error(runner.run(*command, check=False))
    assert stderr.startswith("error: cannot connect to PostgreSQL: ")
    assert "Connection refused" in stderr


def test_an_unreachable_postgres_is_reported_at_once_not_retried() -> None:
    """In-process, so the interpreter's start-up on a busy machine is not timed."""
    log = AuditLog.open(f"postgresql://postgres@127.0.0.1:{_closed_port()}/x")
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="Connection refused"):
        log.tenants()
    assert time.monotonic() - started < 5  # the pool retried for 30 s before
    log.close()
