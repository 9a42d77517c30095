"""``occurred_at`` lies between 1970 and a few minutes ahead of the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import Api, event


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    "when",
    [
        "2099-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "in ten minutes",
    ],
)
def test_a_time_in_the_future_is_refused_on_its_field(api: Api, when: str) -> None:
    if when == "in ten minutes":
        when = _rfc3339(datetime.now(UTC) + timedelta(minutes=10))
    response = api.post({"events": [event("ok"), event("late", occurred_at=when)]})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_event"
    [detail] = error["details"]
    assert (detail["index"], detail["field"]) == (1, "occurred_at")
    assert "300 s ahead of the server's clock" in detail["message"]
    assert api.search() == []


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z"]
)
def test_a_time_before_1970_is_refused_on_its_field(api: Api, when: str) -> None:
    response = api.post(event("old", occurred_at=when))
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "occurred_at"
    assert detail["message"] == "must be 1970-01-01T00:00:00.000000Z or later"


def test_the_edges_are_accepted(api: Api) -> None:
    soon = _rfc3339(datetime.now(UTC) + timedelta(minutes=4))
    response = api.post(
        {
            "events": [
                event("epoch", occurred_at="1970-01-01T00:00:00Z"),
                event("soon", occurred_at=soon),
            ]
        }
    )
    assert response.status_code == 201, response.text
    assert sorted(api.search()) == ["epoch", "soon"]
