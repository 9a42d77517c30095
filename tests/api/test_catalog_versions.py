"""Catalog changes are versioned and recorded, and never make an old event look tampered."""

from __future__ import annotations

from typing import Any

from sealtrail.store import open_store
from sealtrail.verify import read_vkey, verify_bundle

from .conftest import Api, event

INVOICE_PAID = {
    "name": "invoice.paid",
    "category": "billing",
    "kind": "update",
    "description": "{actor} paid an invoice",
}


def register(api: Api, **changes: Any) -> Any:
    return api.client.post("/v1/catalog", json={**INVOICE_PAID, **changes}, headers=api.headers())


def test_registering_a_type_after_its_events_leaves_every_verification_passing(api: Api) -> None:
    api.post({"events": [event(f"old{i}", action="invoice.paid") for i in range(3)]})
    before = api.get("/v1/events/old0").json()
    assert (before["category"], before["kind"]) == ("other", "other")
    created = register(api)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    api.post(event("new", action="invoice.paid"))
    after = api.get("/v1/events/new").json()
    assert (after["category"], after["kind"]) == ("billing", "update")
    assert api.get("/v1/events/old0").json()["category"] == "other"

    report = api.log.verify_database(api.log.verifier_key)
    assert report.ok, report.problems
    verifier = read_vkey(api.log.verifier_key)
    lines = api.get("/v1/events/export", format="bundle").content.splitlines()
    assert verify_bundle(iter(lines), verifier, tenant="acme").ok
    partial = api.get("/v1/events/export", format="bundle", action="invoice.paid").content
    assert verify_bundle(iter(partial.splitlines()), verifier).ok


def test_another_category_or_kind_is_a_409_and_changes_nothing(api: Api) -> None:
    assert register(api).status_code == 201
    for change in ({"category": "finance"}, {"kind": "create"}):
        response = register(api, **change)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "event_type_conflict"
        assert "billing/update" in error["message"]
    catalog = {t["name"]: t for t in api.get("/v1/catalog").json()["event_types"]}
    assert catalog["invoice.paid"]["category"] == "billing"


def test_a_built_in_type_keeps_its_classification(api: Api) -> None:
    response = register(api, name="member.invited", category="billing", kind="update")
    assert response.status_code == 409
    same = register(api, name="member.invited", category="members", kind="create")
    assert same.status_code == 201, same.text


def test_each_change_is_a_recorded_version(api: Api) -> None:
    assert register(api).json()["version"] == 1
    again = register(api)
    assert (again.status_code, again.json()["version"]) == (200, 1)
    reworded = register(api, description="{actor} settled an invoice")
    assert (reworded.status_code, reworded.json()["version"]) == (201, 2)
    store = open_store(api.log.database_url)
    versions = store.event_type_versions("acme")
    store.close()
    assert [(v.version, v.event_type.description) for v in versions] == [
        (1, "{actor} paid an invoice"),
        (2, "{actor} settled an invoice"),
    ]
    recorded = api.get("/v1/events", action="audit_log.event_type_registered").json()["events"]
    assert sorted(e["context"]["version"] for e in recorded) == [1, 2]
    assert {e["resource"]["id"] for e in recorded} == {"invoice.paid"}
    assert all(e["actor"]["type"] == "api_key" for e in recorded)
