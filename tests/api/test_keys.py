"""API keys an operator can live with, through the real app: expiry, rotation with an
overlap, last use, and every key change recorded in the tenant's own log."""

from __future__ import annotations

from typing import Any

from sealtrail.auth import Principal
from sealtrail.events import now_micros
from sealtrail.keys import LastUse
from sealtrail.query import EventQuery, Page, parse_phrase

from .conftest import Api, event


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _recorded(api: Api, action: str, tenant: str = "acme") -> list[dict[str, Any]]:
    found = api.log.search(Principal.operator(tenant), parse_phrase(f"action:{action}"), Page())
    return [e.to_dict() for e in found.events]


def test_every_key_change_is_an_event_in_the_tenants_own_log(api: Api) -> None:
    created = api.log.create_api_key("acme", "events:write", name="billing", expires_in=3600)
    rotated = api.log.rotate_api_key(created.record.id, overlap=60)
    api.log.revoke_api_key(rotated.record.id)
    (made,) = _recorded(api, "audit_log.api_key_created")
    assert made["resource"] == {"type": "api_key", "id": created.record.id, "name": "billing"}
    assert made["actor"]["id"] == "operator" and made["kind"] == "create"
    assert made["context"]["scopes"] == ["events:write"]
    assert made["context"]["expires_at"] is not None
    (moved,) = _recorded(api, "audit_log.api_key_rotated")
    assert moved["context"]["key_id"] == created.record.id
    assert moved["context"]["new_key_id"] == rotated.record.id
    (ended,) = _recorded(api, "audit_log.api_key_revoked")
    assert ended["resource"]["id"] == rotated.record.id and ended["kind"] == "delete"
    everything = api.log.search(Principal.operator("acme"), EventQuery(), Page()).events
    assert all(created.plain not in str(e.to_dict()) for e in everything)  # never the key
    assert _recorded(api, "audit_log.api_key_created", "globex") == []


def test_an_expired_key_answers_like_an_unknown_one(api: Api) -> None:
    key = api.log.create_api_key("acme", "events:write,events:read")
    assert api.client.get("/v1/events", headers=_auth(key.plain)).status_code == 200
    api.log.rotate_api_key(key.record.id, overlap=0)  # the old key's end is now
    expired = api.client.get("/v1/events", headers=_auth(key.plain))
    unknown = api.client.get("/v1/events", headers=_auth("st_" + "0" * 16 + "_nothing"))
    assert expired.status_code == unknown.status_code == 401
    assert expired.json() == unknown.json()
    assert expired.headers["WWW-Authenticate"] == "Bearer"


def test_a_rotated_key_keeps_working_through_the_overlap_beside_the_new_one(api: Api) -> None:
    old = api.log.create_api_key("acme", "events:write,events:read", expires_in=90 * 86400)
    new = api.log.rotate_api_key(old.record.id, overlap=3600)
    for key in (old.plain, new.plain):
        response = api.client.post("/v1/events", json=event(), headers=_auth(key))
        assert response.status_code == 201, response.text
    listed = {k.id: k for k in api.log.api_keys("acme")}
    assert listed[old.record.id].replaced_by == new.record.id
    old_end = listed[old.record.id].expires_at
    assert old_end is not None and old_end <= now_micros() + 3600 * 1_000_000
    # The new key gets the lifetime the old one was given.
    new_end = listed[new.record.id].expires_at
    assert new_end is not None
    assert abs(new_end - new.record.created_at - 90 * 86400 * 1_000_000) < 1_000_000
    assert new.record.scopes == old.record.scopes


def test_last_use_is_written_on_first_use_not_per_request(api: Api) -> None:
    key = api.log.create_api_key("acme", "events:read")
    assert api.log.api_key(key.record.id).last_used_at is None
    before = now_micros()
    for _ in range(3):
        assert api.client.get("/v1/catalog", headers=_auth(key.plain)).status_code == 200
    first = api.log.api_key(key.record.id).last_used_at
    assert first is not None and first >= before
    assert api.client.get("/v1/catalog", headers=_auth(key.plain)).status_code == 200
    assert api.log.api_key(key.record.id).last_used_at == first  # within the minute: no write


def test_last_use_is_due_once_a_minute_per_key() -> None:
    clock = LastUse(every=60)
    assert clock.due("k1", 0) is True
    assert clock.due("k1", 59_999_999) is False
    assert clock.due("k2", 1) is True
    assert clock.due("k1", 60_000_000) is True
