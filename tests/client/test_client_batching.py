"""Client: batches, flush, close, stats — against a fake server."""

from __future__ import annotations

import logging
import threading

import pytest

from sealtrail.client import ClientStats
from sealtrail.errors import ConfigurationError, InvalidEvent

from .conftest import ClientFactory, FakeServer, event


def test_events_go_in_batches_of_batch_size_in_order(
    server: FakeServer, make_client: ClientFactory
) -> None:
    client = make_client(batch_size=10, flush_interval=60)
    ids = [client.record(**event(n)) for n in range(35)]
    assert client.flush(timeout=10)
    assert server.sent_ids == ids
    assert [len(r) for r in server.requests] == [10, 10, 10, 5]
    assert client.stats == ClientStats(sent=35, dropped=0, retried=0, failed=0, queued=0)


def test_a_partial_batch_goes_after_flush_interval(
    server: FakeServer, make_client: ClientFactory
) -> None:
    client = make_client(batch_size=100, flush_interval=0.01)
    event_id = client.record(**event())
    assert server.entered.wait(10)  # no flush() call: the interval alone sent it
    assert server.sent_ids == [event_id]


def test_request_carries_the_key_and_the_events_as_recorded(
    server: FakeServer, make_client: ClientFactory
) -> None:
    client = make_client()
    event_id = client.record(
        action="auth.login", actor="user:u_1", ip="10.1.2.3", outcome="failure"
    )
    assert client.flush()
    assert server.headers[0]["authorization"] == "Bearer st_test_key"
    (sent,) = server.requests[0]
    assert sent["id"] == event_id
    assert (sent["action"], sent["ip"], sent["outcome"]) == ("auth.login", "10.1.2.3", "failure")


def test_invalid_events_raise_in_the_caller_and_are_not_queued(
    server: FakeServer, make_client: ClientFactory
) -> None:
    client = make_client()
    with pytest.raises(InvalidEvent):
        client.record(action="bad action", actor="user:u_1")
    assert client.stats.queued == 0
    assert client.flush()
    assert server.requests == []


def test_flush_with_nothing_recorded_is_true_and_starts_nothing(
    server: FakeServer, make_client: ClientFactory
) -> None:
    client = make_client()
    assert client.flush(timeout=0)
    assert client.close(timeout=0)
    assert server.requests == []


def test_flush_times_out_while_the_server_hangs(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.gate = gate = threading.Event()
    client = make_client()
    client.record(**event())
    assert not client.flush(timeout=0.05)
    gate.set()
    assert client.flush(timeout=10)
    assert client.stats.sent == 1


def test_close_drains_then_drops_later_records(
    server: FakeServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(batch_size=50, flush_interval=60)
    ids = [client.record(**event(n)) for n in range(5)]
    assert client.close(timeout=10)
    assert server.sent_ids == ids
    assert client.closed
    caplog.set_level(logging.WARNING, "sealtrail.client")
    late = client.record(**event())
    assert late not in server.sent_ids
    assert client.stats.dropped == 1
    assert "closed" in caplog.text


def test_close_gives_up_after_its_timeout_and_counts_the_rest_dropped(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.gate = threading.Event()
    client = make_client(batch_size=2)
    for n in range(6):
        client.record(**event(n))
    assert server.entered.wait(10)
    assert not client.close(timeout=0.05)
    stats = client.stats
    assert stats.queued == 0
    assert stats.dropped == 4  # all but the pair stuck in the hanging request


def test_context_manager_closes(server: FakeServer, make_client: ClientFactory) -> None:
    with make_client(flush_interval=60) as client:
        event_id = client.record(**event())
    assert client.closed
    assert server.sent_ids == [event_id]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("batch_size", 0),
        ("batch_size", 1001),
        ("max_queue", 0),
        ("on_full", "wait"),
        ("flush_interval", 0),
        ("max_retries", -1),
        ("block_timeout", -1),
    ],
)
def test_bad_settings_fail_loudly_by_name(
    make_client: ClientFactory, option: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match=option):
        make_client(**{option: value})


def test_bad_url_and_empty_key_are_refused() -> None:
    from sealtrail.client import Client

    with pytest.raises(ConfigurationError, match="base_url"):
        Client("audit.example.com", "key")
    with pytest.raises(ConfigurationError, match="api_key"):
        Client("https://audit.example.com", "")


def test_repr_does_not_show_the_key(make_client: ClientFactory) -> None:
    assert "st_test_key" not in repr(make_client())
