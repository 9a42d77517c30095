"""The bounded queue: record() never waits on the network; full means drop (or block, bounded)."""

from __future__ import annotations

import logging
import threading

import pytest

from sealtrail.client import ClientStats
from sealtrail.client._queue import WARN_EVERY, EventQueue

from .conftest import ClientFactory, FakeServer, event


def test_record_returns_while_the_server_hangs(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.gate = threading.Event()
    client = make_client(batch_size=10, max_queue=50)
    for n in range(10):
        client.record(**event(n))
    assert server.entered.wait(10)  # the worker is now stuck inside a request
    accepted = [client.record(**event(n)) for n in range(100)]
    assert len(set(accepted)) == 100  # every call came back, with its id
    assert client.stats == ClientStats(sent=0, dropped=50, retried=0, failed=0, queued=50)
    server.gate.set()
    assert client.flush(timeout=10)
    assert client.stats.sent == 60
    assert server.stored[10:] == accepted[:50]  # the first 50 got in; the rest were dropped


def test_drops_are_counted_and_warned_once_per_thousand(
    server: FakeServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "sealtrail.client")
    server.gate = threading.Event()
    client = make_client(batch_size=1, max_queue=1)
    client.record(**event())
    assert server.entered.wait(10)
    client.record(**event())  # fills the queue
    for n in range(WARN_EVERY + 1):
        client.record(**event(n))
    assert client.stats.dropped == WARN_EVERY + 1
    warnings = [r for r in caplog.records if "dropped an event" in r.getMessage()]
    assert [r.getMessage().split("(")[1].split()[0] for r in warnings] == ["1", str(WARN_EVERY + 1)]
    assert "max_queue=1" in warnings[0].getMessage()


def test_block_policy_waits_for_room_instead_of_dropping(
    server: FakeServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = threading.Event()
    wait_for_space = EventQueue._wait_for_space

    def spy(queue: EventQueue) -> bool:
        waiting.set()
        return wait_for_space(queue)

    monkeypatch.setattr(EventQueue, "_wait_for_space", spy)
    server.gate = threading.Event()
    client = make_client(batch_size=1, max_queue=1, on_full="block", block_timeout=30)
    client.record(**event(0))
    assert server.entered.wait(10)
    client.record(**event(1))  # the queue is now full
    ids: list[str] = []
    blocked = threading.Thread(target=lambda: ids.append(client.record(**event(2))))
    blocked.start()
    assert waiting.wait(10)  # the call is waiting for room, not dropping
    server.gate.set()  # the worker drains; the blocked call gets its place
    blocked.join(30)
    assert not blocked.is_alive()
    assert client.flush(timeout=10)
    assert client.stats.dropped == 0
    assert ids[0] in server.stored
    assert client.stats.sent == 3


def test_block_policy_drops_after_block_timeout(
    server: FakeServer, make_client: ClientFactory
) -> None:
    server.gate = threading.Event()
    client = make_client(batch_size=1, max_queue=1, on_full="block", block_timeout=0.01)
    client.record(**event(0))
    assert server.entered.wait(10)
    client.record(**event(1))
    late = client.record(**event(2))  # returns once block_timeout passes
    assert client.stats.dropped == 1
    server.gate.set()
    assert client.flush(timeout=10)
    assert late not in server.stored
