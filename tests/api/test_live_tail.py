"""The live tail: ``AuditLog.tail`` and ``GET /v1/events/stream`` on a real server.

The HTTP tests run the app in uvicorn on a loopback port (Server-Sent Events need a
real connection that stays open) and read the stream with httpx as a client would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import PermissionDenied
from sealtrail.events import Actor
from sealtrail.query import EventQuery, parse_phrase
from sealtrail.server import tail as live_tail
from sealtrail.server.app import create_app
from sealtrail.settings import Settings
from tests.keys import quiet_api_key

from ..client.live_server import free_port, wait_until
from .conftest import event

EVERYTHING = EventQuery()


def _record(log: AuditLog, *bodies: dict[str, Any], tenant: str = "acme") -> list[int]:
    principal = log.authenticate_api_key(quiet_api_key(log.database_url, tenant, "events:write"))
    return [r.seq for r in log.ingest(principal, {"events": list(bodies)})]


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'tail.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
    )
    audit_log = AuditLog.open(settings=settings)
    audit_log.migrate()
    audit_log.create_tenant("acme")
    audit_log.create_tenant("globex")
    yield audit_log
    audit_log.close()


def _reader(log: AuditLog, **fields: Any) -> Principal:
    return Principal("acme", "api_key", Actor("api_key", "key_test"), **fields)


def test_a_tail_without_a_start_begins_at_the_end_of_the_log(log: AuditLog) -> None:
    _record(log, event("old-1"), event("old-2"))
    first = log.tail(_reader(log), EVERYTHING)
    assert (first.events, first.last_seq, first.caught_up) == ((), 1, True)
    _record(log, event("new-1"))
    after = log.tail(_reader(log), EVERYTHING, first.last_seq)
    assert [e.id for e in after.events] == ["new-1"]
    assert (after.last_seq, after.caught_up) == (2, True)


def test_a_tail_keeps_what_the_filters_and_the_accounts_select(log: AuditLog) -> None:
    _record(
        log,
        event("a", action="auth.login", account_id="acc_1"),
        event("b", action="member.invited", account_id="acc_1"),
        event("c", action="auth.login", account_id="acc_2"),
        event("d", action="auth.login"),
    )
    _record(log, event("other-tenant", action="auth.login"), tenant="globex")
    logins = parse_phrase("action:auth.login")
    assert [e.id for e in log.tail(_reader(log), logins, -1).events] == ["a", "c", "d"]
    account = _reader(log, accounts=frozenset({"acc_1"}))
    assert [e.id for e in log.tail(account, logins, -1).events] == ["a"]


def test_a_tail_reads_in_bounded_looks_and_says_when_it_caught_up(log: AuditLog) -> None:
    _record(log, *(event(f"e{i}") for i in range(7)))
    looks, after = [], -1
    while True:
        tail = log.tail(_reader(log), EVERYTHING, after, limit=3)
        looks.append([e.id for e in tail.events])
        after = tail.last_seq
        if tail.caught_up:
            break
    assert looks == [["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6"]]


def test_a_tail_needs_the_read_scope(log: AuditLog) -> None:
    with pytest.raises(PermissionDenied):
        log.tail(_reader(log, scopes=frozenset({"events:write"})), EVERYTHING)


# -- over HTTP ------------------------------------------------------------------------
@dataclass
class Served:
    url: str
    log: AuditLog
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, tenant: str = "acme", scopes: str = "events:write,events:read") -> str:
        name = f"{tenant}:{scopes}"
        if name not in self.keys:
            self.keys[name] = quiet_api_key(self.log.database_url, tenant, scopes)
        return self.keys[name]

    def headers(self, tenant: str = "acme", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(tenant)}", **extra}

    def record(self, *bodies: dict[str, Any], tenant: str = "acme") -> list[int]:
        response = httpx.post(
            f"{self.url}/v1/events", json={"events": list(bodies)}, headers=self.headers(tenant)
        )
        assert response.status_code == 201, response.text
        return [e["seq"] for e in response.json()["events"]]


@pytest.fixture
def served(log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setattr(live_tail, "REAUTHENTICATE_SECONDS", 0.2)
    settings = Settings(
        database_url=log.database_url,
        signing_key_file=str(tmp_path / "signing.key"),
        detections=False,  # their alert events would join the tails these tests read exactly
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(log, settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, "uvicorn to start")
    yield Served(f"http://127.0.0.1:{port}", log)
    server.should_exit = True
    thread.join(10)


class Messages:
    """Reads one SSE response message by message (blank-line separated fields)."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> dict[str, str]:
        message: dict[str, str] = {}
        for line in self.lines:
            if line == "":
                if message:
                    return message
                continue
            if line.startswith(":"):
                continue  # a ping
            name, _, value = line.partition(":")
            message[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    def events(self, count: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < count:
            message = self.next()
            if message.get("event") == "event":
                body = json.loads(message["data"])
                assert str(body["seq"]) == message["id"]
                out.append(body)
        return out


def _stream(served: Served, headers: dict[str, str] | None = None, **params: str) -> Any:
    return httpx.stream(
        "GET",
        f"{served.url}/v1/events/stream",
        params=params,
        headers=headers or served.headers(),
        timeout=httpx.Timeout(10.0),
    )


def test_new_matching_events_arrive_as_server_sent_events(served: Served) -> None:
    served.record(event("before", action="auth.login"))
    with _stream(served, action="auth.login") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        messages = Messages(response)
        served.record(
            event("skip-1"),
            event("login-1", action="auth.login"),
            event("skip-2"),
            event("login-2", action="auth.login"),
        )
        got = messages.events(2)
    assert [e["id"] for e in got] == ["login-1", "login-2"]
    assert got[0]["action"] == "auth.login" and got[0]["actor"]["email"] == "ann@example.com"


def test_last_event_id_resumes_right_after_it_with_nothing_skipped_or_repeated(
    served: Served,
) -> None:
    seqs = served.record(*(event(f"e{i}") for i in range(6)))
    with _stream(served, served.headers(**{"Last-Event-ID": str(seqs[2])})) as response:
        assert [e["id"] for e in Messages(response).events(3)] == ["e3", "e4", "e5"]
    with _stream(served, after_seq="-1") as response:
        assert [e["id"] for e in Messages(response).events(6)] == [f"e{i}" for i in range(6)]


def test_events_the_filters_leave_out_still_move_the_last_id(served: Served) -> None:
    with _stream(served, action="auth.login") as response:
        messages = Messages(response)
        seqs = served.record(event("skipped-1"), event("skipped-2"))
        while (message := messages.next()).get("id") != str(seqs[-1]):
            assert message.get("event") != "event"
        assert "data" not in message


def test_another_tenants_events_never_reach_the_tail(served: Served) -> None:
    with _stream(served) as response:
        messages = Messages(response)
        served.record(event("theirs"), tenant="globex")
        served.record(event("ours"))
        assert [e["id"] for e in messages.events(1)] == ["ours"]


def test_a_revoked_key_ends_the_open_tail(served: Served) -> None:
    created = served.log.create_api_key("acme", "events:read")
    headers = {"Authorization": f"Bearer {created.plain}"}
    with _stream(served, headers) as response:
        assert response.status_code == 200
        served.log.revoke_api_key(created.record.id)
        started = time.monotonic()
        for _ in response.iter_lines():
            assert time.monotonic() - started < 10, "the tail outlived its key"
    # the loop ended: the server closed the stream


@pytest.mark.parametrize(
    ("params", "headers", "field_name"),
    [
        ({"limit": "5"}, {}, "limit"),
        ({"order": "asc"}, {}, "order"),
        ({"after_seq": "x"}, {}, "after_seq"),
        ({"after_seq": "-2"}, {}, "after_seq"),
        ({"after_seq": str(2**63)}, {}, "after_seq"),  # past any seq: found by the fuzzer
        ({}, {"Last-Event-ID": "abc"}, "Last-Event-ID"),
        ({}, {"Last-Event-ID": str(2**63)}, "Last-Event-ID"),
        ({"colour": "red"}, {}, "colour"),
    ],
)
def test_bad_tail_requests_are_refused_with_one_line(
    served: Served, params: dict[str, str], headers: dict[str, str], field_name: str
) -> None:
    response = httpx.get(
        f"{served.url}/v1/events/stream", params=params, headers=served.headers(**headers)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["parameter"] == field_name and "\n" not in error["message"]


def test_the_tail_needs_a_credential_with_the_read_scope(served: Served) -> None:
    assert httpx.get(f"{served.url}/v1/events/stream").status_code == 401
    writer = served.log.create_api_key("acme", "events:write").plain
    response = httpx.get(
        f"{served.url}/v1/events/stream", headers={"Authorization": f"Bearer {writer}"}
    )
    assert response.status_code == 403
