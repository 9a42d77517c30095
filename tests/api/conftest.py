"""The HTTP API through the real app, on a fresh SQLite database per test; every JSON
response checked against the served /openapi.json (tests/documented.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.server.app import create_app
from sealtrail.settings import Settings
from tests.documented import check_every_response
from tests.keys import quiet_api_key


@dataclass
class Api:
    client: TestClient
    log: AuditLog
    keys: dict[str, str]

    def key(self, tenant: str = "acme", scopes: str = "events:write,events:read") -> str:
        name = f"{tenant}:{scopes}"
        if name not in self.keys:
            self.keys[name] = quiet_api_key(self.log.database_url, tenant, scopes)
        return self.keys[name]

    def headers(
        self, tenant: str = "acme", scopes: str = "events:write,events:read"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(tenant, scopes)}"}

    def post(self, body: Any, tenant: str = "acme", **kwargs: Any) -> Any:
        return self.client.post("/v1/events", json=body, headers=self.headers(tenant), **kwargs)

    def get(self, path: str, tenant: str = "acme", **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(tenant))

    def search(self, tenant: str = "acme", **params: Any) -> list[str]:
        response = self.get("/v1/events", tenant, limit=200, **params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["events"]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        max_body_bytes=64 * 1024,
        # No background detections: their alert events would join the logs these tests
        # read exactly (tests/detections runs them).
        detections=False,
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant("acme")
    log.create_tenant("globex")
    with TestClient(create_app(log, settings)) as client:
        check_every_response(client)
        yield Api(client, log, {})
    log.close()


def event(ident: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "member.invited",
        "actor": {"type": "user", "id": "u_ann", "name": "Ann", "email": "ann@example.com"},
    }
    if ident is not None:
        body["id"] = ident
    body.update(fields)
    return body
