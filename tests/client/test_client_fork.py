"""After os.fork() the child has its own empty queue, worker and pool; the parent is untouched."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from sealtrail.client import AsyncClient, Client

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _ledger_transport(path: Path) -> httpx.MockTransport:
    """Appends "<pid> <event id>" per received event to a file both processes can see."""

    def handle(request: httpx.Request) -> httpx.Response:
        events = orjson.loads(request.content)["events"]
        with path.open("a") as ledger:
            ledger.writelines(f"{os.getpid()} {e['id']}\n" for e in events)
        return httpx.Response(201)

    return httpx.MockTransport(handle)


def _received(path: Path) -> dict[int, list[str]]:
    by_pid: dict[int, list[str]] = {}
    for line in path.read_text().splitlines():
        pid, event_id = line.split()
        by_pid.setdefault(int(pid), []).append(event_id)
    return by_pid


def _run_child(body: Callable[[], bool]) -> int:
    """Fork; run ``body()`` (returning bool) in the child; return the child's pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits without pytest
        code = 1
        try:
            code = 0 if body() else 3
        finally:
            os._exit(code)
    return pid


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_forked_child_records_and_flushes_on_its_own(tmp_path: Path) -> None:
    ledger = tmp_path / "received.txt"
    client = Client(
        "http://sealtrail.test", "key", transport=_ledger_transport(ledger), flush_interval=60
    )
    parent_ids = [client.record(action="job.created", actor="system") for _ in range(3)]
    assert client.stats.queued == 3  # queued in the parent, its worker waiting
    child_ids: list[str] = []

    def child() -> bool:
        fresh = client.stats.queued == 0 and client.stats.sent == 0
        child_ids.extend(client.record(action="job.completed", actor="system") for _ in range(2))
        flushed = client.flush(timeout=10)
        return fresh and flushed and client.stats.sent == 2

    pid = _run_child(child)
    assert _wait(pid) == 0
    assert client.stats.queued == 3  # the parent's queue is untouched
    assert client.flush(timeout=10)
    assert client.close(timeout=5)
    received = _received(ledger)
    assert received[os.getpid()] == parent_ids
    assert len(received[pid]) == 2
    assert not set(received[pid]) & set(parent_ids)


def test_forked_child_of_an_async_client_starts_empty(tmp_path: Path) -> None:
    ledger = tmp_path / "received.txt"
    client = AsyncClient(
        "http://sealtrail.test", "key", transport=_ledger_transport(ledger), flush_interval=60
    )
    parent_id = client.record(action="job.created", actor="system")  # no loop yet: queued

    def child() -> bool:
        async def main() -> bool:
            client.record(action="job.completed", actor="system")
            return await client.flush(timeout=10)

        fresh = client.stats.queued == 0
        return fresh and asyncio.run(main()) and client.stats.sent == 1

    pid = _run_child(child)
    assert _wait(pid) == 0

    async def parent() -> bool:
        return await client.aclose(timeout=10)

    assert asyncio.run(parent())
    received = _received(ledger)
    assert received[os.getpid()] == [parent_id]
    assert len(received[pid]) == 1
