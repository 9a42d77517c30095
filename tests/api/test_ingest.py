"""POST /v1/events: validation, strict JSON, limits, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import Api, event


def test_one_event_is_stored_with_server_fields(api: Api) -> None:
    response = api.post(event("e1", ip="10.0.0.1", occurred_at="2026-03-01T10:00:00+02:00"))
    assert response.status_code == 201
    assert response.json() == {"events": [{"id": "e1", "seq": 0}]}
    stored = api.get("/v1/events/e1").json()
    assert stored["tenant_id"] == "acme"
    assert stored["occurred_at"] == "2026-03-01T08:00:00.000000Z"
    assert stored["received_at"].endswith("Z")
    assert (stored["category"], stored["kind"]) == ("members", "create")
    assert stored["description"] == "Ann invited someone"


def test_batch_gets_consecutive_seqs_and_generated_ids(api: Api) -> None:
    response = api.post({"events": [event(), event(), event("mine")]})
    receipts = response.json()["events"]
    assert [r["seq"] for r in receipts] == [0, 1, 2]
    assert receipts[2]["id"] == "mine"
    assert len(receipts[0]["id"]) == 36  # a UUIDv7


def test_resend_returns_the_original_and_stores_nothing(api: Api) -> None:
    api.post({"events": [event("a"), event("b")]})
    again = api.post({"events": [event("b", action="app.deleted"), event("c")]})
    assert again.status_code == 201
    assert again.json()["events"] == [{"id": "b", "seq": 1}, {"id": "c", "seq": 2}]
    assert api.get("/v1/events/b").json()["action"] == "member.invited"
    assert len(api.search()) == 3


def test_invalid_batch_names_every_field_and_stores_nothing(api: Api) -> None:
    body = {
        "events": [
            event("ok"),
            event(ip="300.1.1.1", outcome="maybe"),
            {"action": "Bad Action", "actor": {"type": "robot"}},
        ]
    }
    response = api.post(body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_event"
    found = {(d["index"], d["field"]) for d in error["details"]}
    assert {(1, "ip"), (1, "outcome"), (2, "action"), (2, "actor.type"), (2, "actor.id")} <= found
    assert api.search() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "x" * 65),
        ("id", ""),
        ("description", "d" * 1001),
        ("user_agent", "u" * 1025),
        ("context", {"blob": "x" * 70_000}),
        ("context", ["not", "an", "object"]),
        ("occurred_at", "yesterday"),
        ("occurred_at", "2026-02-30T00:00:00Z"),
        ("occurred_at", "2026-03-01T00:00:00"),
        ("actor", None),
        ("target", {"type": "user"}),
        ("resource", {"id": "r1"}),
        ("surprise", 1),
        ("action", "member.invited\n"),
    ],
)
def test_bad_fields_are_422(api: Api, field: str, value: Any) -> None:
    body = event(**{field: value})
    if value is None:
        body.pop(field)
    response = api.client.post(
        "/v1/events",
        content=__import__("orjson").dumps(body),
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code in (413, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["details"][0]["field"].split(".")[0] in (field, "actor")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"action": "a.b", "actor": {"type": "user", "id": "u"}, "context": {"x": NaN}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "u"}, "context": {"x": Infinity}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "u"}, "context": {"x": -Infinity}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "u"}, "context": {"x": 1e400}}',
        b'{"action": "a.b", "action": "c.d", "actor": {"type": "user", "id": "u"}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "u", "id": "v"}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "\\ud800"}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "\\udc00x"}}',
        b'{"action": "a.b", "actor": {"type": "user", "id": "u"}} trailing',
        b'{"action": "a.b", "actor": {"type": "user", "id": "u"},}',
        b"{'action': 'a.b'}",
        b"\xff\xfe{}",
        b'{"action": "\xc3\x28"}',
        b"",
        b"   ",
        b"[1, 2",
        b'{"context": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
        b'{"events": ' + b"[" * 33 + b"]" * 33 + b"}",
    ],
)
def test_non_strict_json_is_400(api: Api, raw: bytes) -> None:
    response = api.client.post(
        "/v1/events", content=raw, headers={**api.headers(), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"
    assert api.search() == []


def test_nesting_of_exactly_32_is_accepted(api: Api) -> None:
    context: dict[str, object] = {}
    inner = context
    for _ in range(29):  # body object, context, and 30 more levels = 32
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    assert api.post(event(context=context)).status_code == 201


def test_body_over_the_limit_is_413(api: Api) -> None:
    big = event(description="x" * 900, context={"pad": "y" * 60_000})
    response = api.post({"events": [big, big]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_body_over_the_limit_without_content_length_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"events": ['
        for _ in range(100):
            yield b'{"action": "a.b", "actor": {"type": "user", "id": "' + b"u" * 1000 + b'"}},'
        yield b"]}"

    response = api.client.post("/v1/events", content=chunks(), headers=api.headers())
    assert response.status_code == 413


def test_batch_of_more_than_1000_is_422(api: Api, settings: object) -> None:
    small = {"action": "a.b", "actor": {"type": "system"}}
    response = api.client.post(
        "/v1/events",
        content=__import__("orjson").dumps({"events": [small] * 1001}),
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "events"


def test_generated_descriptions_say_when_an_action_failed(api: Api) -> None:
    api.post(event("f1", action="auth.login", outcome="failure"))
    assert api.get("/v1/events/f1").json()["description"] == "Failed: Ann signed in"


def test_identifiers_are_stored_exactly_as_sent(api: Api) -> None:
    odd = "line\nbreak\ttab \u202e\U0001f600 'quote\""
    body = event(
        "ids",
        actor={"type": "user", "id": odd},
        resource={"type": "doc", "id": odd},
        target={"type": "user", "id": odd},
        account_id=odd,
        request_id=odd,
    )
    assert api.post(body).status_code == 201
    got = api.get("/v1/events/ids").json()
    assert (got["actor"]["id"], got["resource"]["id"], got["target"]["id"]) == (odd, odd, odd)
    assert (got["account_id"], got["request_id"]) == (odd, odd)
    assert api.search(account_id=odd) == ["ids"]
