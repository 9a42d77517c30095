"""What to send and what each answer means: the part of the SDK with no I/O.

``Client`` and ``AsyncClient`` differ only in how they wait and how they put a
request on the wire; both drive a :class:`Delivery` the same way::

    while (request := delivery.next_request()) is not None:
        try:
            response = send(request)
        except Exception as exc:
            pause = delivery.on_error(exc)
        else:
            pause = delivery.on_response(response)
        wait(pause)

A delivery owns one batch taken from the queue. It cuts the batch into
requests of at most ``max_bytes``, retries 408/429/5xx answers and network
errors with exponential backoff and full jitter (or exactly the server's
``Retry-After``; a :class:`Pause` says which, since a flush may cut only our
own backoff short; a 429 spends none of ``max_retries``, so rate limiting
loses nothing), halves a request the server finds too large (413), and
gives up on events the server refuses (other 4xx): on a 422 only the events
it names are given up and the rest are sent again, since the server stores a
batch all or nothing. Every event keeps the ``id`` it got in ``record()``,
so a resend of something the server already stored stores nothing new.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from random import Random
from typing import NamedTuple

import httpx
import orjson

from sealtrail.client._queue import QueuedEvent

logger = logging.getLogger("sealtrail.client")

EVENTS_PATH = "/v1/events"
MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After is read as this


@dataclass(slots=True)
class Counters:
    """What happened to events after they left the queue (written by the worker only)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int | None  # None: retry until close() gives up
    backoff_base: float
    backoff_max: float

    def allows(self, retries_so_far: int) -> bool:
        return self.max_retries is None or retries_so_far < self.max_retries

    def backoff(self, retries_so_far: int, rng: Random) -> float:
        """Full jitter: uniform in [0, min(backoff_max, backoff_base * 2**retries_so_far)]."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** min(retries_so_far, 64))
        return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: delay-seconds or an HTTP-date; None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return min(max(seconds, 0.0), MAX_RETRY_AFTER) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Requests:
    """Builds ``POST /v1/events`` requests; shared by the sync and async clients."""

    def __init__(self, base_url: str, api_key: str, user_agent: str) -> None:
        self.url = base_url.rstrip("/") + EVENTS_PATH
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent,
        }

    def build(self, body: bytes) -> httpx.Request:
        return httpx.Request("POST", self.url, headers=self.headers, content=body)


def encode_batch(items: Sequence[QueuedEvent]) -> bytes:
    return b'{"events":[' + b",".join(item.body for item in items) + b"]}"


# -- what an answer means -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class RetryLater:
    reason: str
    after: float | None  # the server's Retry-After, in seconds
    throttled: bool = False  # a 429: the server is fine, we are early


@dataclass(frozen=True, slots=True)
class TooLarge:
    pass


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str
    invalid: dict[int, list[str]] = field(default_factory=dict)  # 422: index → problems


Verdict = Delivered | RetryLater | TooLarge | Refused


def interpret(response: httpx.Response) -> Verdict:
    status = response.status_code
    if 200 <= status < 300:
        return Delivered()
    if status == 413:
        return TooLarge()
    if status in (408, 429) or status >= 500:
        after = parse_retry_after(response.headers.get("Retry-After"))
        return RetryLater(f"HTTP {status}", after, throttled=status == 429)
    error = _error_object(response)
    message = error.get("message") if isinstance(error.get("message"), str) else None
    reason = f"HTTP {status}: {message or response.text[:200]}"
    return Refused(reason, _invalid_events(error) if status == 422 else {})


def _error_object(response: httpx.Response) -> dict[str, object]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _invalid_events(error: dict[str, object]) -> dict[int, list[str]]:
    invalid: dict[int, list[str]] = {}
    details = error.get("details")
    if not isinstance(details, list):
        return invalid
    for detail in details:
        if not isinstance(detail, dict):
            continue
        index = detail.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            invalid.setdefault(index, []).append(f"{detail.get('field')} {detail.get('message')}")
    return invalid


# -- one batch's journey -----------------------------------------------------------


class Pause(NamedTuple):
    """How long to wait before the next request, and whether the server asked for it."""

    seconds: float
    from_server: bool = False


GO_ON = Pause(0.0)


@dataclass(slots=True)
class _Request:
    items: list[QueuedEvent]
    retries: int = 0
    body: bytes = b""

    def encoded(self) -> bytes:
        if not self.body:
            self.body = encode_batch(self.items)
        return self.body


def _by_size(items: Iterable[QueuedEvent], max_bytes: int) -> list[_Request]:
    requests: list[_Request] = []
    current: list[QueuedEvent] = []
    size = 0
    for item in items:
        if current and size + len(item.body) + 1 > max_bytes:
            requests.append(_Request(current))
            current, size = [], 0
        current.append(item)
        size += len(item.body) + 1
    if current:
        requests.append(_Request(current))
    return requests


class Delivery:
    """The sans-I/O life of one batch: what to send next, and how long to wait first."""

    def __init__(
        self,
        items: Sequence[QueuedEvent],
        requests: Requests,
        policy: RetryPolicy,
        counters: Counters,
        rng: Random,
        max_bytes: int,
    ) -> None:
        self._pending = deque(_by_size(items, max_bytes))
        self._requests = requests
        self._policy = policy
        self._counters = counters
        self._rng = rng

    def next_request(self) -> httpx.Request | None:
        if not self._pending:
            return None
        return self._requests.build(self._pending[0].encoded())

    def on_response(self, response: httpx.Response) -> Pause:
        """Account for the answer to the last request; return how long to wait."""
        verdict = interpret(response)
        current = self._pending[0]
        if isinstance(verdict, Delivered):
            self._pending.popleft()
            self._counters.sent += len(current.items)
            return GO_ON
        if isinstance(verdict, RetryLater):
            return self._retry(current, verdict.reason, verdict.after, verdict.throttled)
        self._pending.popleft()
        if isinstance(verdict, TooLarge):
            self._split(current)
        else:
            self._refused(current, verdict)
        return GO_ON

    def on_error(self, error: BaseException) -> Pause:
        """The last request got no answer (network error, timeout, broken transport)."""
        return self._retry(self._pending[0], f"{type(error).__name__}: {error}", None)

    def abandon(self) -> list[QueuedEvent]:
        """Stop here; return the events not yet acknowledged or given up, in order."""
        left = [item for request in self._pending for item in request.items]
        self._pending.clear()
        return left

    def _retry(
        self, current: _Request, reason: str, after: float | None, throttled: bool = False
    ) -> Pause:
        """Wait and send ``current`` again. A 429 (``throttled``) is not a failure and
        spends no retry: the server is up and says when to come back, so rate-limited
        events are kept until they go through (or ``close()`` gives up on them)."""
        if throttled:
            delay = after if after is not None else self._policy.backoff(0, self._rng)
            logger.debug(
                "sealtrail: %d events rate limited; retry in %.2fs", len(current.items), delay
            )
            self._counters.retried += 1
            return Pause(delay, from_server=after is not None)
        if not self._policy.allows(current.retries):
            self._pending.popleft()
            self._give_up(current.items, f"{reason}; gave up after {current.retries} retries")
            return GO_ON
        delay = after if after is not None else self._policy.backoff(current.retries, self._rng)
        log = logger.warning if current.retries == 0 else logger.debug
        log(
            "sealtrail: sending %d events failed (%s); retry in %.2fs",
            len(current.items),
            reason,
            delay,
        )
        current.retries += 1
        self._counters.retried += 1
        return Pause(delay, from_server=after is not None)

    def _split(self, current: _Request) -> None:
        if len(current.items) == 1:
            self._give_up(
                current.items, "HTTP 413: the event alone is over the server's size limit"
            )
            return
        half = len(current.items) // 2
        self._pending.appendleft(_Request(current.items[half:]))
        self._pending.appendleft(_Request(current.items[:half]))

    def _refused(self, current: _Request, verdict: Refused) -> None:
        named = {
            i: problems for i, problems in verdict.invalid.items() if 0 <= i < len(current.items)
        }
        if not named or len(named) == len(current.items):
            self._give_up(current.items, verdict.reason, verdict.invalid)
            return
        bad = [current.items[i] for i in sorted(named)]
        self._give_up(bad, verdict.reason, {n: named[i] for n, i in enumerate(sorted(named))})
        rest = [item for i, item in enumerate(current.items) if i not in named]
        self._pending.appendleft(_Request(rest, current.retries))

    def _give_up(
        self,
        items: Sequence[QueuedEvent],
        reason: str,
        problems: dict[int, list[str]] | None = None,
    ) -> None:
        self._counters.failed += len(items)
        if problems:
            listed = "; ".join(
                f"{items[i].id}: {', '.join(p)}"
                for i, p in sorted(problems.items())
                if i < len(items)
            )
            logger.error(
                "sealtrail: the server refused %d events (%s): %s", len(items), reason, listed
            )
        else:
            ids = ", ".join(item.id for item in items[:5]) + (", ..." if len(items) > 5 else "")
            logger.error("sealtrail: %d events not delivered (%s): %s", len(items), reason, ids)
