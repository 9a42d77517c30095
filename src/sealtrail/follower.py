"""The log follower: background work that reads a tenant's log by ``seq``, nothing lost.

A **consumer** is a name (``stream:<id>``, later ``detection:<id>``) and a callable handed
each ``LogBatch`` — a range ``first_seq..last_seq`` of one tenant's log and every event in
it, in ``seq`` order. It answers with an ``Outcome``. The log is the outbox: there is no
second queue, only a row per consumer in the database (``store.ConsumerState``) holding

- the **cursor** ``next_seq``, moved past a batch only after the consumer accepted it, so
  a crash at any moment repeats a batch (at least once; consumers deduplicate by event
  ``id`` or ``seq``) and never skips one;
- a **lease**: one process among many works on a consumer at a time; others see it held
  and leave it; a process that dies leaves it to expire (``lease_seconds``);
- the **failures**: attempts, the error, when to try again (exponential backoff with
  jitter, or the consumer's ``retry_after`` when longer), and ``failing`` once they have
  lasted ``failing_after`` seconds. A failing consumer keeps being retried and keeps its
  place: it is shown, never dropped.

Only events below the tenant's tree size are read. Seqs are assigned in the transaction
that grows the tree, so every seq below the size is committed: the follower cannot pass
a seq that a slower transaction will fill in later.

A consumer that needs only some events says so by their **shape** (``Selective``: its
``shape_filter()`` is asked before each batch for a test of an event's ``seq``,
``action``, ``category``, ``kind`` and ``outcome``). The follower then reads those few
columns of the whole range, checks that no seq is missing exactly as for a full read,
and decodes only the events the test keeps: the batch still covers
``first_seq..last_seq``, and the cursor moves over the events left out as over the
others. Security detections read this way; most of a log is nothing their rules watch.

Followers of one tenant in one process (three streams) read the same events within a
second of each other. Given a shared ``RecentEvents``, each event is decoded once: a
follower then reads only the range's shapes — which carry the stored commitments of
erased fields, the one thing about an event that can change — takes the events decoded
lately whose commitments still match, and decodes the rest.

``Follower.step()`` makes one attempt and is what tests drive; ``run`` loops over it
until ``stop``ped, waking early when ``nudge``d. With ``pace`` it waits that long after
a batch smaller than ``batch_size`` (it had caught up), so a busy log is read in fuller
batches rather than a few events per append. A consumer must answer within the lease
(``lease_seconds``, renewed before every batch); a process stalled past it may find that
another has taken over and delivered the same batch again.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol, runtime_checkable

from sealtrail.errors import InconsistentTree
from sealtrail.events import Event
from sealtrail.store.base import ConsumerState, EventShape, EventStore
from sealtrail.store.codec import unpack_commitments

__all__ = [
    "Backoff",
    "Consumer",
    "EventShape",
    "Follower",
    "LogBatch",
    "Outcome",
    "RecentEvents",
    "Selective",
    "ShapeFilter",
    "Step",
]

log = logging.getLogger(__name__)

_MICROS: Final = 1_000_000
MAX_ERROR_LENGTH: Final = 1000


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Seqs ``first_seq..last_seq`` of one tenant's log: every event in the range, in order
    (for a ``Selective`` consumer: every event of the range its shape filter kept)."""

    tenant_id: str
    consumer: str
    first_seq: int
    last_seq: int
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a consumer made of a batch.

    ``ok``: handled, move on. Otherwise the batch is tried again later: after the
    backoff, or ``retry_after`` seconds when the consumer was told to wait longer.
    ``retryable=False`` says trying soon cannot help (a refused certificate, a 4xx):
    the consumer is marked failing at once and retried at the longest backoff.
    """

    ok: bool
    error: str | None = None
    retry_after: float | None = None
    retryable: bool = True

    @classmethod
    def success(cls) -> Outcome:
        return cls(True)

    @classmethod
    def failure(
        cls, error: str, *, retry_after: float | None = None, retryable: bool = True
    ) -> Outcome:
        return cls(False, error, retry_after, retryable)


Consumer = Callable[[LogBatch], Outcome]

ShapeFilter = Callable[[EventShape], bool]
"""Whether a consumer needs an event, told only its seq, action, category, kind, outcome."""


@runtime_checkable
class Selective(Protocol):
    """A consumer that needs only some of the log's events.

    ``shape_filter`` is asked once per batch, before the read, so what it keeps may
    change between batches (a detection rule enabled); the consumer is then handed the
    batch read with that filter. ``None``: this batch, every event.
    """

    def __call__(self, batch: LogBatch) -> Outcome: ...

    def shape_filter(self) -> ShapeFilter | None: ...


class RecentEvents:
    """The events followers of this process decoded last (at most ``capacity``, the
    oldest put forgotten first), by tenant and seq, for the other followers of the
    tenant. ``take`` hands out only events whose stored commitments (``EventShape``)
    are still those they were decoded with, so an erased event is decoded again."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._events: dict[tuple[str, int], Event] = {}
        self._lock = threading.Lock()
        self._decoding: dict[str, threading.Lock] = {}

    def decoding(self, tenant_id: str) -> threading.Lock:
        """Held while a follower decodes the tenant's events: followers woken by the same
        append read the same range, and the others should find it decoded, not decode
        it at the same time."""
        with self._lock:
            return self._decoding.setdefault(tenant_id, threading.Lock())

    def take(self, tenant_id: str, shapes: Sequence[EventShape]) -> dict[int, Event]:
        found: dict[int, Event] = {}
        with self._lock:
            for shape in shapes:
                event = self._events.get((tenant_id, shape.seq))
                if event is not None and (
                    event.commitments == unpack_commitments(shape.commitments)
                ):
                    found[shape.seq] = event
        return found

    def put(self, tenant_id: str, events: Sequence[Event]) -> None:
        with self._lock:
            for event in events:
                self._events[(tenant_id, event.seq)] = event
            excess = len(self._events) - self.capacity
            if excess > 0:
                for key in list(itertools.islice(self._events, excess)):
                    del self._events[key]

    def __len__(self) -> int:
        return len(self._events)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits ``base · 2^(n-1)``, at most
    ``cap``, scaled by a random factor in [1 - jitter, 1]; a ``retry_after`` the
    consumer was given is honoured up to ``max_retry_after``."""

    base: float = 1.0
    cap: float = 300.0
    jitter: float = 0.5
    max_retry_after: float = 3600.0

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        *,
        rng: Callable[[], float] = random.random,
    ) -> float:
        exponential: float = min(self.cap, self.base * 2.0 ** min(max(attempt - 1, 0), 62))
        wait = exponential * (1.0 - self.jitter * rng())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


StepResult = Literal["delivered", "failed", "idle", "waiting", "leased_elsewhere", "gone"]


@dataclass(frozen=True, slots=True)
class Step:
    """What one ``Follower.step`` did, and how long until the next step is worth making."""

    result: StepResult
    wait: float
    state: ConsumerState | None = None
    events: int = 0
    """How many events the step handed the consumer."""
    seqs: int = 0
    """How many seqs its batch covered (more than ``events`` when a ``Selective``
    consumer kept only some): a batch of ``batch_size`` seqs means more may be waiting."""


class Follower:
    """Follows one consumer of one tenant's log. Safe to run in many processes at once:
    the lease lets one of them work at a time."""

    def __init__(
        self,
        store: EventStore,
        tenant_id: str,
        name: str,
        consumer: Consumer,
        *,
        owner: str,
        batch_size: int = 500,
        lease_seconds: float = 30.0,
        idle_seconds: float = 0.5,
        failing_after: float = 600.0,
        pace: float = 0.0,
        backoff: Backoff | None = None,
        recent: RecentEvents | None = None,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.tenant_id = tenant_id
        self.name = name
        self.consumer = consumer
        self.owner = owner
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.failing_after = failing_after
        self.pace = pace
        self.backoff = backoff or Backoff()
        self.recent = recent
        self._clock = clock
        self._rng = rng
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def _now(self) -> int:
        return int(self._clock() * _MICROS)

    def step(self) -> Step:
        """Take the lease, hand the consumer the next batch, and record what it said."""
        now = self._now()
        until = now + int(self.lease_seconds * _MICROS)
        state = self.store.take_lease(self.tenant_id, self.name, self.owner, now, until)
        if state is None:
            if self.store.get_consumer(self.tenant_id, self.name) is None:
                return Step("gone", 0.0)
            return Step("leased_elsewhere", self.lease_seconds / 2)
        if state.retry_at > now:
            return Step("waiting", (state.retry_at - now) / _MICROS, state)
        keep = self.consumer.shape_filter() if isinstance(self.consumer, Selective) else None
        batch = self._read(state.next_seq, keep)
        if batch is None:
            return Step("idle", self.idle_seconds, state)
        try:
            outcome = self.consumer(batch)
        except Exception as exc:  # a consumer's bug must not stop the follower or skip
            outcome = Outcome.failure(f"{type(exc).__name__}: {exc}")
        done = self._now()
        if outcome.ok:
            self.store.advance_consumer(
                self.tenant_id, self.name, self.owner, state.next_seq, batch.last_seq + 1, done
            )
            state_now = self.store.get_consumer(self.tenant_id, self.name)
            covered = batch.last_seq - batch.first_seq + 1
            return Step("delivered", 0.0, state_now, len(batch.events), covered)
        attempt = state.attempts + 1
        if outcome.retryable:
            wait = self.backoff.delay(attempt, outcome.retry_after, rng=self._rng)
        else:
            wait = max(self.backoff.cap, outcome.retry_after or 0.0)
        self.store.consumer_failed(
            self.tenant_id,
            self.name,
            self.owner,
            error=(outcome.error or "failed")[:MAX_ERROR_LENGTH],
            retry_at=done + int(wait * _MICROS),
            failing_after=0 if not outcome.retryable else int(self.failing_after * _MICROS),
            at=done,
        )
        return Step("failed", wait, self.store.get_consumer(self.tenant_id, self.name))

    def _read(self, start: int, keep: ShapeFilter | None = None) -> LogBatch | None:
        size = self.store.tree_head(self.tenant_id).size
        stop = min(size, start + self.batch_size)
        if start >= stop:
            return None
        wanted = range(start, stop)
        if keep is None and self.recent is None:
            events = self.store.get_events_by_seq(self.tenant_id, wanted)
            complete = [e.seq for e in events] == list(wanted)
        else:
            # The shapes of the whole range prove nothing is missing; only the events
            # the consumer keeps are read, and only those not decoded lately.
            shapes = self.store.event_shapes(self.tenant_id, start, stop)
            complete = [s.seq for s in shapes] == list(wanted)
            kept = [s for s in shapes if keep is None or keep(s)] if complete else []
            found = self._decode(kept)
            # A prune between the two reads leaves a hole: handled as below.
            complete = complete and found is not None
            events = found or []
        if not complete:
            kept_from = max((p.below for p in self.store.prunes(self.tenant_id)), default=0)
            if start >= kept_from:
                raise InconsistentTree(
                    f"tenant {self.tenant_id!r}: seqs {start}..{stop - 1} are not all stored"
                )
            # Retention pruned the log's oldest events (a recorded prefix, announced in
            # the log by audit_log.events_pruned): there is nothing left to hand over
            # below its end, so the consumer goes on from the first event kept.
            log.info(
                "%s/%s: seqs %d..%d were pruned; continuing at %d",
                self.tenant_id,
                self.name,
                start,
                kept_from - 1,
                kept_from,
            )
            return self._read(kept_from, keep)
        return LogBatch(self.tenant_id, self.name, start, stop - 1, tuple(events))

    def _decode(self, shapes: Sequence[EventShape]) -> list[Event] | None:
        """The events of these shapes, in order; None when one of them is not stored."""
        if self.recent is None:
            return self._decode_with(shapes, None)
        with self.recent.decoding(self.tenant_id):
            return self._decode_with(shapes, self.recent)

    def _decode_with(
        self, shapes: Sequence[EventShape], recent: RecentEvents | None
    ) -> list[Event] | None:
        known = {} if recent is None else recent.take(self.tenant_id, shapes)
        missing = [s.seq for s in shapes if s.seq not in known]
        fresh: list[Event] = []
        if missing:
            run = missing[-1] - missing[0] == len(missing) - 1
            seqs = range(missing[0], missing[-1] + 1) if run else missing
            fresh = self.store.get_events_by_seq(self.tenant_id, seqs)
            if [e.seq for e in fresh] != missing:
                return None
            if recent is not None:
                recent.put(self.tenant_id, fresh)
        if not known:
            return fresh
        known.update((e.seq, e) for e in fresh)
        return [known[s.seq] for s in shapes]

    def nudge(self) -> None:
        """Wake a ``run`` loop now (new events, a replay)."""
        self._wake.set()

    def stop(self) -> None:
        """Make ``run`` return after the step in hand."""
        self._stopping.set()
        self._wake.set()

    def run(self, *, max_wait: float = 5.0) -> None:
        """Step until ``stop`` is called or the consumer is removed, then release the lease.

        An error of the store (the database restarting) is logged and the step retried
        after ``max_wait``; the cursor is where it was.
        """
        try:
            while not self._stopping.is_set():
                try:
                    step = self.step()
                except Exception:
                    log.exception("follower %s/%s: step failed", self.tenant_id, self.name)
                    step = Step("failed", max_wait)
                if step.result == "gone":
                    return
                if step.result == "delivered":
                    if self.pace and step.seqs < self.batch_size:
                        # Caught up: let the next batch gather (``pace``) rather than
                        # following every append with a batch of a few events.
                        self._stopping.wait(self.pace)
                    continue
                self._wake.wait(min(step.wait, max_wait))
                self._wake.clear()
        finally:
            try:
                self.store.release_lease(self.tenant_id, self.name, self.owner)
            except Exception:  # the lease then expires by itself
                log.warning("follower %s/%s: lease not released", self.tenant_id, self.name)
