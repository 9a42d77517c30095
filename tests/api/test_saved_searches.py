"""GET/POST /v1/saved-searches and DELETE /v1/saved-searches/{id}: who may, the body, the log."""

from __future__ import annotations

from typing import Any

import pytest

from sealtrail import saved_searches

from .conftest import Api

READ = "events:read"
PATH = "/v1/saved-searches"


def _save(api: Api, body: Any, tenant: str = "acme", scopes: str = READ) -> Any:
    return api.client.post(PATH, json=body, headers=api.headers(tenant, scopes))


def _list(api: Api, tenant: str = "acme", scopes: str = READ) -> Any:
    return api.client.get(PATH, headers=api.headers(tenant, scopes))


def _delete(api: Api, search_id: str, tenant: str = "acme", scopes: str = READ) -> Any:
    return api.client.delete(f"{PATH}/{search_id}", headers=api.headers(tenant, scopes))


def test_a_key_saves_lists_and_deletes_a_shared_search(api: Api) -> None:
    body = {"name": "Failed sign-ins", "phrase": "action:auth.* outcome:failure", "shared": True}
    created = _save(api, body)
    assert created.status_code == 201, created.text
    search = created.json()
    assert search["id"].startswith("ss_")
    assert search | {"id": None, "created_at": None} == {
        "id": None,
        "name": "Failed sign-ins",
        "phrase": "action:auth.* outcome:failure",
        "shared": True,
        "created_at": None,
        "url": f"http://testserver/ui?phrase=action%3Aauth.%2A+outcome%3Afailure&saved={search['id']}",
    }
    assert _list(api).json() == {"saved_searches": [search]}
    assert _list(api, "globex").json() == {"saved_searches": []}
    assert _delete(api, search["id"], "globex").status_code == 404
    deleted = _delete(api, search["id"])
    assert deleted.status_code == 204 and deleted.content == b""
    assert _list(api).json() == {"saved_searches": []}
    again = _delete(api, search["id"])
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


def test_creating_and_deleting_are_recorded_in_the_tenants_log(api: Api) -> None:
    search = _save(api, {"name": "Deletes", "phrase": "kind:delete", "shared": True}).json()
    assert _delete(api, search["id"]).status_code == 204
    recorded = api.search(resource_type="saved_search")
    events = [api.get(f"/v1/events/{i}").json() for i in recorded]
    assert [e["action"] for e in events] == [
        "audit_log.saved_search_deleted",
        "audit_log.saved_search_created",
    ]
    for event in events:
        assert event["resource"] == {"type": "saved_search", "id": search["id"], "name": "Deletes"}
        assert event["actor"]["type"] == "api_key"
        assert event["context"] == {"name": "Deletes", "phrase": "kind:delete", "shared": True}
        assert event["kind"] in ("create", "delete")
    assert api.search("globex", phrase="action:audit_log.*") == []


def test_only_a_credential_that_reads_the_tenant_may(api: Api) -> None:
    body = {"name": "x", "phrase": "", "shared": True}
    for response in (_save(api, body, scopes="events:write"), _list(api, scopes="events:write")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert api.client.get(PATH).status_code == 401


def test_a_key_has_no_user_so_it_saves_shared_searches_only(api: Api) -> None:
    refused = _save(api, {"name": "mine", "phrase": "kind:create"})
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert [d["field"] for d in details] == ["shared"]
    assert "private search belongs to a viewer's user" in details[0]["message"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "", "phrase": "kind:create", "shared": True}, ["name"]),
        ({"name": "x" * 101, "phrase": "", "shared": True}, ["name"]),
        ({"name": "tab\there", "phrase": "", "shared": True}, ["name"]),
        ({"name": "x", "phrase": "colour:blue", "shared": True}, ["phrase"]),
        ({"name": "x", "phrase": "a" * 2049, "shared": True}, ["phrase"]),
        ({"name": "x", "shared": True}, ["phrase"]),
        ({"phrase": "", "shared": "yes"}, ["shared", "name"]),
        ({"name": "x", "phrase": "", "shared": True, "colour": 1}, ["colour"]),
        ([], [""]),
    ],
)
def test_a_bad_body_names_each_bad_field(api: Api, body: Any, fields: list[str]) -> None:
    refused = _save(api, body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_saved_search"
    assert [d["field"] for d in error["details"]] == fields


def test_an_empty_body_says_what_to_send(api: Api) -> None:
    refused = api.client.post(PATH, content=b"", headers=api.headers("acme", READ))
    assert refused.status_code == 400
    assert '{"name", "phrase", "shared"?}' in refused.json()["error"]["message"]


def test_a_name_is_taken_once_among_the_shared_searches(api: Api) -> None:
    assert _save(api, {"name": "Logins", "phrase": "", "shared": True}).status_code == 201
    taken = _save(api, {"name": " Logins ", "phrase": "kind:access", "shared": True})
    assert taken.status_code == 409
    assert (
        taken.json()["error"]["message"] == "there is already a shared saved search named 'Logins'"
    )
    assert _save(api, {"name": "Logins", "phrase": "", "shared": True}, "globex").status_code == 201


def test_a_tenant_keeps_a_bounded_number(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saved_searches, "MAX_SAVED_SEARCHES", 2)
    for name in ("a", "b"):
        assert _save(api, {"name": name, "phrase": "", "shared": True}).status_code == 201
    full = _save(api, {"name": "c", "phrase": "", "shared": True})
    assert full.status_code == 409
    assert "delete one first" in full.json()["error"]["message"]
