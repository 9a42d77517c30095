"""``sealtrail.Client``: the synchronous client, whose worker is a daemon thread."""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import httpx

from sealtrail.client._base import BaseClient
from sealtrail.client._delivery import Delivery, Pause
from sealtrail.client._queue import QueuedEvent

logger = logging.getLogger("sealtrail.client")

_ABORT_GRACE = 0.5  # seconds close() waits, after giving up, for the worker to stop


class Client(BaseClient[httpx.BaseTransport]):
    """Send events to a Sealtrail server in the background.

    ``record()`` validates an event and queues it; a daemon thread, started on
    the first ``record()``, posts batches of up to ``batch_size`` events to
    ``POST /v1/events`` as soon as a batch is full or ``flush_interval`` seconds
    have passed. ``flush()`` waits for what was recorded so far, ``close()``
    drains and stops; both are bounded by a timeout, and while either waits a
    retry backoff is cut to at most a second (a server's ``Retry-After`` still
    holds). Anything still queued when the interpreter exits gets
    ``shutdown_timeout`` seconds to go out. After ``os.fork()`` the child starts
    with an empty queue, its own worker and its own connection pool (an injected
    ``transport`` is reused and must itself survive a fork); the parent carries
    on untouched.
    """

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every event recorded before this call is handled; False on timeout.

        Handled means acknowledged by the server, refused by it, or given up; see
        ``stats`` for which. Partial batches are sent at once while a flush waits.
        """
        queue = self._queue
        target = queue.accepted
        if queue.done >= target:
            return True
        self._flush_until = max(self._flush_until, target)
        self._wakeup.set()
        return queue.wait_done(target, timeout)

    def close(self, timeout: float | None = 5.0) -> bool:
        """Send what is queued (for up to ``timeout`` seconds), then stop.

        Later ``record()`` calls drop their events. Returns True when everything
        recorded was handled; what could not be sent in time is counted as dropped.
        After a timeout it waits up to half a second more for the worker to stop
        (it stops at once unless a request is in flight; that one may still land).
        """
        with self._start_lock:
            self._closed = True
            worker = self._worker
        queue = self._queue
        queue.close()
        self._wakeup.set()
        if worker is None:
            return len(queue) == 0
        worker.join(timeout)
        if worker.is_alive():
            self._abort.set()
            self._wakeup.set()
            queue.discard("close() timed out")
            worker.join(_ABORT_GRACE)  # a worker in a backoff wait accounts for its batch
            return False
        return queue.done >= queue.accepted

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(self._settings.shutdown_timeout)

    # -- worker ------------------------------------------------------------------

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self._wakeup = threading.Event()
        self._abort = threading.Event()
        self._start_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._worker_ident: int | None = None

    def _prepare_put(self) -> bool:
        return threading.get_ident() != self._worker_ident

    def _queued(self, length: int) -> None:
        if self._worker is None:
            self._start_worker()
        if length >= self._settings.batch_size and not self._wakeup.is_set():
            self._wakeup.set()

    def _start_worker(self) -> None:
        with self._start_lock:
            if self._worker is None and not self._closed:
                self._worker = threading.Thread(
                    target=self._run, name="sealtrail-client", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        self._worker_ident = threading.get_ident()
        queue, wakeup, abort = self._queue, self._wakeup, self._abort
        http = httpx.Client(transport=self._transport, timeout=self._settings.timeout)
        batch_size, interval = self._settings.batch_size, self._settings.flush_interval
        try:
            while not abort.is_set():
                if not (self._send_now() or queue.closed):
                    wakeup.wait(interval)
                    wakeup.clear()
                batch = queue.take(batch_size)
                if batch:
                    try:
                        self._deliver(batch, http)
                    finally:
                        queue.finish(len(batch))
                elif queue.closed:
                    break
        except Exception:
            logger.exception("sealtrail: the client's worker stopped")
        finally:
            http.close()

    def _deliver(self, batch: list[QueuedEvent], http: httpx.Client) -> None:
        delivery = Delivery(
            batch,
            self._requests,
            self._policy,
            self._counters,
            self._rng,
            self._settings.max_batch_bytes,
        )
        while (request := delivery.next_request()) is not None:
            try:
                response = http.send(request)
            except Exception as exc:  # a network error, or a transport that raised
                pause = delivery.on_error(exc)
            else:
                pause = delivery.on_response(response)
            if not self._wait_out(pause):
                self._queue.add_dropped(len(delivery.abandon()))
                return

    def _wait_out(self, pause: Pause) -> bool:
        """Wait before the next request; False when ``close()`` gave up meanwhile."""
        abort, wakeup = self._abort, self._wakeup
        deadline = time.monotonic() + pause.seconds
        while not abort.is_set():
            now = time.monotonic()
            deadline = self._cut_short(pause, now, deadline)
            if now >= deadline:
                return True
            wakeup.wait(deadline - now)  # set by flush(), close() and full batches
            wakeup.clear()
        return False

    # -- lifecycle -----------------------------------------------------------------

    def _after_fork(self) -> None:
        self._fresh_state()

    def _at_exit(self) -> None:
        if not self._closed:
            self.close(self._settings.shutdown_timeout)
