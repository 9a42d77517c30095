"""Client: what it does with each kind of answer, end to end through the worker thread."""

from __future__ import annotations

import logging
from collections import Counter

import httpx
import pytest

from sealtrail.client import ClientStats

from .conftest import ClientFactory, FakeServer, event
from .fake_server import HighestDraw


def test_5xx_and_429_are_retried_with_the_same_ids_and_store_once(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.script.extend([503, httpx.Response(429, headers={"Retry-After": "0"}), 500])
    client = make_client(batch_size=5, flush_interval=60)
    ids = [client.record(**event(n)) for n in range(5)]
    assert client.flush(timeout=10)
    assert [[e["id"] for e in r] for r in server.requests] == [ids] * 4
    assert Counter(server.stored) == Counter(ids)
    assert client.stats == ClientStats(sent=5, dropped=0, retried=3, failed=0, queued=0)


def test_retry_after_is_honoured_even_while_a_flush_waits(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.script.append(httpx.Response(503, headers={"Retry-After": "60"}))
    client = make_client()
    client.record(**event())
    assert not client.flush(timeout=0.3)  # the server asked for a minute
    assert client.stats.retried == 1
    assert not client.close(timeout=0)  # interrupts the wait: the event is given up
    assert client.stats == ClientStats(sent=0, dropped=1, retried=1, failed=0, queued=0)


def test_a_flush_cuts_our_own_backoff_short(server: FakeServer, make_client: ClientFactory) -> None:
    server.script.append(503)
    client = make_client(backoff_base=60, backoff_max=60)
    client._rng = HighestDraw()  # the backoff is the full 60 s
    client.record(**event())
    assert client.flush(timeout=10)  # retried within a second of the flush
    assert client.stats == ClientStats(sent=1, dropped=0, retried=1, failed=0, queued=0)


def test_network_errors_are_retried(server: FakeServer, make_client: ClientFactory) -> None:
    server.script.extend([httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
    client = make_client()
    event_id = client.record(**event())
    assert client.flush(timeout=10)
    assert server.sent_ids == [event_id] * 3
    assert server.stored == [event_id]
    assert client.stats == ClientStats(sent=1, dropped=0, retried=2, failed=0, queued=0)


def test_a_transport_that_raises_anything_does_not_kill_the_worker(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.script.append(RuntimeError("a broken transport"))
    client = make_client()
    client.record(**event())
    assert client.flush(timeout=10)
    assert client.stats.sent == 1


def test_out_of_retries_the_batch_fails_and_later_events_still_go(
    server: FakeServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server.script.extend([503, 503, 503])
    client = make_client(max_retries=2, batch_size=2, flush_interval=60)
    lost = [client.record(**event(n)) for n in range(2)]
    assert client.flush(timeout=10)
    kept = client.record(**event())
    assert client.flush(timeout=10)
    assert client.stats == ClientStats(sent=1, dropped=0, retried=2, failed=2, queued=0)
    assert server.stored == [kept]
    assert lost[0] in caplog.text


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_client_errors_drop_the_batch_without_retrying(
    server: FakeServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.ERROR, "sealtrail.client")
    server.script.append(status)
    client = make_client(batch_size=3, flush_interval=60)
    for n in range(3):
        client.record(**event(n))
    assert client.flush(timeout=10)
    assert len(server.requests) == 1
    assert client.stats == ClientStats(sent=0, dropped=0, retried=0, failed=3, queued=0)
    assert f"HTTP {status}" in caplog.text


def test_a_422_names_the_bad_events_and_the_rest_are_stored(
    server: FakeServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    details = [{"index": 1, "field": "action", "message": "is not a registered event type"}]
    server.script.append(
        httpx.Response(
            422, json={"error": {"code": "invalid_event", "message": "no", "details": details}}
        )
    )
    client = make_client(batch_size=3, flush_interval=60)
    ids = [client.record(**event(n)) for n in range(3)]
    assert client.flush(timeout=10)
    assert server.stored == [ids[0], ids[2]]
    assert client.stats == ClientStats(sent=2, dropped=0, retried=0, failed=1, queued=0)
    assert f"{ids[1]}: action is not a registered event type" in caplog.text
