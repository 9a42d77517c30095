"""Done-when of issue 17: streams from a real server lose nothing and repeat nothing.

``sealtrail serve`` (a subprocess, SQLite) delivers two streams — an HTTPS webhook and
syslog over TLS to a real rsyslog — while four writers send 20,000 events, the server is
SIGKILLed and restarted twice, and the webhook answers 500 and 429 for a while
(``make stress``; ``make test`` runs the same with 5,000 events). Then each
destination holds every event of the log exactly once after dedup by id, in seq order,
with every webhook signature and every checkpoint signature valid.

A second test runs two server processes on one database: each stream's lease lets one
of them deliver it, so no delivery is ever made twice when nothing fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.settings import Settings
from tests.client.live_server import LiveServer, missing_cli, wait_until
from tests.streams.rsyslog import Rsyslog, start_rsyslog
from tests.streams.webhook_receiver import Receiver
from tests.streams.webhook_receiver import receiver as receiver  # the fixture

from .harness import (
    TENANT,
    Writers,
    log_ids,
    second_process,
    serving,
    streams_caught_up,
    syslog_events,
    syslog_records,
    webhook_events,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def rsyslog_tls(tmp_path: Path, receiver: Receiver) -> Iterator[Rsyslog]:
    """rsyslog over TLS with the webhook receiver's certificate: the server trusts one CA
    file (``stream_ca_file``)."""
    yield from start_rsyslog(tmp_path / "rsyslog", tls=receiver.cert)


def _setup(server: LiveServer) -> tuple[str, str]:
    """A tenant and an API key that may write and manage streams; the log's verifier key."""
    settings = Settings(
        database_url=server.database, signing_key_file=server.env["SEALTRAIL_SIGNING_KEY_FILE"]
    )
    log = AuditLog.open(settings=settings)
    try:
        log.create_tenant(TENANT)
        key = log.create_api_key(TENANT, "events:write,events:read,streams:manage").plain
        return key, log.verifier_key
    finally:
        log.close()


def _create(server: LiveServer, key: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(
        f"{server.url}/v1/streams", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


@pytest.mark.parametrize(
    "events",
    [5_000, pytest.param(20_000, marks=pytest.mark.stress, id="20000")],
)
def test_every_event_reaches_each_destination_once_through_kills_and_errors(
    tmp_path: Path, receiver: Receiver, rsyslog_tls: Rsyslog, events: int
) -> None:
    if (reason := missing_cli()) is not None:
        pytest.skip(reason)
    server = serving(tmp_path, receiver.cert.cert)
    server.start()
    key, vkey = _setup(server)
    # For a while the receiver answers 500 and 429 (Retry-After: 1), then once in a while.
    receiver.replies = [(500, {}), (429, {"retry-after": "1"}), (503, {})]
    for turn in range(12):
        receiver.replies += [(204, {})] * 4 + [
            (429, {"retry-after": "1"}) if turn % 2 else (500, {})
        ]
    webhook = _create(
        server,
        key,
        {"name": "siem", "destination": {"type": "webhook", "url": receiver.url}, "format": "json"},
    )
    syslog = _create(
        server,
        key,
        {
            "name": "logs",
            "destination": {
                "type": "syslog",
                "host": "localhost",
                "port": rsyslog_tls.port,
                "tls": True,
            },
            "format": "json",
        },
    )
    started = time.monotonic()
    writers = Writers(server.url, key, events).start()
    for threshold in (events // 3, 2 * events // 3):
        wait_until(_stored_at_least(writers, threshold), 120, f"{threshold} events stored")
        server.kill()
        server.start()
        print(
            f"killed and restarted at {writers.stored} events, {time.monotonic() - started:.1f} s"
        )
    writers.join(180)
    print(f"written in {time.monotonic() - started:.1f} s ({writers.retries} requests resent)")
    ids = log_ids(server.database)
    from_webhook, from_syslog = _start(webhook), _start(syslog)  # each starts at its creation
    assert len(ids) == from_syslog + 1 + events == len(set(ids))
    wait_until(lambda: streams_caught_up(server, key, len(ids)), 180, "the streams to catch up")
    print(f"delivered in {time.monotonic() - started:.1f} s")
    try:
        delivered, next_seq = webhook_events(receiver, str(webhook["secret"]), vkey, from_webhook)
        assert next_seq == len(ids)
        assert delivered == ids[from_webhook:]

        def syslog_complete() -> bool:
            seen = {
                r["sd"].get("sealtrail@32473", {}).get("id") for r in syslog_records(rsyslog_tls)
            }
            return set(ids[from_syslog:]) <= seen

        wait_until(syslog_complete, 60, "rsyslog to write every event")
        records = syslog_records(rsyslog_tls)
        assert syslog_events(records, vkey, from_syslog, len(ids)) == ids[from_syslog:]
    finally:
        server.kill()


def test_with_two_processes_exactly_one_delivers_each_stream(
    tmp_path: Path, receiver: Receiver
) -> None:
    if (reason := missing_cli()) is not None:
        pytest.skip(reason)
    first = serving(tmp_path, receiver.cert.cert, lease_seconds=30)
    first.start()
    second = second_process(first)
    second.start()
    try:
        key, vkey = _setup(first)
        made = [
            _create(
                (first, second)[n % 2],
                key,
                {
                    "name": f"siem-{n}",
                    "destination": {"type": "webhook", "url": f"{receiver.url}?n={n}"},
                    "format": "ndjson",
                },
            )
            for n in range(4)
        ]
        writers = [
            Writers(first.url, key, 1000, writers=1, prefix="a").start(),
            Writers(second.url, key, 1000, writers=1, prefix="b").start(),
        ]
        for w in writers:
            w.join(120)
        size = len(log_ids(first.database))
        assert size == _start(made[-1]) + 1 + 2000
        wait_until(lambda: streams_caught_up(first, key, size), 120, "the streams to catch up")
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(ids) == len(set(ids)), "a delivery was made twice"
        for n, stream in enumerate(made):
            mine = [
                r
                for r in receiver.received
                if r.headers["webhook-id"].startswith(f"stream:{stream['id']}-")
            ]
            ranges = sorted(
                tuple(int(x) for x in r.headers["webhook-id"].rsplit("-", 2)[1:]) for r in mine
            )
            covered = _start(stream)  # each stream starts at its own creation event
            for low, high in ranges:
                assert low == covered, (n, ranges)
                covered = high + 1
            assert covered == size
            start = _start(stream)
            delivered, _ = webhook_events(_only(receiver, mine), str(stream["secret"]), vkey, start)
            assert len(delivered) == size - start
    finally:
        first.kill()
        second.kill()


def _start(stream: dict[str, object]) -> int:
    delivery = stream["delivery"]
    assert isinstance(delivery, dict)
    start: int = delivery["next_seq"]
    return start


def _only(receiver: Receiver, requests: Sequence[Any]) -> Receiver:
    return Receiver(receiver.url, receiver.cert, list(requests))


def _stored_at_least(writers: Writers, count: int) -> Callable[[], bool]:
    return lambda: writers.stored >= count
