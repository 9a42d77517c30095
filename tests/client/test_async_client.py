"""AsyncClient: the same behaviour with a worker task on the running loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx

from sealtrail.client import AsyncClient, ClientStats, context

from .conftest import AsyncClientFactory, FakeServer, event
from .fake_server import HighestDraw


def test_batches_flush_and_aclose(
    server: FakeServer, make_async_client: AsyncClientFactory
) -> None:
    async def main() -> tuple[list[str], bool]:
        async with make_async_client(batch_size=4, flush_interval=60) as client:
            ids = [client.record(**event(n)) for n in range(10)]
            assert await client.flush(timeout=10)
            assert client.stats == ClientStats(sent=10, dropped=0, retried=0, failed=0, queued=0)
            late = client.record(**event())
        return [*ids, late], client.closed

    ids, closed = asyncio.run(main())
    assert closed
    assert server.sent_ids == ids
    assert [len(r) for r in server.requests] == [4, 4, 2, 1]


def test_retries_with_the_same_ids(
    make_async_client: AsyncClientFactory, server: FakeServer
) -> None:
    server.script.extend(
        [503, httpx.ConnectError("refused"), httpx.Response(429, headers={"Retry-After": "0"})]
    )

    async def main() -> tuple[list[str], ClientStats]:
        client = make_async_client(batch_size=3)
        ids = [client.record(**event(n)) for n in range(3)]
        assert await client.aclose(timeout=10)
        return ids, client.stats

    ids, stats = asyncio.run(main())
    assert [[e["id"] for e in r] for r in server.requests] == [ids] * 4
    assert server.stored == ids
    assert stats == ClientStats(sent=3, dropped=0, retried=3, failed=0, queued=0)


def test_record_from_a_worker_thread_wakes_the_loop(
    server: FakeServer, make_async_client: AsyncClientFactory
) -> None:
    async def main() -> list[str]:
        client = make_async_client(batch_size=5, flush_interval=60)
        client.record(**event())  # binds the worker to this loop
        ids = await asyncio.to_thread(lambda: [client.record(**event(n)) for n in range(4)])
        await asyncio.wait_for(_until(lambda: len(server.requests) == 1), 10)  # no flush() call
        await client.aclose()
        return ids

    ids = asyncio.run(main())
    assert server.sent_ids[1:] == ids


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.001)


def test_record_never_waits_for_a_hanging_server() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        await release.wait()
        return httpx.Response(201)

    async def main() -> ClientStats:
        client = AsyncClient(
            "http://sealtrail.test",
            "k",
            transport=httpx.MockTransport(hang),
            batch_size=1,
            max_queue=5,
            on_full="block",
            block_timeout=30,
        )
        client.record(**event())
        await asyncio.wait_for(entered.wait(), 10)
        for n in range(20):  # on the loop's own thread "block" would deadlock; it drops
            client.record(**event(n))
        stats = client.stats
        release.set()
        assert await client.aclose(timeout=10)
        return stats

    assert asyncio.run(main()) == ClientStats(sent=0, dropped=15, retried=0, failed=0, queued=5)


def test_aclose_times_out_and_counts_the_rest_dropped() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def main() -> tuple[bool, ClientStats]:
        client = AsyncClient(
            "http://sealtrail.test", "k", transport=httpx.MockTransport(hang), batch_size=2
        )
        for n in range(6):
            client.record(**event(n))
        await asyncio.sleep(0)
        closed = await client.aclose(timeout=0.05)
        return closed, client.stats

    closed, stats = asyncio.run(main())
    assert not closed
    assert stats == ClientStats(sent=0, dropped=6, retried=0, failed=0, queued=0)


def test_what_a_finished_loop_left_behind_is_sent_at_exit(server: FakeServer) -> None:
    first = threading.Event()

    async def stall_once(request: httpx.Request) -> httpx.Response:
        if not first.is_set():
            first.set()
            await asyncio.Event().wait()  # cancelled when asyncio.run ends
        return server(request)

    client = AsyncClient(
        "http://sealtrail.test",
        "k",
        transport=httpx.MockTransport(stall_once),
        batch_size=2,
        flush_interval=60,
    )

    async def main() -> list[str]:
        ids = [client.record(**event(n)) for n in range(3)]
        while not first.is_set():
            await asyncio.sleep(0)
        return ids  # returns with two events in flight and one queued, no aclose()

    ids = asyncio.run(main())
    assert client.stats.queued == 3  # the in-flight pair was put back, in order
    client._at_exit()  # what the atexit hook does
    assert server.stored == ids
    assert client.stats == ClientStats(sent=3, dropped=0, retried=0, failed=0, queued=0)


def test_context_reaches_events_recorded_in_tasks(
    server: FakeServer, make_async_client: AsyncClientFactory
) -> None:
    async def handler(client: AsyncClient, user: str) -> None:
        with context(actor=f"user:{user}", request_id=f"req-{user}"):
            await asyncio.sleep(0)
            await asyncio.create_task(asyncio.to_thread(client.record, action="auth.login"))

    async def main() -> None:
        async with make_async_client() as client:
            await asyncio.gather(*(handler(client, u) for u in ("ann", "bob")))

    asyncio.run(main())
    sent = sorted((e["actor"]["id"], e["request_id"]) for r in server.requests for e in r)
    assert sent == [("ann", "req-ann"), ("bob", "req-bob")]


def test_a_flush_cuts_our_own_backoff_short(
    server: FakeServer, make_async_client: AsyncClientFactory
) -> None:
    server.script.append(503)

    async def main() -> ClientStats:
        client = make_async_client(backoff_base=60, backoff_max=60)
        client._rng = HighestDraw()  # the backoff is the full 60 s
        client.record(**event())
        assert await client.flush(timeout=10)  # retried within a second of the flush
        await client.aclose()
        return client.stats

    assert asyncio.run(main()) == ClientStats(sent=1, dropped=0, retried=1, failed=0, queued=0)
