"""``sealtrail.AsyncClient``: the asyncio client, whose worker is a task on the app's loop.

Why a task and not a thread: the requests go through the app's own
``httpx.AsyncClient`` and transport, on the loop that owns them, and the worker
costs nothing while idle. ``record()`` stays a plain (non-async) method so it
can be called from async code and from the threads a framework runs sync
handlers in; a call on the loop's own thread never waits (with
``on_full="block"`` it drops instead, since waiting would stall the very loop
that empties the queue).

The worker starts on the first ``record()``/``flush()`` made inside a running
loop. If that loop ends first (``asyncio.run`` returning without ``aclose()``),
the worker puts what it was sending back in the queue, the next loop to record
adopts the client, and at interpreter exit whatever is still queued is sent on
a fresh loop for up to ``shutdown_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from types import TracebackType

import httpx

from sealtrail.client._base import BaseClient
from sealtrail.client._delivery import Delivery, Pause
from sealtrail.client._queue import QueuedEvent

logger = logging.getLogger("sealtrail.client")


class AsyncClient(BaseClient[httpx.AsyncBaseTransport]):
    """Send events to a Sealtrail server from asyncio code; see ``Client`` for the model.

    Use it as ``async with AsyncClient(...) as audit:`` (e.g. in an ASGI lifespan) so
    shutdown flushes on the loop; ``record()`` is synchronous and never waits for I/O.
    """

    async def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every event recorded before this call is handled; False on timeout."""
        self._adopt_running_loop()
        queue = self._queue
        target = queue.accepted
        if queue.done >= target:
            return True
        self._flush_until = max(self._flush_until, target)
        self._wake()
        return await self._wait_done(target, timeout)

    async def aclose(self, timeout: float | None = 5.0) -> bool:
        """Send what is queued (for up to ``timeout`` seconds), then stop the worker."""
        self._adopt_running_loop()
        self._closed = True
        queue = self._queue
        queue.close()
        self._wake()
        task = self._task
        finished = True
        if task is not None and self._loop is asyncio.get_running_loop():
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                await asyncio.wait({task})
                finished = False
        elif task is not None:
            finished = await self._wait_done(queue.accepted, timeout)
        if queue.discard("aclose() timed out"):
            finished = False
        if self._http is not None and task is not None and self._loop is asyncio.get_running_loop():
            await self._http.aclose()
        return finished and queue.done >= queue.accepted

    async def __aenter__(self) -> AsyncClient:
        self._adopt_running_loop()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose(self._settings.shutdown_timeout)

    # -- binding to a loop -------------------------------------------------------

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self._generation = getattr(self, "_generation", 0) + 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._progress: asyncio.Condition | None = None
        self._http: httpx.AsyncClient | None = None  # made when a loop adopts the client

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, timeout=self._settings.timeout)

    def _adopt_running_loop(self) -> None:
        """Start the worker on the running loop, unless it already runs on a live loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        bound = self._loop
        if bound is loop or (bound is not None and bound.is_running()) or self._closed:
            return
        if self._http is None or self._transport is None:
            self._http = self._new_http()  # an old pool's connections belong to the dead loop
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Condition()
        self._task = loop.create_task(self._run(self._generation), name="sealtrail-client")

    def _prepare_put(self) -> bool:
        self._adopt_running_loop()
        return self._loop_thread is not None and threading.get_ident() != self._loop_thread

    def _queued(self, length: int) -> None:
        if length >= self._settings.batch_size:
            self._wake()

    def _wake(self) -> None:
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None or wakeup.is_set():
            return
        if threading.get_ident() == self._loop_thread:
            wakeup.set()
        else:
            # A closed loop raises; the next loop to record adopts the client.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wakeup.set)

    async def _wait_done(self, target: int, timeout: float | None) -> bool:
        queue, progress = self._queue, self._progress
        if progress is None or self._loop is not asyncio.get_running_loop():
            # The worker runs on another thread's loop: wait on the queue's own condition.
            return await asyncio.to_thread(queue.wait_done, target, timeout)
        try:
            async with asyncio.timeout(timeout), progress:
                await progress.wait_for(lambda: queue.done >= target)
        except TimeoutError:
            return False
        return True

    # -- worker ------------------------------------------------------------------

    async def _run(self, generation: int) -> None:
        queue, http = self._queue, self._http
        wakeup, progress = self._wakeup, self._progress
        assert http is not None
        assert wakeup is not None
        assert progress is not None
        batch_size, interval = self._settings.batch_size, self._settings.flush_interval
        try:
            while generation == self._generation:
                if not (self._send_now() or queue.closed):
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(interval):
                            await wakeup.wait()
                    wakeup.clear()
                batch = queue.take(batch_size)
                if batch:
                    await self._send(batch, http, wakeup)
                    async with progress:
                        progress.notify_all()
                elif queue.closed:
                    return
        except Exception:
            logger.exception("sealtrail: the client's worker stopped")

    async def _send(
        self, batch: list[QueuedEvent], http: httpx.AsyncClient, wakeup: asyncio.Event | None
    ) -> None:
        """Deliver one batch; if cancelled, put what was not finished back in the queue."""
        delivery = Delivery(
            batch,
            self._requests,
            self._policy,
            self._counters,
            self._rng,
            self._settings.max_batch_bytes,
        )
        try:
            while (request := delivery.next_request()) is not None:
                try:
                    response = await http.send(request)
                except Exception as exc:  # a network error, or a transport that raised
                    pause = delivery.on_error(exc)
                else:
                    pause = delivery.on_response(response)
                await self._wait_out(pause, wakeup)
        except asyncio.CancelledError:
            unsent = delivery.abandon()
            self._queue.put_back(unsent)
            self._queue.finish(len(batch) - len(unsent))
            raise
        self._queue.finish(len(batch))

    async def _wait_out(self, pause: Pause, wakeup: asyncio.Event | None) -> None:
        """Wait before the next request; ``wakeup`` (set by flush and close) may cut it short."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + pause.seconds
        while (now := loop.time()) < (deadline := self._cut_short(pause, now, deadline)):
            if wakeup is None:
                await asyncio.sleep(deadline - now)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - now):
                    await wakeup.wait()
            wakeup.clear()

    # -- lifecycle -----------------------------------------------------------------

    def _after_fork(self) -> None:
        self._fresh_state()

    def _at_exit(self) -> None:
        if self._closed:
            return
        timeout = self._settings.shutdown_timeout
        loop = self._loop
        if loop is not None and loop.is_running() and self._loop_thread != threading.get_ident():
            asyncio.run_coroutine_threadsafe(self.aclose(timeout), loop).result(timeout + 1)
            return
        self._closed = True
        self._queue.close()
        if len(self._queue):
            asyncio.run(self._drain(timeout))

    async def _drain(self, timeout: float) -> None:
        """Send what is left on a fresh loop (at exit, after the app's loop has ended)."""
        http = self._new_http()
        queue = self._queue
        try:
            async with asyncio.timeout(timeout):
                while batch := queue.take(self._settings.batch_size):
                    await self._send(batch, http, None)
        except TimeoutError:
            queue.discard("the interpreter exited before they were sent")
        finally:
            await http.aclose()
