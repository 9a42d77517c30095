"""The stream API through the real app, delivering to a local HTTPS receiver; every JSON
response checked against the served /openapi.json (tests/documented.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.server.app import create_app
from sealtrail.settings import Settings
from tests.documented import check_every_response
from tests.keys import quiet_api_key
from tests.streams.webhook_receiver import Receiver
from tests.streams.webhook_receiver import receiver as receiver  # the fixture

T = TypeVar("T")
MANAGE = "events:write,events:read,streams:manage"


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class StreamApi:
    client: TestClient
    log: AuditLog
    receiver: Receiver
    keys: dict[str, str]

    def headers(self, tenant: str = "acme", scopes: str = MANAGE) -> dict[str, str]:
        name = f"{tenant}:{scopes}"
        if name not in self.keys:
            self.keys[name] = quiet_api_key(self.log.database_url, tenant, scopes)
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = self.headers(kwargs.pop("tenant", "acme"), kwargs.pop("scopes", MANAGE))
        return self.client.request(method, path, json=body, headers=headers, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "siem",
            "destination": {"type": "webhook", "url": self.receiver.url},
            "format": "json",
            **fields,
        }
        response = self.call("POST", "/v1/streams", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def ingest(self, count: int, start: int = 0, **fields: Any) -> None:
        events = [
            {
                "id": f"evt_{i}",
                "action": "member.invited" if i % 3 else "auth.login",
                "actor": {"type": "user", "id": f"u_{i % 7}", "email": f"u{i % 7}@example.com"},
                **fields,
            }
            for i in range(start, start + count)
        ]
        for first in range(0, len(events), 500):
            response = self.call("POST", "/v1/events", {"events": events[first : first + 500]})
            assert response.status_code == 201, response.text


@pytest.fixture
def stream_api(tmp_path: Path, receiver: Receiver) -> Iterator[StreamApi]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        stream_ca_file=str(receiver.cert.cert),
        stream_failing_after=1,
        # The receiver is on this machine: a loopback destination, refused by default.
        stream_allow_private_destinations=True,
        # No background detections: their alert events would join the streams these tests
        # count exactly (test_alerts_in_streams turns them on).
        detections=False,
        # In this process, beside the TestClient's app: no `sealtrail follow` child here.
        followers="thread",
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant("acme")
    log.create_tenant("globex")
    with TestClient(create_app(log, settings)) as client:
        check_every_response(client)
        yield StreamApi(client, log, receiver, {})
    log.close()
