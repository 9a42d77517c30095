"""Rate limits through the real app: who is counted, what a request costs, and what the
answer says (429, Retry-After, the RateLimit and RateLimit-Policy fields)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from sealtrail.api import ROUTERS
from sealtrail.audit_log import TenantRateLimits
from sealtrail.errors import RateLimited
from sealtrail.limits import BUNDLE_COST, EXPORT_COST, MAX_BATCH, RATE_WINDOW
from sealtrail.query import EventQuery
from sealtrail.settings import Settings

from ..rate_clock import Clock
from .conftest import Api, event

KEY_READS, TENANT_READS, KEY_WRITES, TENANT_WRITES = 3, 5, 100, 150
FIELD = re.compile(r'"(?P<name>[a-z-]+)"(?P<params>(;[a-z-]+=("[^"]*"|\d+))*)')
ITEM = re.compile(r';([a-z-]+)=("[^"]*"|\d+)')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        rate_limit_key_reads=KEY_READS,
        rate_limit_tenant_reads=TENANT_READS,
        rate_limit_key_writes=KEY_WRITES,
        rate_limit_tenant_writes=TENANT_WRITES,
    )


def parse(field: str) -> dict[str, dict[str, str | int]]:
    """A RateLimit or RateLimit-Policy value (a Structured Field list) → name → parameters."""
    out: dict[str, dict[str, str | int]] = {}
    for item in field.split(", "):
        found = FIELD.fullmatch(item)
        assert found, f"not a quota item: {item!r} in {field!r}"
        out[found["name"]] = {
            k: v.strip('"') if v.startswith('"') else int(v)
            for k, v in ITEM.findall(found["params"])
        }
    return out


def standing(response: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return parse(response.headers["RateLimit-Policy"]), parse(response.headers["RateLimit"])


def test_a_write_is_counted_in_events_and_says_so_on_success(api: Api) -> None:
    response = api.post({"events": [event(f"e{i}") for i in range(10)]})
    assert response.status_code == 201
    policy, limit = standing(response)
    window = RATE_WINDOW
    assert policy == {
        "key-writes": {"q": KEY_WRITES * window, "w": window, "sealtrail-unit": "events"},
        "tenant-writes": {"q": TENANT_WRITES * window, "w": window, "sealtrail-unit": "events"},
    }
    assert limit["key-writes"]["r"] == KEY_WRITES * window - 10
    assert limit["tenant-writes"]["r"] == TENANT_WRITES * window - 10
    assert 0 <= limit["key-writes"]["t"] <= window


def test_a_full_batch_fits_and_the_next_event_is_refused_with_retry_after(api: Api) -> None:
    full = {"events": [event(f"e{i}") for i in range(MAX_BATCH)]}
    assert api.post(full).status_code == 201  # the lowest write limit still takes a full batch
    refused = api.post(event("one-more"))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert set(refused.json()) == {"error"} and "key-writes" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    _, limit = standing(refused)
    assert limit["key-writes"]["r"] == 0
    # The batch's own events (a built-in rule may add its alert's event meanwhile: on a
    # weekend every invitation is an administrative change outside business hours).
    invited = api.search(action="member.invited")
    assert invited == [f"e{i}" for i in reversed(range(MAX_BATCH))][:200]
    assert "one-more" not in api.search(q="one-more")  # nothing of a refused request is done


def test_retry_after_and_the_refusing_limits_reset_agree(api: Api, rate_clock: Clock) -> None:
    """Retry-After is when the refused request fits; a limit it does not fit says the
    same in its ``t`` (never a reset later or sooner than Retry-After), a limit with
    room says when its window ends."""
    batch = {"events": [event(f"e{i}") for i in range(MAX_BATCH)]}
    assert api.post(batch).status_code == 201
    # Half into the next window the full one weighs half: 600 more events wait for the
    # key's window to weigh 400, one second; the tenant's has room for them now.
    rate_clock.now += RATE_WINDOW + 5
    more = {"events": [event(f"m{i}") for i in range(600)]}
    refused = api.post(more)
    assert refused.status_code == 429
    _, limit = standing(refused)
    short = {name: q for name, q in limit.items() if int(q["r"]) < 600}
    assert set(short) == {"key-writes"}
    assert int(refused.headers["Retry-After"]) == short["key-writes"]["t"] == 1
    assert limit["tenant-writes"]["t"] == 5  # its window ends then
    rate_clock.now += 1
    assert api.post(more).status_code == 201


def test_reads_cost_one_an_export_more_and_a_bundle_most(api: Api) -> None:
    quota = KEY_READS * RATE_WINDOW
    searched = api.get("/v1/events")
    assert standing(searched)[1]["key-reads"]["r"] == quota - 1
    exported = api.get("/v1/events/export", format="csv")
    assert exported.status_code == 200
    assert standing(exported)[1]["key-reads"]["r"] == quota - 1 - EXPORT_COST
    bundle = api.get("/v1/events/export", format="bundle")
    assert bundle.status_code == 429  # 30 units: more than what is left
    assert bundle.json()["error"]["code"] == "rate_limited"
    assert standing(bundle)[0]["key-reads"] == {"q": quota, "w": RATE_WINDOW}
    assert quota - 1 - EXPORT_COST < BUNDLE_COST


def test_each_key_has_its_own_limit_within_the_tenants(api: Api) -> None:
    first = api.headers("acme", "events:read")
    second = api.headers("acme", "events:read,events:write")
    for _ in range(KEY_READS * RATE_WINDOW // EXPORT_COST):
        assert api.client.get("/v1/events/export", headers=first).status_code == 200
    over = api.client.get("/v1/events/export", headers=first)
    assert over.status_code == 429 and "key-reads" in over.json()["error"]["message"]
    # Another key of the tenant still has its own, until the tenant's is spent too.
    spent = KEY_READS * RATE_WINDOW
    left = TENANT_READS * RATE_WINDOW - spent
    for _ in range(left // EXPORT_COST):
        assert api.client.get("/v1/events/export", headers=second).status_code == 200
    tenant_over = api.client.get("/v1/events", headers=second)
    assert tenant_over.status_code == 429
    assert "tenant-reads" in tenant_over.json()["error"]["message"]
    assert standing(tenant_over)[1]["tenant-reads"]["r"] == 0
    # Writes are counted apart from reads, and another tenant apart from this one.
    assert api.client.post("/v1/events", json=event(), headers=second).status_code == 201
    other = api.get("/v1/events", "globex")
    assert other.status_code == 200
    assert standing(other)[1]["tenant-reads"]["r"] == TENANT_READS * RATE_WINDOW - 1


def test_the_operators_limits_for_a_tenant_apply(api: Api) -> None:
    api.log.set_rate_limits("acme", TenantRateLimits(key_reads=7))
    policy, _ = standing(api.get("/v1/events"))
    assert policy["key-reads"]["q"] == 7 * RATE_WINDOW
    assert policy["tenant-reads"]["q"] == TENANT_READS * RATE_WINDOW  # the default stays
    changed = api.get("/v1/events", action="audit_log.rate_limits_changed").json()["events"]
    assert [e["context"]["after"]["key_reads"] for e in changed] == [7]


def test_requests_that_are_not_charged_carry_no_fields(api: Api) -> None:
    for response in (
        api.client.get("/healthz"),
        api.client.get("/v1/events"),  # no credential: 401
        api.client.get("/v1/events", headers={"Authorization": "Bearer st_nope"}),
    ):
        assert "RateLimit" not in response.headers
        assert "RateLimit-Policy" not in response.headers


def _route_requests(api: Api) -> dict[tuple[str, str], Any]:
    """One request per API route, made with an API key of every scope."""
    scopes = "events:write,events:read,viewer:mint,events:erase,streams:manage,detections:manage"
    headers = api.headers("acme", scopes)
    client = api.client
    stored = client.post("/v1/events", json=event("e1"), headers=headers)
    erasure = client.post(
        "/v1/erasures", json={"subject": {"email": "x@example.com"}, "reason": "r"}, headers=headers
    )
    erasure_id = erasure.json()["erasure_id"]
    kind = {"name": "report.made", "category": "reports", "kind": "create", "description": "d"}
    return {
        ("POST", "/v1/events"): stored,
        ("GET", "/v1/events"): client.get("/v1/events", headers=headers),
        ("GET", "/v1/events/export"): client.get("/v1/events/export", headers=headers),
        ("GET", "/v1/events/histogram"): client.get("/v1/events/histogram", headers=headers),
        ("GET", "/v1/events/{event_id}"): client.get("/v1/events/e1", headers=headers),
        ("GET", "/v1/events/{event_id}/proof"): client.get("/v1/events/e1/proof", headers=headers),
        ("GET", "/v1/checkpoint"): client.get("/v1/checkpoint", headers=headers),
        ("GET", "/v1/proofs/inclusion"): client.get(
            "/v1/proofs/inclusion", params={"seq": 0}, headers=headers
        ),
        ("GET", "/v1/proofs/consistency"): client.get(
            "/v1/proofs/consistency", params={"first": 0}, headers=headers
        ),
        ("GET", "/v1/catalog"): client.get("/v1/catalog", headers=headers),
        ("POST", "/v1/catalog"): client.post("/v1/catalog", json=kind, headers=headers),
        ("POST", "/v1/viewer-sessions"): client.post(
            "/v1/viewer-sessions",
            json={"user": {"id": "u1", "email": "a@example.com"}, "role": "admin"},
            headers=headers,
        ),
        ("POST", "/v1/erasures"): erasure,
        ("GET", "/v1/erasures/{erasure_id}"): client.get(
            f"/v1/erasures/{erasure_id}", headers=headers
        ),
        ("GET", "/api/organization/rbac/members/audit-log"): client.get(
            "/api/organization/rbac/members/audit-log", headers=headers
        ),
        ("GET", "/v1/saved-searches"): client.get("/v1/saved-searches", headers=headers),
        ("POST", "/v1/saved-searches"): client.post(
            "/v1/saved-searches", json={"name": "n", "phrase": "action:a.*"}, headers=headers
        ),
        ("DELETE", "/v1/saved-searches/{search_id}"): client.delete(
            "/v1/saved-searches/ss_missing", headers=headers
        ),
        ("POST", "/v1/streams"): client.post(
            "/v1/streams",
            json={
                "name": "s",
                "destination": {"type": "syslog", "host": "127.0.0.1", "port": 6514, "tls": True},
                "format": "json",
            },
            headers=headers,
        ),
        ("GET", "/v1/streams"): client.get("/v1/streams", headers=headers),
        ("GET", "/v1/detections"): client.get("/v1/detections", headers=headers),
        ("POST", "/v1/detections"): client.post("/v1/detections", json={}, headers=headers),
        ("POST", "/v1/detection-tests"): client.post(
            "/v1/detection-tests",
            json={"rule": "failed-logins-per-actor", "since": "1d"},
            headers=headers,
        ),
        **{
            (method, "/v1/detections/{name}"): client.request(
                method, "/v1/detections/failed-logins-per-ip", json=body, headers=headers
            )
            for method, body in (("GET", None), ("PATCH", {"enabled": True}), ("DELETE", None))
        },
        ("GET", "/v1/detection-settings"): client.get("/v1/detection-settings", headers=headers),
        ("PUT", "/v1/detection-settings"): client.put(
            "/v1/detection-settings", json={}, headers=headers
        ),
        ("GET", "/v1/alerts"): client.get("/v1/alerts", headers=headers),
        ("GET", "/v1/retention"): client.get("/v1/retention", headers=headers),
        ("PUT", "/v1/retention"): client.put("/v1/retention", json={}, headers=headers),
        ("DELETE", "/v1/viewer-sessions/{session_id}"): client.delete(
            "/v1/viewer-sessions/vs_missing", headers=headers
        ),
        ("DELETE", "/v1/viewer-sessions"): client.delete(
            "/v1/viewer-sessions", params={"user_id": "u_nobody"}, headers=headers
        ),
        **{
            (method, f"/v1/alerts/{{alert_id}}{tail}"): client.request(
                method, f"/v1/alerts/al_missing{tail}", headers=headers
            )
            for method, tail in (("GET", ""), ("POST", "/acknowledge"), ("POST", "/resolve"))
        },
        **{
            (method, f"/v1/streams/{{stream_id}}{tail}"): client.request(
                method, f"/v1/streams/st_missing{tail}", json=body, headers=headers
            )
            for method, tail, body in (
                ("GET", "", None),
                ("PATCH", "", {"status": "paused"}),
                ("DELETE", "", None),
                ("POST", "/test", None),
                ("POST", "/replay", {"from_seq": 0}),
                ("POST", "/rotate-secret", {}),
                ("GET", "/deliveries", None),
            )
        },
    }


UNLIMITED = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
SSE = ("GET", "/v1/events/stream")  # never ends: charged when opened (test below)


def test_every_api_route_an_api_key_calls_is_charged(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """A new route without a row here fails: every route taking an API key is limited."""
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    api.log.set_rate_limits("acme", TenantRateLimits(key_reads=1000, tenant_reads=1000))
    answers = _route_requests(api)
    assert routes - UNLIMITED - {SSE} == set(answers)
    for (method, path), response in answers.items():
        # Charged before anything else is looked at: a missing stream's 404 counts too.
        assert response.status_code not in (401, 403, 429), (method, path, response.text)
        assert response.status_code < 500, (method, path, response.text)
        assert "RateLimit" in response.headers, (method, path)
        assert "RateLimit-Policy" in response.headers, (method, path)


def test_opening_a_live_tail_is_charged_once(api: Api) -> None:
    principal = api.log.authenticate_api_key(api.key("acme", "events:read"))
    for _ in range(KEY_READS * RATE_WINDOW):
        api.log.record_tail(principal, EventQuery())
    with pytest.raises(RateLimited):
        api.log.record_tail(principal, EventQuery())
    api.log.tail(principal, EventQuery(), None)  # polling an open tail is not charged
