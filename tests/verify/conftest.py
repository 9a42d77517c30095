"""A 1,000-event, 3-tenant log with signed checkpoints, for tamper tests."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import validate_batch
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.store.base import EventStore

TENANTS = ("acme", "globex", "initech")


@dataclass
class Fixture:
    log: AuditLog
    path: str
    vkey: str
    store: EventStore  # the attacker's own connection to the database file

    def sql(self, *statements: str, params: tuple[object, ...] = ()) -> None:
        """Tamper with the file directly, as an attacker with disk access would."""
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            for name in ("events", "tree_nodes", "checkpoints"):
                for verb in ("update", "delete"):
                    connection.execute(f"DROP TRIGGER IF EXISTS {name}_refuse_{verb}")
            for statement in statements:
                connection.execute(statement, params)
        finally:
            connection.close()


def _events(rng: random.Random, count: int) -> list[dict[str, object]]:
    actions = [
        "member.invited",
        "auth.login",
        "app.published",
        "subscription.changed",
        "api_key.create",
    ]
    out: list[dict[str, object]] = []
    for i in range(count):
        body: dict[str, object] = {
            "action": rng.choice(actions),
            "actor": {
                "type": "user",
                "id": f"u{rng.randrange(20)}",
                "name": f"User {i}",
                "email": f"user{i}@example.com",
            },
            "occurred_at": f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            "outcome": rng.choice(["success", "failure"]),
        }
        if i % 3 == 0:
            body["target"] = {"type": "user", "id": f"t{i}", "email": f"t{i}@example.com"}
        if i % 4 == 0:
            body["resource"] = {"type": "app", "id": f"app_{i}", "name": "App"}
            body["context"] = {"previous": {"v": i}, "new": {"v": i + 1}}
        if i % 5 == 0:
            body["ip"] = f"10.0.{i % 256}.{i % 200}"
            body["user_agent"] = "Mozilla/5.0"
        if i % 2 == 0:
            body["account_id"] = f"acc_{i % 3}"
            body["request_id"] = f"req-{i}"
        out.append(body)
    return out


def _build(directory: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{directory / 'log.db'}",
        signing_key_file=str(directory / "k.key"),
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    rng = random.Random(1000)
    for index, tenant in enumerate(TENANTS):
        log.create_tenant(tenant)
        events = _events(rng, (400, 350, 250)[index])
        for start in range(0, len(events), 100):
            log.ingest(Principal.operator(tenant), {"events": events[start : start + 100]})
            if start == 100:
                log.checkpoint(Principal.operator(tenant))
        log.checkpoint(Principal.operator(tenant))
    (directory / "log.vkey").write_text(log.verifier_key + "\n")
    log.close()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signed log per test process; each test tampers with its own copy."""
    directory = tmp_path_factory.mktemp("template")
    _build(directory)
    return directory


@pytest.fixture
def signed_log(template: Path, tmp_path: Path) -> Iterator[Fixture]:
    """A 1,000-event, 3-tenant log with checkpoints at 200 and at the end of each tenant."""
    for name in ("log.db", "k.key", "log.vkey"):
        shutil.copy2(template / name, tmp_path / name)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'log.db'}",
        signing_key_file=str(tmp_path / "k.key"),
    )
    log = AuditLog.open(settings=settings)
    store = open_store(settings.database_url)
    try:
        yield Fixture(log, str(tmp_path / "log.db"), log.verifier_key, store)
    finally:
        store.close()
        log.close()


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``sealtrail ARGS`` through its entry point, as an operator or auditor runs it."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")
    }
    return subprocess.run(
        [sys.executable, "-m", "sealtrail", *args],
        cwd=cwd,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def failed_seqs(output: str) -> list[set[int] | None]:
    """The seqs each FAIL line names (None for a line that names none)."""
    out: list[set[int] | None] = []
    for line in output.splitlines():
        if not line.startswith("FAIL "):
            continue
        where = line.removeprefix("FAIL ").split(":", 1)[0].split()
        if len(where) < 3 or where[1] != "seq":
            out.append(None)
            continue
        first, _, last = where[2].partition("..")
        out.append(set(range(int(first), int(last or first) + 1)))
    return out


__all__ = ["TENANTS", "Fixture", "failed_seqs", "run_cli", "validate_batch"]
