"""GET/PUT /v1/retention: who may read and replace a tenant's policy, and what it must be."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api

ERASE = "events:read,events:erase"


def _put(api: Api, body: Any, tenant: str = "acme", scopes: str = ERASE) -> Any:
    return api.client.put("/v1/retention", json=body, headers=api.headers(tenant, scopes))


def test_the_policy_is_keep_forever_until_replaced(api: Api) -> None:
    shown = api.get("/v1/retention")
    assert shown.status_code == 200
    assert shown.json() == {"tenant_id": "acme", "days": None, "rules": []}
    body = {"days": 365, "rules": [{"action_prefix": "auth.", "days": 30}]}
    replaced = _put(api, body)
    assert replaced.status_code == 200 and replaced.json() == {"tenant_id": "acme", **body}
    assert api.get("/v1/retention").json() == {"tenant_id": "acme", **body}
    assert api.get("/v1/retention", tenant="globex").json()["days"] is None
    assert _put(api, {"days": None}).json()["days"] is None


def test_replacing_needs_the_erase_scope(api: Api) -> None:
    refused = _put(api, {"days": 30}, scopes="events:read,events:write")
    assert refused.status_code == 403
    assert "events:erase" in refused.json()["error"]["message"]
    only_erase = api.client.get("/v1/retention", headers=api.headers("acme", "events:erase"))
    assert only_erase.status_code == 403  # reading needs events:read
    assert api.client.get("/v1/retention").status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"days": 0}, {"days": "30"}, {"rules": []}, {"days": 30, "keep": True}, [30]],
)
def test_a_bad_policy_is_refused_naming_it(api: Api, body: Any) -> None:
    refused = _put(api, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"]
    assert api.get("/v1/retention").json()["days"] is None
