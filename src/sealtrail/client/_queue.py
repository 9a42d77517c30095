"""The bounded hand-off between the callers of ``record()`` and the one worker.

Callers append from any thread and are never made to wait unless the policy
is ``"block"``; the worker takes batches without waiting. Counters live here,
under the queue's lock: ``accepted`` (every event that got in) and ``done``
(every event the worker has finished with, whatever became of it) let
``flush()`` wait for exactly the events recorded before it was called.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Literal, NamedTuple

logger = logging.getLogger("sealtrail.client")

OnFull = Literal["drop", "block"]
WARN_EVERY = 1000


class QueuedEvent(NamedTuple):
    """One event, serialised at record time so later mutation cannot change it."""

    id: str
    body: bytes


class EventQueue:
    """A FIFO of at most ``max_size`` events with a drop-or-block policy when full."""

    def __init__(self, max_size: int, on_full: OnFull, block_timeout: float) -> None:
        self.max_size = max_size
        self.on_full = on_full
        self.block_timeout = block_timeout
        self._items: deque[QueuedEvent] = deque()
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self.accepted = 0
        self.done = 0
        self.dropped = 0
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: QueuedEvent, *, may_block: bool) -> int | None:
        """Append ``item``; return the new length, or None when it was dropped."""
        with self._lock:
            if self.closed:
                self._drop("the client is closed")
                return None
            if len(self._items) >= self.max_size and not (
                self.on_full == "block" and may_block and self._wait_for_space()
            ):
                self._drop(f"the queue is full (max_queue={self.max_size})")
                return None
            self._items.append(item)
            self.accepted += 1
            return len(self._items)

    def take(self, limit: int) -> list[QueuedEvent]:
        """Remove and return up to ``limit`` events from the front, without waiting."""
        with self._lock:
            count = min(limit, len(self._items))
            batch = [self._items.popleft() for _ in range(count)]
            if batch and self.on_full == "block":
                self._space.notify(len(batch))
            return batch

    def put_back(self, items: list[QueuedEvent]) -> None:
        """Return events the worker took but could not finish to the front, in order."""
        with self._lock:
            self._items.extendleft(reversed(items))

    def finish(self, count: int) -> None:
        """The worker is done with ``count`` more events (sent, refused or abandoned)."""
        with self._lock:
            self.done += count
            self._progress.notify_all()

    def wait_done(self, target: int, timeout: float | None) -> bool:
        """Wait until the first ``target`` accepted events are done."""
        with self._lock:
            return self._progress.wait_for(lambda: self.done >= target, timeout)

    def close(self) -> None:
        """Refuse further events; what is queued stays for the worker to drain."""
        with self._lock:
            self.closed = True
            self._space.notify_all()

    def discard(self, reason: str) -> int:
        """Drop everything still queued (counted), e.g. when ``close()`` runs out of time."""
        with self._lock:
            count = len(self._items)
            self._items.clear()
            if count:
                self.dropped += count
                self.done += count
                logger.warning("sealtrail: dropped %d queued events: %s", count, reason)
                self._progress.notify_all()
            return count

    def add_dropped(self, count: int) -> None:
        with self._lock:
            self.dropped += count

    def _wait_for_space(self) -> bool:
        return (
            self._space.wait_for(
                lambda: self.closed or len(self._items) < self.max_size, self.block_timeout
            )
            and not self.closed
        )

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        if self.dropped % WARN_EVERY == 1:
            logger.warning("sealtrail: dropped an event (%d so far): %s", self.dropped, reason)
