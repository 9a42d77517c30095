"""Client against a real `sealtrail serve`: SIGKILL and restart lose and duplicate nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealtrail.client import Client, ClientStats

from .live_server import LiveServer, missing_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    reason = missing_cli()
    if reason is not None:
        pytest.skip(reason)
    server = LiveServer(tmp_path)
    try:
        yield server
    finally:
        server.kill()


TUNED: dict[str, Any] = {
    "batch_size": 50,
    "flush_interval": 0.05,
    "max_retries": None,  # keep retrying through any outage
    "backoff_base": 0.05,
    "backoff_max": 0.5,
    "timeout": 5,
}


@pytest.mark.parametrize("options", [{}, TUNED], ids=["default-settings", "tuned"])
def test_every_recorded_event_arrives_exactly_once_across_a_sigkill(
    live: LiveServer, options: dict[str, Any]
) -> None:
    key = live.create_key("acme")
    live.start()
    client = Client(live.url, key, **options)
    recorded: list[str] = []

    def record(count: int) -> None:
        start = len(recorded)
        for n in range(start, start + count):
            recorded.append(
                client.record(
                    action="document.updated",
                    actor=f"user:u_{n % 7}",
                    resource=f"document:d_{n}",
                    context={"n": n},
                )
            )

    try:
        record(2000)
        wait_until(lambda: client.stats.sent >= 500, 60, "the stream to be flowing")
        live.kill()  # mid-stream: the worker is sending the other 1500 back to back
        retried = client.stats.retried
        record(1500)  # the server is dead; record() still returns at once
        wait_until(lambda: client.stats.retried > retried, 60, "the worker to hit the dead server")
        assert client.stats.dropped == 0
        live.start()
        record(1500)
        assert client.flush(timeout=180)
    finally:
        client.close(timeout=10)

    assert client.stats == ClientStats(
        sent=len(recorded), dropped=0, retried=client.stats.retried, failed=0, queued=0
    )
    assert client.stats.retried > 0
    stored = Counter(live.event_ids(key))
    assert len(recorded) == 5000
    assert [i for i, n in stored.items() if n > 1] == []  # nothing twice
    assert set(stored) == set(recorded)  # nothing missing, nothing extra
