"""A 1,000-event, 3-tenant log with signed checkpoints, for tamper tests."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import validate_batch
from sealtrail.settings import Settings

TENANTS = ("acme", "globex", "initech")


@dataclass
class Fixture:
    log: AuditLog
    path: str
    vkey: str

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


@pytest.fixture
def signed_log(tmp_path: Path) -> Iterator[Fixture]:
    path = tmp_path / "log.db"
    settings = Settings(database_url=f"sqlite:///{path}", signing_key_file=str(tmp_path / "k.key"))
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
    try:
        yield Fixture(log, str(path), log.signer().vkey)
    finally:
        log.close()


__all__ = ["TENANTS", "Fixture", "validate_batch"]
