"""sealtrail.context follows contextvars: asyncio tasks copy it, threads start empty."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from sealtrail.recording import build_event, context, current_context


def _actor_id() -> str | None:
    actor = current_context().actor
    return None if actor is None else actor["id"]


def test_asyncio_tasks_inherit_the_context_they_were_created_in() -> None:
    async def main() -> list[str | None]:
        with context(actor="user:parent"):
            task = asyncio.create_task(asyncio.sleep(0, result=None))
            await task
            inherited = asyncio.create_task(_read_later())
        outside = asyncio.create_task(_read_later())
        return [await inherited, await outside]

    async def _read_later() -> str | None:
        await asyncio.sleep(0)
        return _actor_id()

    assert asyncio.run(main()) == ["parent", None]


def test_concurrent_tasks_keep_their_own_contexts() -> None:
    async def worker(name: str, barrier: asyncio.Barrier) -> dict[str, str]:
        with context(actor=f"user:{name}", request_id=name):
            await barrier.wait()  # every task is inside its block before any records
            _, event = build_event(action="auth.login")
            return {"actor": event["actor"]["id"], "request_id": event["request_id"]}

    async def main() -> list[dict[str, str]]:
        barrier = asyncio.Barrier(3)
        return await asyncio.gather(*(worker(n, barrier) for n in ("a", "b", "c")))

    assert asyncio.run(main()) == [{"actor": n, "request_id": n} for n in ("a", "b", "c")]


def test_to_thread_carries_the_context() -> None:
    async def main() -> str | None:
        with context(actor="user:async"):
            return await asyncio.to_thread(_actor_id)

    assert asyncio.run(main()) == "async"


def test_a_plain_thread_starts_empty_and_copy_context_carries_it() -> None:
    seen: dict[str, str | None] = {}

    def look(key: str) -> None:
        seen[key] = _actor_id()

    with context(actor="user:main"):
        plain = threading.Thread(target=look, args=("plain",))
        copied = threading.Thread(target=contextvars.copy_context().run, args=(look, "copied"))
        plain.start()
        copied.start()
        plain.join()
        copied.join()
    assert seen == {"plain": None, "copied": "main"}


def test_threads_keep_their_own_contexts() -> None:
    barrier = threading.Barrier(4)

    def in_thread(name: str) -> tuple[str, str | None]:
        with context(actor=f"user:{name}"):
            barrier.wait()
            _, event = build_event(action="auth.login")
            return event["actor"]["id"], _actor_id()

    names = ["t0", "t1", "t2", "t3"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(in_thread, names))
    assert results == [(n, n) for n in names]
    assert _actor_id() is None
