"""An opened alert is an event of the tenant's log (``audit_log.alert_opened``), so every
stream delivers it to the SIEM, signed like the rest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.server.app import create_app
from tests.streams.webhook_receiver import Receiver

from .conftest import StreamApi, wait_for


@pytest.fixture
def detecting(stream_api: StreamApi, tmp_path: Path) -> Iterator[StreamApi]:
    """The same database and receiver, served by an app that runs the detections."""
    settings = replace(stream_api.log.settings, detections=True)
    log = AuditLog.open(settings=settings)
    with TestClient(create_app(log, settings)) as client:
        yield StreamApi(client, log, stream_api.receiver, stream_api.keys)
    log.close()


def _events(receiver: Receiver) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for request in list(receiver.received):
        body = json.loads(request.body)
        found += body.get("events", []) if isinstance(body, dict) else []
    return found


def test_an_opened_alert_reaches_the_stream(detecting: StreamApi) -> None:
    detecting.create(format="json")
    failures = [
        {
            "action": "auth.login",
            "outcome": "failure",
            "ip": "203.0.113.7",
            "actor": {"type": "user", "id": f"u{i}"},
        }
        for i in range(10)
    ]
    response = detecting.call("POST", "/v1/events", {"events": failures})
    assert response.status_code == 201, response.text

    def opened() -> list[dict[str, Any]]:
        return [e for e in _events(detecting.receiver) if e["action"] == "audit_log.alert_opened"]

    [alert_event] = wait_for(opened, "the alert in the stream")
    assert alert_event["actor"]["id"] == "sealtrail-detections"
    assert alert_event["context"]["rule"] == "failed-logins-per-ip"
    assert len(alert_event["context"]["event_ids"]) == 10
