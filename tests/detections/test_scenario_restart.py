"""Done-when of issue 18: a generated history with planted incidents and benign
look-alikes opens exactly the expected alerts — none missed, none on the look-alikes,
none twice — through a real ``sealtrail serve`` SIGKILLed and restarted in the middle
(mid-incident: half of one burst before, half after)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sealtrail.store import open_store

from ..client.live_server import LiveServer, missing_cli, wait_until
from .scenario import build, split_point

pytestmark = pytest.mark.skipif(missing_cli() is not None, reason=str(missing_cli()))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path, detections="true")
    try:
        yield server
    finally:
        server.kill()


def _key(live: LiveServer) -> str:
    live.cli("migrate")
    live.cli("tenants", "create", "acme", "--json")
    created = json.loads(
        live.cli(
            "keys",
            "create",
            "--tenant",
            "acme",
            "--json",
            "--scopes",
            "events:write,events:read,detections:manage",
        )
    )
    key: str = created["key"]
    return key


def _post(http: httpx.Client, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 100):
        response = http.post("/v1/events", json={"events": events[start : start + 100]})
        assert response.status_code in (200, 201), response.text


def _caught_up(live: LiveServer) -> bool:
    store = open_store(live.database)
    try:
        size = store.tree_head("acme").size
        done = store.detection_progress("acme", "detection:acme")
        return size > 0 and done == size and not store.unpublished_alerts("acme")
    finally:
        store.close()


def test_exactly_the_planted_incidents_alert_across_a_restart(live: LiveServer) -> None:
    history = build()
    middle = split_point(history)
    key = _key(live)
    live.start()
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        _post(http, history.events[:middle])
        wait_until(lambda: _caught_up(live), 60, "the detections to evaluate the first half")
        live.kill()
        live.start()
        _post(http, history.events[middle:])
        wait_until(lambda: _caught_up(live), 60, "the detections to evaluate the rest")
        alerts = http.get("/v1/alerts", params={"limit": 200}).json()["alerts"]
        opened = http.get(
            "/v1/events", params={"phrase": "action:audit_log.alert_opened", "limit": 200}
        ).json()["events"]

    found = sorted(
        (a["rule"], json.dumps(a["group"], sort_keys=True), tuple(a["event_ids"])) for a in alerts
    )
    expected = sorted(
        (e.rule, json.dumps(e.group, sort_keys=True), e.event_ids) for e in history.expected
    )
    assert found == expected
    for alert in alerts:
        assert alert["status"] == "open"
        assert alert["event_count"] == len(alert["event_ids"])
        assert set(alert) >= {
            "id",
            "rule",
            "severity",
            "opened_at",
            "status",
            "event_ids",
            "summary",
        }
    # Each alert is in the tenant's own log once (streams carry it); the client's own
    # audit_log.alert_opened event is there too, and fed nothing back.
    recorded = sorted(e["id"] for e in opened if e["actor"]["id"] == "sealtrail-detections")
    assert recorded == sorted(f"alert-{a['id']}" for a in alerts)
