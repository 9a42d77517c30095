"""The SDK against a real `sealtrail serve` with a tiny write limit: it is told 429 with
Retry-After, waits as told, and every event arrives exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sealtrail.client import Client, ClientStats
from sealtrail.limits import MIN_WRITE_RATE, RATE_WINDOW

from .live_server import LiveServer, missing_cli

pytestmark = pytest.mark.slow

EVENTS = MIN_WRITE_RATE * RATE_WINDOW + 300  # a window's quota and then some


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    reason = missing_cli()
    if reason is not None:
        pytest.fail(reason)
    server = LiveServer(tmp_path, rate_limit_key_writes=str(MIN_WRITE_RATE))
    try:
        yield server
    finally:
        server.kill()


def test_a_rate_limited_client_waits_as_told_and_loses_nothing(live: LiveServer) -> None:
    key = live.create_key("acme")
    live.start()
    probe = httpx.get(
        f"{live.url}/v1/catalog", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert "RateLimit" in probe.headers
    # max_retries=1: a 429 must not spend the retry budget, or events would be dropped.
    client = Client(live.url, key, batch_size=100, flush_interval=0.05, max_retries=1)
    try:
        recorded = [
            client.record(action="document.updated", actor="user:u_1", resource=f"document:d{n}")
            for n in range(EVENTS)
        ]
        assert client.flush(timeout=240)
    finally:
        client.close(timeout=10)
    stats = client.stats
    assert stats == ClientStats(sent=EVENTS, dropped=0, retried=stats.retried, failed=0, queued=0)
    assert stats.retried > 0  # it was told to wait at least once
    stored = Counter(live.event_ids(key))
    assert [i for i, n in stored.items() if n > 1] == []
    assert set(stored) == set(recorded)
    metrics = httpx.get(f"{live.url}/metrics", timeout=30).text
    refused = 'sealtrail_http_requests_total{method="POST",route="/v1/events",status="429"}'
    assert refused in metrics  # the server did refuse, and the client came back
