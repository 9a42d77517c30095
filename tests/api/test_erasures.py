"""POST /v1/erasures and GET /v1/erasures/{id}: who may, what the body must be, progress."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sealtrail.auth import Principal
from sealtrail.privacy import Subject
from sealtrail.server.app import create_app
from sealtrail.settings import Settings

from .conftest import Api, event

ERASE = "events:read,events:erase"


def _erase(api: Api, body: Any, tenant: str = "acme", scopes: str = ERASE) -> Any:
    return api.client.post("/v1/erasures", json=body, headers=api.headers(tenant, scopes))


def _status(api: Api, erasure_id: str, tenant: str = "acme") -> Any:
    return api.client.get(f"/v1/erasures/{erasure_id}", headers=api.headers(tenant, ERASE))


def test_an_erasure_is_accepted_done_and_shown(api: Api) -> None:
    assert api.post({"events": [event("a"), event("b", actor={"type": "user", "id": "u_b"})]})
    body = {"subject": {"email": "ann@example.com"}, "reason": "request PRIV-1"}
    accepted = _erase(api, body)
    assert accepted.status_code == 202
    started = accepted.json()
    assert started["events_matched"] == 1 and started["status"] in ("running", "done")
    shown = _status(api, started["erasure_id"])
    assert shown.status_code == 200
    assert shown.json() | {"created_at": None, "finished_at": None} == {
        "erasure_id": started["erasure_id"],
        "status": "done",
        "events_matched": 1,
        "events_erased": 1,
        "subject": "email",
        "reason": "request PRIV-1",
        "created_at": None,
        "finished_at": None,
    }
    erased = api.get("/v1/events/a").json()
    assert erased["actor"]["email"] == "[erased]" and "actor.email" in erased["commitments"]
    assert _status(api, started["erasure_id"], tenant="globex").status_code == 404
    again = _erase(api, body)
    assert again.json()["events_matched"] == 0 and again.json()["status"] == "done"


def test_a_dry_run_changes_nothing(api: Api) -> None:
    api.post(event("a"))
    dry = _erase(api, {"subject": {"id": "u_ann"}, "reason": "check", "dry_run": True})
    assert dry.status_code == 200
    assert dry.json() == {"erasure_id": None, "events_matched": 1, "status": "dry_run"}
    assert api.get("/v1/events/a").json()["actor"]["email"] == "ann@example.com"


@pytest.mark.parametrize("scopes", ["events:read", "events:write,events:read,viewer:mint"])
def test_the_erase_scope_is_needed(api: Api, scopes: str) -> None:
    refused = _erase(api, {"subject": {"id": "u"}, "reason": "r"}, scopes=scopes)
    assert refused.status_code == 403
    looked = api.client.get("/v1/erasures/er_x", headers=api.headers("acme", scopes))
    assert looked.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "r"},
        {"subject": {"email": "a@x.com", "id": "u"}, "reason": "r"},
        {"subject": {"name": "Ann"}, "reason": "r"},
        {"subject": {"email": "not an email"}, "reason": "r"},
        {"subject": {"id": "u"}},
        {"subject": {"id": "u"}, "reason": " "},
        {"subject": {"email": "a@x.com"}, "reason": "A@X.com asked"},
        {"subject": {"id": "u"}, "reason": "r", "dry_run": "yes"},
        {"subject": {"id": "u"}, "reason": "r", "force": True},
        ["not", "an", "object"],
    ],
)
def test_a_bad_request_is_refused(api: Api, body: Any) -> None:
    refused = _erase(api, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "invalid_input"


def test_an_unknown_erasure_is_not_found(api: Api) -> None:
    assert _status(api, "er_nothing").status_code == 404


def test_a_server_finishes_erasures_left_unfinished(settings: Settings, api: Api) -> None:
    api.post(event("a"))
    left = api.log.erase(Principal.operator("acme"), Subject("id", "u_ann"), "request PRIV-2")
    assert left.status == "running" and left.erasure_id is not None
    with TestClient(create_app(api.log, settings)) as client:  # starting up resumes it
        headers = api.headers("acme", ERASE)
        deadline = time.monotonic() + 30
        while (
            client.get(f"/v1/erasures/{left.erasure_id}", headers=headers).json()["status"]
            != "done"
        ):
            assert time.monotonic() < deadline, "the unfinished erasure was not resumed"
            time.sleep(0.05)
    assert api.get("/v1/events/a").json()["actor"]["name"] == "[erased]"
