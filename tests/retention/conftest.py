"""An AuditLog on each engine, and a way to write events at chosen times."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import format_timestamp, now_micros
from sealtrail.settings import Settings

DAY = 86_400_000_000
NOW = now_micros()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    url = (
        f"sqlite:///{tmp_path / 'retention.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    settings = Settings(database_url=url, signing_key_file=str(tmp_path / "signing.key"))
    audit_log = AuditLog.open(settings=settings)
    audit_log.migrate()
    audit_log.create_tenant("acme")
    try:
        yield audit_log
    finally:
        audit_log.close()


def event(days_ago: float, action: str = "member.invited", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action,
        "occurred_at": format_timestamp(int(NOW - days_ago * DAY)),
        "actor": {"type": "user", "id": "u_ada", "name": "Ada", "email": "ada@acme.example"},
    }
    body.update(fields)
    return body


def write(log: AuditLog, events: Sequence[dict[str, Any]], tenant: str = "acme") -> None:
    operator = Principal.operator(tenant)
    for start in range(0, len(events), 1000):
        log.ingest(operator, {"events": list(events[start : start + 1000])})
