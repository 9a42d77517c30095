"""``/v1/detections``, ``/v1/detection-settings`` and ``/v1/alerts`` through the real app."""

from __future__ import annotations

from typing import Any

from sealtrail.auth import Principal
from sealtrail.follower import Follower

from .conftest import Api, event

MANAGE = "events:write,events:read,detections:manage"


def evaluate(api: Api) -> None:
    """What the server's background runner does, in the test's own thread."""
    for tenant_id, name, consumer in api.log.detection_consumers():
        follower: Follower = api.log.follower(tenant_id, name, consumer, owner="test")
        while follower.step().result != "idle":
            pass


def failed_logins(count: int, ip: str = "203.0.113.7") -> dict[str, Any]:
    return {
        "events": [
            event(
                action="auth.login",
                outcome="failure",
                ip=ip,
                actor={"type": "user", "id": f"u{i}", "email": f"u{i}@acme.test"},
            )
            for i in range(count)
        ]
    }


def test_rules_need_the_detections_scope(api: Api) -> None:
    plain = api.client.get("/v1/detections", headers=api.headers())
    assert plain.status_code == 403
    assert "detections:manage" in plain.json()["error"]["message"]
    listed = api.client.get("/v1/detections", headers=api.headers(scopes=MANAGE))
    assert listed.status_code == 200
    names = [r["name"] for r in listed.json()["rules"]]
    assert "failed-logins-per-ip" in names and len(names) == 9


def test_a_rule_is_added_tuned_and_deleted(api: Api) -> None:
    headers = api.headers(scopes=MANAGE)
    rule = {
        "name": "wide-exports",
        "phrase": "action:audit_log.exported",
        "condition": "first time (actor)",
        "severity": "low",
    }
    created = api.client.post("/v1/detections", json=rule, headers=headers)
    assert created.status_code == 201, created.text
    assert api.client.post("/v1/detections", json=rule, headers=headers).status_code == 409
    patched = api.client.patch(
        "/v1/detections/wide-exports", json={"severity": "critical"}, headers=headers
    )
    assert patched.json()["severity"] == "critical"
    assert (
        api.client.get("/v1/detections/wide-exports", headers=headers).json()["severity"]
        == "critical"
    )
    assert api.client.delete("/v1/detections/wide-exports", headers=headers).status_code == 204
    assert api.client.get("/v1/detections/wide-exports", headers=headers).status_code == 404
    tuned = api.client.patch(
        "/v1/detections/failed-logins-per-ip",
        json={"condition": "count >= 3 within 1m by ip"},
        headers=headers,
    )
    assert tuned.json()["condition"] == "count >= 3 within 1m by ip"
    reset = api.client.delete("/v1/detections/failed-logins-per-ip", headers=headers)
    assert reset.status_code == 200
    assert reset.json()["condition"] == "count >= 10 within 5m by ip"
    bad = api.client.post(
        "/v1/detections", json={**rule, "condition": "count >= 3"}, headers=headers
    )
    assert bad.status_code == 422
    assert "not 'count >= N within D" in bad.json()["error"]["message"]
    settings = api.client.put(
        "/v1/detection-settings", json={"timezone": "America/New_York"}, headers=headers
    )
    assert settings.json() == {
        "timezone": "America/New_York",
        "business_hours": "Mon-Fri 08:00-18:00",
    }
    assert api.client.get("/v1/detection-settings", headers=headers).json() == settings.json()


def test_alerts_are_listed_acknowledged_resolved_and_recorded(api: Api) -> None:
    assert api.post(failed_logins(12)).status_code == 201
    evaluate(api)
    alerts = api.get("/v1/alerts").json()
    assert alerts["next_before"] is None
    [alert] = alerts["alerts"]
    assert alert["rule"] == "failed-logins-per-ip" and alert["status"] == "open"
    assert alert["severity"] == "high" and len(alert["event_ids"]) == 12
    assert alert["summary"].startswith(
        "Failed sign-ins from one IP address (ip 203.0.113.7): 12 events"
    )
    assert alert["search"].startswith("ip:203.0.113.7 created:>=")
    context = api.search(phrase=alert["search"])
    assert set(alert["event_ids"]) <= set(context)
    refused = api.client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=api.headers())
    assert refused.status_code == 403
    headers = api.headers(scopes=MANAGE)
    acked = api.client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=headers)
    assert acked.json()["status"] == "acknowledged"
    resolved = api.client.post(f"/v1/alerts/{alert['id']}/resolve", headers=headers)
    assert resolved.json()["status"] == "resolved"
    assert api.get("/v1/alerts", status="open").json()["alerts"] == []
    assert api.get(f"/v1/alerts/{alert['id']}").json()["status"] == "resolved"
    recorded = api.search(
        phrase="action:audit_log.alert_opened action:audit_log.alert_acknowledged"
        " action:audit_log.alert_resolved"
    )
    assert len(recorded) == 3
    evaluate(api)  # the alert events feed nothing back
    assert len(api.get("/v1/alerts").json()["alerts"]) == 1
    assert api.get("/v1/alerts", status="gone").status_code == 422
    assert api.get("/v1/alerts", colour="red").status_code == 422
    assert api.get("/v1/alerts/nope").status_code == 404


def test_a_replay_stores_nothing(api: Api) -> None:
    api.post(failed_logins(11, ip="198.51.100.1"))
    replay = api.client.post(
        "/v1/detection-tests",
        json={"rule": "failed-logins-per-ip", "since": "1d"},
        headers=api.headers(scopes=MANAGE),
    )
    assert replay.status_code == 200, replay.text
    [alert] = replay.json()["alerts"]
    assert alert["event_count"] == 11
    custom = api.client.post(
        "/v1/detection-tests",
        json={"rule": {"name": "x", "phrase": "outcome:failure", "severity": "low"}},
        headers=api.headers(scopes=MANAGE),
    )
    assert len(custom.json()["alerts"]) == 11
    assert api.log.alerts(Principal.operator("acme")) == []


def test_alert_pages_and_tuned_rules_show_every_member(api: Api) -> None:
    """The members that are null until something sets them, set (tests/documented.py checks
    each answer against /openapi.json): a page with a next one, a rule with context and
    hours."""
    api.post(failed_logins(10, ip="198.51.100.1"))
    api.post(failed_logins(10, ip="198.51.100.2"))
    evaluate(api)
    first = api.get("/v1/alerts", limit=1).json()
    assert len(first["alerts"]) == 1 and first["next_before"] == first["alerts"][0]["id"]
    second = api.get("/v1/alerts", limit=1, before=first["next_before"]).json()
    assert second["alerts"][0]["id"] != first["alerts"][0]["id"]
    headers = api.headers(scopes=MANAGE)
    tuned = api.client.patch(
        "/v1/detections/failed-logins-per-ip",
        json={"context": {"method": ["password"]}, "hours": "outside", "enabled": False},
        headers=headers,
    )
    assert tuned.status_code == 200, tuned.text
    assert tuned.json()["context"] == {"method": ["password"]}
    assert tuned.json()["hours"] == "outside" and tuned.json()["enabled"] is False
