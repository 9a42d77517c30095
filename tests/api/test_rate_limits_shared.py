"""Several API processes on one PostgreSQL database share each limit; on SQLite a
limit is counted per process (docs/operations.md says why that is enough)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.limits import BUNDLE_COST, RATE_WINDOW
from sealtrail.server.app import create_app
from sealtrail.settings import Settings

from .test_rate_limits import standing

KEY_READS = 3  # 30 units a window: one bundle


def _apps(url: str, tmp_path: Path) -> tuple[list[AuditLog], list[TestClient], str]:
    settings = Settings(
        database_url=url,
        signing_key_file=str(tmp_path / "signing.key"),
        rate_limit_key_reads=KEY_READS,
    )
    logs = [AuditLog.open(settings=settings) for _ in range(2)]
    logs[0].migrate()
    logs[0].create_tenant("acme")
    key = logs[0].create_api_key("acme", "events:read").plain
    clients = [TestClient(create_app(log, settings)) for log in logs]
    return logs, clients, key


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_count_against_one_limit_on_postgres(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'shared.db'}"
        if engine == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    logs, clients, key = _apps(url, tmp_path)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        first = clients[0].get("/v1/events/export?format=bundle", headers=headers)
        assert first.status_code == 200
        assert standing(first)[1]["key-reads"]["r"] == KEY_READS * RATE_WINDOW - BUNDLE_COST
        second = clients[1].get("/v1/events?limit=1", headers=headers)
        if engine == "postgres":  # the other process sees the bundle's cost
            assert second.status_code == 429, second.text
            assert standing(second)[1]["key-reads"]["r"] == 0
        else:  # a process of its own counts from zero
            assert second.status_code == 200
            assert standing(second)[1]["key-reads"]["r"] == KEY_READS * RATE_WINDOW - 1
    finally:
        for client in clients:
            client.close()
        for log in logs:
            log.close()
