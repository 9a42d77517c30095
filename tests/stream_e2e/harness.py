"""A real ``sealtrail serve`` delivering streams, concurrent writers, and what receivers got.

The receivers' checks are the documented receiver (docs/streams.md) for webhooks, and,
for syslog, the messages rsyslog wrote: every event once after dedup by id, in seq
order, and batch messages whose signed checkpoints verify and whose ranges cover the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson

from sealtrail.ledger import open_checkpoint, parse_vkey
from sealtrail.store import open_store
from tests.client.live_server import LiveServer
from tests.streams.docs_example import receiver_example
from tests.streams.rsyslog import Rsyslog
from tests.streams.webhook_receiver import Receiver

TENANT = "acme"


def serving(workdir: Path, ca_file: Path, lease_seconds: int = 3) -> LiveServer:
    server = LiveServer(workdir)
    server.env["SEALTRAIL_STREAM_CA_FILE"] = str(ca_file)
    server.env["SEALTRAIL_STREAM_LEASE_SECONDS"] = str(lease_seconds)
    server.env["SEALTRAIL_STREAM_ALLOW_PRIVATE_DESTINATIONS"] = "true"  # local receivers
    return server


def second_process(first: LiveServer) -> LiveServer:
    """Another ``serve`` on the same database and signing key, on its own port."""
    other = LiveServer(first.workdir)
    other.env = dict(first.env)
    other.log_path = first.workdir / "serve-2.log"
    return other


class Writers:
    """``count`` events from ``writers`` threads, 100 a request, resent until stored."""

    def __init__(self, url: str, key: str, count: int, writers: int = 4, prefix: str = "w") -> None:
        self.url = url
        self.prefix = prefix
        self.key = key
        self.count = count
        self.writers = writers
        self.stored = 0
        self.retries = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._write, args=(w,), daemon=True) for w in range(writers)
        ]

    def start(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), "the writers did not finish"

    def _write(self, writer: int) -> None:
        mine = self.count // self.writers
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as http:
            for first in range(0, mine, 100):
                events = [
                    {
                        "id": f"{self.prefix}{writer}_{i}",
                        "action": ("member.invited", "auth.login", "app.published")[i % 3],
                        "actor": {"type": "user", "id": f"u_{i % 11}", "email": f"u{i % 11}@x.io"},
                        "context": {"writer": writer, "i": i},
                    }
                    for i in range(first, min(mine, first + 100))
                ]
                while True:
                    try:
                        response = http.post("/v1/events", json={"events": events})
                        if response.status_code == 201:
                            break
                    except httpx.TransportError:
                        pass
                    with self._lock:
                        self.retries += 1
                    time.sleep(0.1)
                with self._lock:
                    self.stored += len(events)


def log_ids(database: str) -> list[str]:
    """Every event id of the tenant's log, in seq order."""
    store = open_store(database)
    try:
        ids = []
        for chunk in store.scan(TENANT):
            ids += [event.id for event, _ in chunk]
        return ids
    finally:
        store.close()


def streams_caught_up(server: LiveServer, key: str, size: int) -> bool:
    try:
        answer = httpx.get(
            f"{server.url}/v1/streams", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
    except httpx.TransportError:
        return False
    if answer.status_code != 200:
        return False
    streams = answer.json()["streams"]
    failing = [s for s in streams if s["status"] == "failing"]
    assert not failing, f"a stream is failing: {failing}"
    return all(s["delivery"]["next_seq"] >= size for s in streams)


def webhook_events(
    receiver: Receiver, secret: str, vkey: str, start: int = 0
) -> tuple[list[str], int]:
    """The events the documented receiver accepted (their ids, in order) and its next seq.

    It verifies each signature and checkpoint, refuses a gap and drops redeliveries.
    """
    example = receiver_example(WEBHOOK_SECRET=secret, VERIFIER_KEY=vkey)
    accepting = example["Receiver"](TENANT)
    accepting.next_seq = start  # the stream was created at this seq
    ids: list[str] = []
    for request in list(receiver.received):
        ids += [event["id"] for event in accepting.webhook(request.body, request.headers)]
    return ids, accepting.next_seq


def syslog_records(rsyslog: Rsyslog) -> list[dict[str, Any]]:
    lines = rsyslog.out.read_text("utf-8").splitlines() if rsyslog.out.exists() else []
    records = []
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line rsyslog is writing now
        record["sd"] = orjson.loads(record["sd"]) if record["sd"] else {}
        records.append(record)
    return records


def syslog_events(records: Sequence[dict[str, Any]], vkey: str, start: int, size: int) -> list[str]:
    """Event ids in the order first seen (dedup by id); every batch message's checkpoint
    verifies and the batches' ranges cover seqs start..size-1."""
    verifier = parse_vkey(vkey)
    seen: dict[str, int] = {}
    ranges: list[tuple[int, int]] = []
    for record in records:
        if record["msgid"] == "event":
            event = orjson.loads(record["msg"].removeprefix("\ufeff"))
            seen.setdefault(event["id"], event["seq"])
        elif record["msgid"] == "batch":
            header = orjson.loads(record["msg"])
            checkpoint, _ = open_checkpoint(
                header["checkpoint"], origin=f"sealtrail/{TENANT}", log_verifier=verifier
            )
            assert checkpoint.size > header["last_seq"]
            ranges.append((header["first_seq"], header["last_seq"]))
    covered = start
    for first, last in sorted(ranges):
        assert first <= covered, f"no batch covers seq {covered}"
        covered = max(covered, last + 1)
    assert covered >= size, (covered, size)
    seqs = list(seen.values())
    assert seqs == sorted(seqs), "syslog events out of seq order"
    return list(seen)
