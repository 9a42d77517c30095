"""What ``Client`` and ``AsyncClient`` share: settings, ``record()``, stats, lifecycle.

The subclasses add only I/O: a worker (a thread, or an asyncio task) that takes
batches from the :class:`EventQueue` and drives a ``Delivery`` over their own
httpx client. Every live client is flushed at interpreter exit and given a
fresh queue, worker and connection pool in the child after ``os.fork()``.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import logging
import os
import weakref
from dataclasses import dataclass
from random import Random
from typing import Any, Generic, Literal, TypeVar, Unpack
from urllib.parse import urlsplit

import orjson

from sealtrail.client._delivery import Counters, Pause, Requests, RetryPolicy
from sealtrail.client._queue import EventQueue, OnFull, QueuedEvent
from sealtrail.errors import ConfigurationError
from sealtrail.limits import MAX_BATCH
from sealtrail.recording import RecordFields, build_event

logger = logging.getLogger("sealtrail.client")

TransportT = TypeVar("TransportT")

URGENT_RETRY = 1.0  # seconds: the longest backoff while flush() or close() waits


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("sealtrail")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"sealtrail-python/{version}"


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of a client's counters (this process only; a forked child starts at 0).

    ``sent``: acknowledged by the server. ``dropped``: given up before reaching
    the server: the queue was full, ``record()`` came after ``close()``, or
    ``close()``/exit ran out of time. ``failed``: refused by the server (4xx
    other than 408/429) or out of retries. ``retried``: requests sent again
    after a 408/429/5xx or a network error. ``queued``: waiting to be sent.
    """

    sent: int
    dropped: int
    retried: int
    failed: int
    queued: int


@dataclass(frozen=True, slots=True)
class Settings:
    base_url: str
    api_key: str
    batch_size: int
    flush_interval: float
    max_queue: int
    on_full: OnFull
    block_timeout: float
    max_retries: int | None
    backoff_base: float
    backoff_max: float
    timeout: float
    max_batch_bytes: int
    shutdown_timeout: float

    def __post_init__(self) -> None:
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ConfigurationError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if not self.api_key:
            raise ConfigurationError("api_key must not be empty")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ConfigurationError(f"batch_size must be between 1 and {MAX_BATCH}")
        if self.max_queue < 1:
            raise ConfigurationError("max_queue must be at least 1")
        if self.on_full not in ("drop", "block"):
            raise ConfigurationError('on_full must be "drop" or "block"')
        if self.max_retries is not None and self.max_retries < 0:
            raise ConfigurationError("max_retries must be None or at least 0")
        for name in ("flush_interval", "timeout", "backoff_max", "max_batch_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive")
        for name in ("block_timeout", "backoff_base", "shutdown_timeout"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{name} must not be negative")


class BaseClient(Generic[TransportT]):
    """Buffers events and sends them in the background; see ``Client``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        on_full: Literal["drop", "block"] = "drop",
        block_timeout: float = 1.0,
        max_retries: int | None = 10,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 10.0,
        max_batch_bytes: int = 1024 * 1024,
        shutdown_timeout: float = 5.0,
        transport: TransportT | None = None,
    ) -> None:
        self._settings = Settings(
            base_url=base_url,
            api_key=api_key,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_queue=max_queue,
            on_full=on_full,
            block_timeout=block_timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            timeout=timeout,
            max_batch_bytes=max_batch_bytes,
            shutdown_timeout=shutdown_timeout,
        )
        self._transport = transport
        self._requests = Requests(base_url, api_key, _user_agent())
        self._policy = RetryPolicy(max_retries, backoff_base, backoff_max)
        self._rng = Random()
        self._closed = False
        self._fresh_state()
        _live_clients.add(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings.base_url!r})"

    def record(self, **fields: Unpack[RecordFields]) -> str:
        """Validate one event, queue it for sending, and return its id. Never waits for I/O.

        Fields missing here come from the surrounding ``sealtrail.context``. Raises
        ``InvalidEvent`` naming every bad field. When the queue is full the event is
        dropped and counted (``on_full="drop"``), or the call waits up to
        ``block_timeout`` for room (``on_full="block"``); the id is returned either way.
        """
        _, event = build_event(**fields)
        may_block = self._prepare_put()
        queued = self._queue.put(QueuedEvent(event["id"], orjson.dumps(event)), may_block=may_block)
        if queued is not None:
            self._queued(queued)
        return event["id"]

    @property
    def stats(self) -> ClientStats:
        queue, counters = self._queue, self._counters
        return ClientStats(
            sent=counters.sent,
            dropped=queue.dropped,
            retried=counters.retried,
            failed=counters.failed,
            queued=len(queue),
        )

    @property
    def closed(self) -> bool:
        return self._closed

    # -- for the subclasses --------------------------------------------------

    def _fresh_state(self) -> None:
        """A new queue and counters: at construction, and in the child after a fork."""
        settings = self._settings
        self._queue = EventQueue(settings.max_queue, settings.on_full, settings.block_timeout)
        if self._closed:
            self._queue.close()
        self._counters = Counters()
        self._flush_until = 0

    def _urgent(self) -> bool:
        """Whether someone waits in ``flush()`` or ``close()`` for the queue to empty."""
        queue = self._queue
        return queue.closed or queue.done < self._flush_until

    def _send_now(self) -> bool:
        """Whether the worker should send what is queued without waiting for a full batch."""
        pending = len(self._queue)
        return pending >= self._settings.batch_size or (pending > 0 and self._urgent())

    def _cut_short(self, pause: Pause, now: float, deadline: float) -> float:
        """The deadline of a retry wait, cut to ``URGENT_RETRY`` while a flush waits.

        Only a backoff of ours is cut, never a wait the server asked for (Retry-After).
        """
        if not pause.from_server and self._urgent():
            return min(deadline, now + URGENT_RETRY)
        return deadline

    def _prepare_put(self) -> bool:
        """Called before queueing an event; returns whether this caller may wait for room."""
        raise NotImplementedError

    def _queued(self, length: int) -> None:
        """Called after an event was queued; ``length`` is the queue's new length."""
        raise NotImplementedError

    def _after_fork(self) -> None:
        raise NotImplementedError

    def _at_exit(self) -> None:
        raise NotImplementedError


_live_clients: weakref.WeakSet[BaseClient[Any]] = weakref.WeakSet()


def _each_live_client() -> list[BaseClient[Any]]:
    try:
        return list(_live_clients)
    except RuntimeError:  # the set changed while being copied; try once more
        return list(_live_clients)


def _after_fork_in_child() -> None:
    for client in _each_live_client():
        client._after_fork()


def _flush_at_exit() -> None:
    for client in _each_live_client():
        try:
            client._at_exit()
        except Exception:
            logger.exception("sealtrail: flushing %r at exit failed", client)


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
