"""GET /v1/events/histogram: buckets by kind that add up to exactly what a search finds."""

from __future__ import annotations

from typing import Any

import pytest

from sealtrail.limits import KINDS, MAX_BUCKETS
from sealtrail.server.session_cookie import COOKIE

from .conftest import Api, event

DAY1, DAY3 = "2026-03-01", "2026-03-03"


@pytest.fixture
def history(api: Api) -> Api:
    rows = [
        event("a0", action="auth.login", occurred_at="2026-03-01T00:10:00Z", outcome="failure"),
        event("a1", action="auth.login", occurred_at="2026-03-01T00:20:00Z", account_id="acc_1"),
        event("c0", occurred_at="2026-03-01T05:00:00Z", account_id="acc_1"),
        event("c1", occurred_at="2026-03-02T05:00:00Z", account_id="acc_2"),
        event(
            "d0",
            action="workspace.deleted",
            resource={"type": "workspace", "id": "ws_1"},
            occurred_at="2026-03-03T23:59:59Z",
            account_id="acc_2",
            outcome="failure",
        ),
        event("u0", action="member.role_changed", occurred_at="2026-03-02T12:00:00Z"),
    ]
    assert api.post({"events": rows}).status_code == 201
    assert api.post(event("g0", occurred_at="2026-03-01T00:10:00Z"), "globex").status_code == 201
    return api


def histogram(api: Api, tenant: str = "acme", **params: Any) -> dict[str, Any]:
    response = api.get("/v1/events/histogram", tenant, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_buckets_count_each_kind_and_failure(history: Api) -> None:
    body = histogram(history, since=DAY1, until=DAY3, buckets="3")
    assert body["since"] == "2026-03-01T00:00:00.000000Z"
    assert body["until"] == "2026-03-04T00:00:00.000000Z"  # a date-only until takes the day
    assert body["interval"] == 86_400
    assert body["total"] == 6
    days = body["buckets"]
    assert [(b["start"][:10], b["end"][:10]) for b in days] == [
        ("2026-03-01", "2026-03-02"),
        ("2026-03-02", "2026-03-03"),
        ("2026-03-03", "2026-03-04"),
    ]
    assert [b["count"] for b in days] == [3, 2, 1]
    assert days[0]["by_kind"] == {"create": 1, "update": 0, "delete": 0, "access": 2, "other": 0}
    assert days[1]["by_kind"]["update"] == 1 and days[2]["by_kind"]["delete"] == 1
    assert [b["failures"] for b in days] == [1, 0, 1]
    assert all(set(b["by_kind"]) == set(KINDS) for b in days)


def test_the_width_is_round_and_the_ends_clipped(history: Api) -> None:
    body = histogram(
        history, since="2026-03-01T00:07:00Z", until="2026-03-01T01:00:00Z", buckets="10"
    )
    assert body["interval"] == 600  # 53 minutes in at most 10 buckets: 10 minutes each
    starts = [b["start"][11:16] for b in body["buckets"]]
    assert starts == ["00:07", "00:10", "00:20", "00:30", "00:40", "00:50"]
    assert body["buckets"][-1]["end"] == "2026-03-01T01:00:00.000000Z"
    assert [b["count"] for b in body["buckets"]] == [0, 1, 1, 0, 0, 0]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "access"},
        {"kind": "create"},
        {"outcome": "failure"},
        {"account_id": "acc_1"},
        {"action": "auth.*"},
        {"q": "login"},
        {"phrase": "-action:auth.login"},
        {"actor_email": "ANN@example.com"},
    ],
    ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "none",
)
def test_it_follows_every_filter_as_search_does(history: Api, params: dict[str, str]) -> None:
    body = histogram(history, since=DAY1, until=DAY3, buckets="72", **params)
    found = history.search(since=DAY1, until=DAY3, **params)
    assert body["total"] == len(found)
    buckets = body["buckets"]
    if "outcome" not in params:
        failed = history.search(since=DAY1, until=DAY3, outcome="failure", **params)
        assert sum(b["failures"] for b in buckets) == len(failed)
    if "kind" not in params:
        for kind in KINDS:
            of_kind = history.search(since=DAY1, until=DAY3, kind=kind, **params)
            assert sum(b["by_kind"][kind] for b in buckets) == len(of_kind), kind


def test_open_ends_span_the_matches(history: Api) -> None:
    body = histogram(history, buckets="200")
    assert body["since"] == "2026-03-01T00:10:00.000000Z"  # the oldest match
    assert body["total"] == 6
    assert body["buckets"][0]["count"] > 0  # the range starts at the oldest match
    ws = histogram(history, resource_type="workspace", until=DAY3)
    assert ws["since"] == "2026-03-03T23:59:59.000000Z" and ws["total"] == 1


def test_nothing_matching_gives_empty_buckets(history: Api) -> None:
    body = histogram(history, actor_id="nobody", until=DAY3, buckets="30")
    assert body["total"] == 0
    assert len(body["buckets"]) == 30 and body["interval"] == 86_400
    assert body["until"] == "2026-03-04T00:00:00.000000Z"


def test_another_tenant_is_never_counted(history: Api) -> None:
    assert histogram(history, "globex", since=DAY1, until=DAY3)["total"] == 1


def test_an_account_scoped_viewer_sees_only_its_accounts(history: Api) -> None:
    minted = history.client.post(
        "/v1/viewer-sessions",
        json={
            "user": {"id": "u_v", "email": "v@example.com"},
            "role": "account_admin",
            "account_ids": ["acc_1"],
        },
        headers=history.headers(scopes="viewer:mint"),
    )
    assert minted.status_code == 201, minted.text
    # The link is traded for a cookie (not followed on to /ui, which would record a look).
    opened = history.client.get(minted.json()["url"], follow_redirects=False)
    assert opened.status_code == 303, opened.text
    cookie = history.client.cookies[COOKIE]
    history.client.cookies.clear()
    response = history.client.get(
        "/v1/events/histogram",
        params={"since": DAY1, "until": DAY3},
        cookies={COOKIE: cookie},
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2  # a1 and c0
    recorded = history.search(action="audit_log.viewed")
    assert len(recorded) == 1  # the viewer's look is on record


def test_scope_events_read_is_needed(history: Api) -> None:
    response = history.client.get(
        "/v1/events/histogram", headers=history.headers(scopes="events:write")
    )
    assert response.status_code == 403
    assert history.client.get("/v1/events/histogram").status_code == 401


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"buckets": "0"}, "buckets"),
        ({"buckets": str(MAX_BUCKETS + 1)}, "buckets"),
        ({"buckets": "ten"}, "buckets"),
        ({"buckets": ["2", "3"]}, "buckets"),
        ({"limit": "5"}, "limit"),
        ({"cursor": "x"}, "cursor"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_named(history: Api, params: dict[str, Any], parameter: str) -> None:
    response = history.get("/v1/events/histogram", **params)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    assert parameter in error["message"], error
