"""Credentials, scopes and tenant isolation."""

from __future__ import annotations

import pytest

from .conftest import Api, event


def test_no_key_is_401_with_the_error_shape(api: Api) -> None:
    response = api.client.get("/v1/events")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthenticated", "message": "send Authorization: Bearer <API key>"}
    }
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Bearer st_0123456789abcdef_wrong", "Basic dXNlcjpwYXNz", "Bearer ", "st_x"],
)
def test_bad_keys_are_401(api: Api, header: str) -> None:
    api.key()
    response = api.client.get("/v1/events", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_revoked_key_is_401(api: Api) -> None:
    created = api.log.create_api_key("acme", "events:read")
    headers = {"Authorization": f"Bearer {created.plain}"}
    assert api.client.get("/v1/events", headers=headers).status_code == 200
    api.log.revoke_api_key(created.record.id)
    assert api.client.get("/v1/events", headers=headers).status_code == 401


def test_a_key_with_the_right_id_and_wrong_secret_is_401(api: Api) -> None:
    created = api.log.create_api_key("acme", "events:read")
    forged = created.plain[:-4] + ("AAAA" if not created.plain.endswith("AAAA") else "BBBB")
    response = api.client.get("/v1/events", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        ("events:read", "post", "/v1/events", 403),
        ("events:write", "get", "/v1/events", 403),
        ("events:write", "get", "/v1/events/export", 403),
        ("events:write", "get", "/v1/checkpoint", 403),
        ("viewer:mint", "get", "/v1/events", 403),
        ("events:write", "get", "/api/organization/rbac/members/audit-log", 403),
    ],
)
def test_scopes(api: Api, scopes: str, method: str, path: str, status: int) -> None:
    headers = api.headers(scopes=scopes)
    if method == "post":
        response = api.client.post(path, json=event(), headers=headers)
    else:
        response = api.client.get(path, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "forbidden"


def test_nothing_a_request_sends_reaches_another_tenant(api: Api) -> None:
    api.post(event("shared-id", description="acme secret"), tenant="acme")
    api.post(event("globex-only", description="globex secret"), tenant="globex")
    # A body naming another tenant is still recorded in the key's own tenant.
    forged = api.post(event("sneaky", tenant_id="globex"), tenant="acme")
    assert forged.status_code == 201
    assert api.get("/v1/events/sneaky", tenant="acme").json()["tenant_id"] == "acme"
    assert api.get("/v1/events/sneaky", tenant="globex").status_code == 404
    # Query parameters and headers cannot widen the scope either.
    response = api.client.get(
        "/v1/events",
        params={"tenant_id": "globex"},
        headers={**api.headers("acme"), "X-Tenant-Id": "globex"},
    )
    assert response.status_code == 422
    assert api.search("acme", q="globex") == []
    assert api.search("acme", phrase="globex secret") == []
    assert api.get("/v1/events/globex-only", tenant="acme").status_code == 404
    assert sorted(api.search("globex")) == ["globex-only"]
    # The same id in another tenant is another event, not a duplicate.
    assert api.post(event("shared-id"), tenant="globex").json()["events"][0]["seq"] == 1
