"""The catalog endpoints, health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import re

from .conftest import Api, event


def test_catalog_lists_builtin_types_grouped(api: Api) -> None:
    body = api.get("/v1/catalog").json()
    names = {t["name"] for t in body["event_types"]}
    assert len(names) >= 100
    assert {"member.role_changed", "audit_log.exported", "api_key.create"} <= names
    slugs = [c["slug"] for c in body["categories"]]
    assert "members" in slugs


def test_tenant_types_classify_events_and_stay_in_their_tenant(api: Api) -> None:
    created = api.client.post(
        "/v1/catalog",
        json={
            "name": "report.generated",
            "category": "reports",
            "kind": "access",
            "description": "{actor} generated a report",
        },
        headers=api.headers(),
    )
    assert created.status_code == 201, created.text
    api.post(event("r1", action="report.generated"))
    stored = api.get("/v1/events/r1").json()
    assert (stored["category"], stored["kind"]) == ("reports", "access")
    assert stored["description"] == "Ann generated a report"
    globex = {t["name"]: t for t in api.get("/v1/catalog", tenant="globex").json()["event_types"]}
    assert "report.generated" not in globex


def test_unknown_actions_are_classified_by_verb(api: Api) -> None:
    api.post(
        {
            "events": [
                event("x1", action="widget.created"),
                event("x2", action="widget.removed"),
                event("x3", action="widget.changed"),
            ]
        }
    )
    kinds = [api.get(f"/v1/events/x{i}").json()["kind"] for i in (1, 2, 3)]
    assert kinds == ["create", "delete", "update"]


def test_a_strict_tenant_refuses_unregistered_actions(api: Api) -> None:
    api.log.create_tenant("strictco", strict=True)
    response = api.post(event(action="widget.created"), tenant="strictco")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "action"
    assert api.post(event(action="member.invited"), tenant="strictco").status_code == 201


def test_a_bad_event_type_is_422(api: Api) -> None:
    response = api.client.post(
        "/v1/catalog", json={"name": "Bad Name", "kind": "weird"}, headers=api.headers()
    )
    assert response.status_code == 422


def test_health_readiness_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready"
    api.post(event())
    api.get("/v1/events")
    metrics = api.client.get("/metrics").text
    assert "sealtrail_events_ingested_total 1.0" in metrics
    assert 'sealtrail_api_key_reads_total{endpoint="search"} 1.0' in metrics
    assert 'route="/v1/events"' in metrics


def test_api_key_reads_are_not_recorded_as_events(api: Api) -> None:
    api.post(event("only"))
    for _ in range(3):
        api.get("/v1/events")
    assert api.search() == ["only"]


def test_exports_are_recorded_in_the_log(api: Api) -> None:
    api.post(event("only"))
    api.get("/v1/events/export", format="ndjson")
    exported = api.get("/v1/events", action="audit_log.exported").json()["events"]
    assert len(exported) == 1
    assert exported[0]["actor"]["type"] == "api_key"
    assert exported[0]["context"]["format"] == "ndjson"


def test_openapi_describes_every_endpoint(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/v1/events",
        "/v1/events/{event_id}",
        "/v1/events/export",
        "/v1/checkpoint",
        "/v1/proofs/inclusion",
        "/v1/proofs/consistency",
        "/v1/catalog",
        "/api/organization/rbac/members/audit-log",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= paths
    names = {p["name"] for p in document["paths"]["/v1/events"]["get"]["parameters"]}
    assert {"action", "ip", "q", "phrase", "cursor", "limit"} <= names
    assert api.client.get("/docs").status_code == 200


def test_unknown_routes_use_the_error_shape(api: Api) -> None:
    response = api.client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = api.client.delete("/v1/events", headers=api.headers())
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_docs_page_loads_its_assets_from_this_server(api: Api) -> None:
    html = api.client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    assert assets
    assert not [a for a in assets if "://" in a or a.startswith("//")], assets
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset
