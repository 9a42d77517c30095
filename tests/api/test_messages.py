"""Error messages say what the route takes and blame the parameter that is wrong."""

from __future__ import annotations

import pytest

from .conftest import Api, event


@pytest.mark.parametrize(
    ("path", "scopes", "says"),
    [
        ("/v1/events", "events:write,events:read", '{"events": [...]}'),
        ("/v1/catalog", "events:write", "an event type"),
        ("/v1/viewer-sessions", "viewer:mint", "a session request"),
    ],
)
def test_an_empty_body_is_told_what_the_route_takes(
    api: Api, path: str, scopes: str, says: str
) -> None:
    response = api.client.post(path, content=b"", headers=api.headers(scopes=scopes))
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("the body is empty; send ")
    assert says in message
    if path != "/v1/events":
        assert "event or" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "201"),
        ("limit", "x"),
        ("offset", "-1"),
        ("offset", "99999999999999999999"),
    ],
)
def test_every_bad_limit_or_offset_gets_the_same_wording(api: Api, name: str, value: str) -> None:
    error = api.get("/v1/events", **{name: value}).json()["error"]
    expected = "from 1 to 200" if name == "limit" else "from 0 to 9223372036854775807"
    assert error["message"] == f"{name} must be a whole number {expected}, not {value!r}"
    assert error["parameter"] == name


def test_a_consistency_proof_past_the_tree_blames_second(api: Api) -> None:
    api.post({"events": [event(), event()]})
    assert api.get("/v1/checkpoint").status_code == 200
    error = api.get("/v1/proofs/consistency", first="1", second="99999999999").json()["error"]
    assert error["parameter"] == "second"
    error = api.get("/v1/proofs/consistency", first="3", second="2").json()["error"]
    assert error["parameter"] == "first"


def test_a_batch_too_large_is_the_batchs_error_not_event_zeros(api: Api) -> None:
    response = api.post({"events": [{}] * 2000})
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail == {"field": "events", "message": "must hold at most 1000 events"}


def test_one_events_error_still_names_its_place(api: Api) -> None:
    response = api.post({"events": [event(), event(ip="nope")]})
    [detail] = response.json()["error"]["details"]
    assert detail["index"] == 1
