"""GET /v1/events: filters, pages, errors; naughty strings round-trip everywhere."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest

from ..naughty import NAUGHTY
from .conftest import Api, event


@pytest.fixture
def history(api: Api) -> Api:
    rows = [
        event(
            "e0",
            action="auth.login",
            outcome="failure",
            ip="10.1.2.3",
            occurred_at="2026-03-01T00:00:00Z",
        ),
        event(
            "e1",
            target={"type": "user", "id": "u_bob", "email": "bob@example.com"},
            account_id="acc_1",
            occurred_at="2026-03-01T01:00:00Z",
        ),
        event(
            "e2",
            action="member.role_changed",
            account_id="acc_2",
            target={"type": "user", "id": "u_bob", "email": "bob@example.com"},
            context={"previous_role": "member", "new_role": "admin"},
            occurred_at="2026-03-01T02:00:00Z",
        ),
        event(
            "e3",
            action="app.published",
            resource={"type": "app", "id": "app_42", "name": "Support bot"},
            account_id="acc_1",
            occurred_at="2026-03-02T03:00:00Z",
            ip="2001:db8::7",
        ),
        event(
            "e4",
            action="workspace.deleted",
            actor={"type": "system"},
            resource={"type": "workspace", "id": "ws_1"},
            occurred_at="2026-03-03T04:00:00Z",
            description="Workspace Sales removed by retention policy",
        ),
    ]
    assert api.post({"events": rows}).status_code == 201
    return api


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["e4", "e3", "e2", "e1", "e0"]),
        ({"order": "asc"}, ["e0", "e1", "e2", "e3", "e4"]),
        ({"action": "member.*"}, ["e2", "e1"]),
        ({"action": ["auth.login", "app.published"]}, ["e3", "e0"]),
        ({"category": "apps"}, ["e3"]),
        ({"kind": "delete"}, ["e4"]),
        ({"actor_id": "system"}, ["e4"]),
        ({"actor_email": "ANN@example.com"}, ["e3", "e2", "e1", "e0"]),
        ({"target_id": "u_bob"}, ["e2", "e1"]),
        ({"resource_type": "app"}, ["e3"]),
        ({"resource_id": "ws_1"}, ["e4"]),
        ({"account_id": "acc_1"}, ["e3", "e1"]),
        ({"outcome": "failure"}, ["e0"]),
        ({"ip": "10.0.0.0/8"}, ["e0"]),
        ({"ip": "2001:db8::/32"}, ["e3"]),
        ({"q": "retention"}, ["e4"]),
        ({"q": "support bot"}, ["e3"]),
        ({"since": "2026-03-02"}, ["e4", "e3"]),
        ({"until": "2026-03-01"}, ["e2", "e1", "e0"]),
        ({"since": "2026-03-01T01:00:00Z", "until": "2026-03-01T02:00:00Z"}, ["e1"]),
        ({"phrase": "action:member.* -account:acc_1"}, ["e2"]),
        ({"phrase": "created:2026-03-01..2026-03-02 kind:create"}, ["e1"]),
        ({"phrase": "outcome:failure", "ip": "10.1.2.3"}, ["e0"]),
    ],
)
def test_every_filter(history: Api, params: dict[str, Any], expected: list[str]) -> None:
    assert history.search(**params) == expected


def test_cursor_and_offset_pages(history: Api) -> None:
    first = history.get("/v1/events", limit=2).json()
    assert [e["id"] for e in first["events"]] == ["e4", "e3"]
    assert first["total"] == 5
    second = history.get("/v1/events", limit=2, cursor=first["next_cursor"]).json()
    third = history.get("/v1/events", limit=2, cursor=second["next_cursor"]).json()
    assert [e["id"] for e in second["events"] + third["events"]] == ["e2", "e1", "e0"]
    assert third["next_cursor"] is None
    by_offset = history.get("/v1/events", limit=2, offset=2).json()
    assert [e["id"] for e in by_offset["events"]] == ["e2", "e1"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "201"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"since": "March 1st"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"kind": "explode"}, "kind"),
        ({"outcome": "maybe"}, "outcome"),
        ({"ip": "999.1.1.1"}, "ip"),
        ({"order": "sideways"}, "order"),
        ({"cursor": "garbage"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    history: Api, params: dict[str, str], parameter: str
) -> None:
    response = history.get("/v1/events", **params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_query"
    assert error["parameter"] == parameter


def test_a_phrase_that_does_not_parse_is_400_pointing_at_the_token(history: Api) -> None:
    response = history.get("/v1/events", phrase='action:member.* colour:red "open')
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_phrase"
    assert error["token"].startswith("colour")
    assert error["position"] == 16


def test_seed_endpoint(history: Api) -> None:
    response = history.get(
        "/api/organization/rbac/members/audit-log", targetUserId="u_bob", limit=1, offset=1
    )
    body = response.json()
    assert [e["id"] for e in body["events"]] == ["e1"]
    assert (body["total"], body["limit"], body["offset"]) == (2, 1, 1)
    same = history.get("/v1/events", target_id="u_bob", action="member.invited").json()
    assert body["events"] == same["events"]
    assert history.get("/api/organization/rbac/members/audit-log", limit=201).status_code == 422
    since = history.get("/api/organization/rbac/members/audit-log", since="2026-03-02").json()
    assert since["total"] == 2


def test_unknown_event_is_404(history: Api) -> None:
    response = history.get("/v1/events/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("value", [v for v in NAUGHTY if v])
def test_naughty_strings_round_trip_through_api_ndjson_and_csv(api: Api, value: str) -> None:
    body = event(
        "n1",
        description=value[:1000],
        actor={"type": "user", "id": "u1", "name": value[:256]},
        resource={"type": "doc", "id": "d1", "name": value[:256]},
        context={"note": value, value[:50]: [value]},
        user_agent=value[:1024],
    )
    assert api.post(body).status_code == 201
    got = api.get("/v1/events/n1").json()
    assert got["description"] == value[:1000]
    assert got["actor"]["name"] == value[:256]
    assert got["context"] == {"note": value, value[:50]: [value]}
    ndjson = api.get("/v1/events/export", format="ndjson").content
    exported = [orjson.loads(line) for line in ndjson.splitlines()]
    mine = next(e for e in exported if e["id"] == "n1")
    assert mine["description"] == value[:1000]
    assert mine["user_agent"] == value[:1024]
    text = api.get("/v1/events/export", format="csv", action="member.invited").content.decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    cell = rows[0]["description"]
    expected = value[:1000]
    assert cell == ("'" + expected if expected[:1] in "=+-@\t\r\n\x00" else expected)
