"""build_event: one event from keywords and the surrounding context, checked by events' rules."""

from __future__ import annotations

import inspect
import re
import typing
from datetime import UTC, datetime, timedelta, timezone

import pytest
import uuid_utils

from sealtrail.client import AsyncClient, Client
from sealtrail.errors import InvalidEvent
from sealtrail.events import Actor, Resource, Target, parse_timestamp
from sealtrail.recording import build_event, context, current_context

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def test_minimal_event_gets_id_time_and_outcome() -> None:
    tenant, event = build_event(action="auth.login", actor="user:u_1")
    assert tenant is None
    assert event["action"] == "auth.login"
    assert event["actor"] == {"type": "user", "id": "u_1"}
    assert event["outcome"] == "success"
    assert uuid_utils.UUID(event["id"]).version == 7
    assert TIMESTAMP.match(event["occurred_at"])
    now = datetime.now(UTC)
    occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    assert abs(now - occurred) < timedelta(minutes=1)
    assert set(event) == {"id", "action", "occurred_at", "outcome", "actor"}


def test_ids_are_distinct_and_time_ordered() -> None:
    ids = [build_event(action="auth.login", actor="user:u")[1]["id"] for _ in range(200)]
    assert len(set(ids)) == 200
    assert ids == sorted(ids)


def test_every_field_is_carried() -> None:
    _, event = build_event(
        action="member.role_changed",
        actor={"type": "user", "id": "u_1", "role": "owner", "email": "ann@example.com"},
        target={"type": "user", "id": "u_2", "name": "Bob"},
        resource={"type": "workspace", "id": "ws_1", "name": "Main"},
        context={"previous": "member", "new": "admin"},
        description="Ann made Bob an admin",
        account_id="acc_1",
        ip="2001:db8::1",
        user_agent="Mozilla/5.0",
        outcome="failure",
        request_id="req-1",
        occurred_at="2026-03-01T12:00:00Z",
        id="evt_1",
    )
    assert event == {
        "id": "evt_1",
        "action": "member.role_changed",
        "occurred_at": "2026-03-01T12:00:00Z",
        "outcome": "failure",
        "actor": {"type": "user", "id": "u_1", "role": "owner", "email": "ann@example.com"},
        "target": {"type": "user", "id": "u_2", "name": "Bob"},
        "resource": {"type": "workspace", "id": "ws_1", "name": "Main"},
        "context": {"previous": "member", "new": "admin"},
        "description": "Ann made Bob an admin",
        "account_id": "acc_1",
        "ip": "2001:db8::1",
        "user_agent": "Mozilla/5.0",
        "request_id": "req-1",
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("user:u_1", {"type": "user", "id": "u_1"}),
        ("api_key:key:with:colons", {"type": "api_key", "id": "key:with:colons"}),
        ("system", {"type": "system"}),
        (
            Actor("service", "billing", name="Billing"),
            {"type": "service", "id": "billing", "name": "Billing"},
        ),
    ],
)
def test_actor_forms(given: str | Actor, expected: dict[str, str]) -> None:
    assert build_event(action="auth.login", actor=given)[1]["actor"] == expected


def test_target_and_resource_forms() -> None:
    _, event = build_event(
        action="member.invited",
        actor="system",
        target=Target("user", "u_2", email="bob@example.com"),
        resource="workspace:ws_1",
    )
    assert event["target"] == {"type": "user", "id": "u_2", "email": "bob@example.com"}
    assert event["resource"] == {"type": "workspace", "id": "ws_1"}
    _, event = build_event(action="app.created", actor="system", resource=Resource("app", "a1"))
    assert event["resource"] == {"type": "app", "id": "a1"}


@pytest.mark.parametrize("bad", ["u_1", "user:", ":u_1", ""])
def test_bad_short_forms_are_refused(bad: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        build_event(action="auth.login", actor=bad)
    assert [e.field for e in caught.value.details] == ["actor"]


def test_shares_the_servers_rules_and_names_every_bad_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        build_event(
            action="Not An Action",
            actor={"type": "robot", "id": "r"},
            ip="999.1.1.1",
            user_agent="x" * 2000,
        )
    fields = {e.field for e in caught.value.details}
    assert fields == {"action", "actor.type", "ip", "user_agent"}
    assert "ip" in caught.value.message


def test_actor_is_required_from_somewhere() -> None:
    with pytest.raises(InvalidEvent) as caught:
        build_event(action="auth.login")
    assert [e.field for e in caught.value.details] == ["actor"]


def test_occurred_at_from_an_aware_datetime_is_utc_with_microseconds() -> None:
    moment = datetime(2026, 3, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    _, event = build_event(action="auth.login", actor="system", occurred_at=moment)
    assert event["occurred_at"] == "2026-03-01T12:00:00.000005Z"
    assert parse_timestamp(event["occurred_at"]) == parse_timestamp("2026-03-01T12:00:00.000005Z")


def test_naive_datetime_and_bad_text_are_refused() -> None:
    with pytest.raises(InvalidEvent, match="timezone-aware"):
        build_event(action="auth.login", actor="system", occurred_at=datetime(2026, 3, 1))
    with pytest.raises(InvalidEvent) as caught:
        build_event(action="auth.login", actor="system", occurred_at="yesterday")
    assert [e.field for e in caught.value.details] == ["occurred_at"]


def test_context_dict_is_copied_at_record_time() -> None:
    details = {"plan": "pro"}
    _, event = build_event(action="subscription.changed", actor="system", context=details)
    details["plan"] = "free"
    assert event["context"] == {"plan": "pro"}


def test_context_supplies_fields_and_explicit_arguments_win() -> None:
    with context(
        actor="user:u_1",
        tenant="acme",
        account_id="acc_1",
        request_id="req-1",
        ip="10.0.0.1",
        user_agent="curl/8",
    ):
        tenant, event = build_event(action="auth.login")
        assert tenant == "acme"
        assert event["actor"] == {"type": "user", "id": "u_1"}
        assert (event["account_id"], event["request_id"]) == ("acc_1", "req-1")
        assert (event["ip"], event["user_agent"]) == ("10.0.0.1", "curl/8")
        _, explicit = build_event(action="auth.login", actor="user:u_9", ip="10.0.0.9")
        assert explicit["actor"] == {"type": "user", "id": "u_9"}
        assert explicit["ip"] == "10.0.0.9"
        assert explicit["request_id"] == "req-1"


def test_nested_contexts_merge_inner_wins_and_unwind() -> None:
    with context(actor="user:outer", tenant="acme", ip="10.0.0.1"):
        with context(actor="user:inner", request_id="req-2") as inner:
            assert inner.actor == {"type": "user", "id": "inner"}
            assert (inner.tenant, inner.ip, inner.request_id) == ("acme", "10.0.0.1", "req-2")
            assert current_context() is inner
        after = current_context()
        assert after.actor == {"type": "user", "id": "outer"}
        assert after.request_id is None
    assert current_context().actor is None


def test_context_is_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), context(actor="user:u_1"):
        raise RuntimeError("boom")
    assert current_context().actor is None


def test_context_rejects_a_bad_actor_when_entered() -> None:
    with pytest.raises(InvalidEvent), context(actor="nobody"):
        pass


def test_every_record_takes_the_one_set_of_fields() -> None:
    """Client, AsyncClient, AuditLog and build_event share RecordFields, written once."""
    from sealtrail.audit_log import AuditLog
    from sealtrail.recording import RecordFields

    hints = typing.get_type_hints(build_event)
    assert hints["fields"] == typing.Unpack[RecordFields]
    for method in (Client.record, AsyncClient.record, AuditLog.record):
        params = inspect.signature(method).parameters
        assert params["fields"].kind is inspect.Parameter.VAR_KEYWORD, method
        assert typing.get_type_hints(method)["fields"] == typing.Unpack[RecordFields], method
    assert (
        typing.get_type_hints(RecordFields, include_extras=True)["action"] == typing.Required[str]
    )


def test_record_refuses_an_unknown_field_by_name() -> None:
    with pytest.raises(TypeError, match="'actr'"):
        build_event(action="member.invited", actr="user:u_1")  # type: ignore[call-arg]
