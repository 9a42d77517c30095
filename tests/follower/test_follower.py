"""The log follower on a real store: batches in order, a durable cursor, retries, leases."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from sealtrail.follower import Backoff, Follower, LogBatch, Outcome
from sealtrail.store import open_store
from sealtrail.store.base import EventStore

from .conftest import add_events

T = 1_800_000_000.0  # a fixed wall clock, seconds


class Clock:
    def __init__(self) -> None:
        self.now = T

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A consumer that accepts every batch, or answers with the outcomes it is given."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.batches: list[LogBatch] = []
        self.outcomes = list(outcomes)

    def __call__(self, batch: LogBatch) -> Outcome:
        self.batches.append(batch)
        return self.outcomes.pop(0) if self.outcomes else Outcome.success()

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return [(b.first_seq, b.last_seq) for b in self.batches]


def follower(
    store: EventStore, consumer: Recorder, clock: Clock, owner: str = "p1", **options: Any
) -> Follower:
    store.add_consumer("acme", "c", 0, int(clock() * 1e6))
    return Follower(
        store, "acme", "c", consumer, owner=owner, clock=clock, rng=lambda: 0.0, **options
    )


def test_batches_cover_the_log_in_seq_order_then_it_idles(store: EventStore) -> None:
    add_events(store, 1200)
    seen = Recorder()
    f = follower(store, seen, Clock(), batch_size=500)
    assert [f.step().result for _ in range(4)] == ["delivered"] * 3 + ["idle"]
    assert seen.ranges == [(0, 499), (500, 999), (1000, 1199)]
    assert [e.seq for b in seen.batches for e in b.events] == list(range(1200))
    assert all(e.id == f"e{e.seq}" for b in seen.batches for e in b.events)
    add_events(store, 3, prefix="late")
    assert f.step().result == "delivered"
    assert seen.ranges[-1] == (1200, 1202)
    state = store.get_consumer("acme", "c")
    assert state is not None and state.next_seq == 1203


def test_the_cursor_is_durable_across_followers_and_connections(
    store: EventStore, store_url: str
) -> None:
    add_events(store, 10)
    first = Recorder()
    follower(store, first, Clock(), batch_size=4).step()
    again = open_store(store_url)
    try:
        later = Recorder()
        f = Follower(again, "acme", "c", later, owner="p1", batch_size=4)
        f.step()
        f.step()
    finally:
        again.close()
    assert first.ranges + later.ranges == [(0, 3), (4, 7), (8, 9)]


def test_a_failure_retries_the_same_batch_after_the_backoff(store: EventStore) -> None:
    add_events(store, 5)
    clock = Clock()
    seen = Recorder(Outcome.failure("HTTP 500"), Outcome.failure("HTTP 503"))
    f = follower(store, seen, clock, backoff=Backoff(base=2.0))
    failed = f.step()
    assert (failed.result, failed.wait) == ("failed", 2.0)
    assert failed.state is not None and failed.state.last_error == "HTTP 500"
    assert f.step().result == "waiting"
    clock.now += 2.0
    second = f.step()
    assert (second.result, second.wait) == ("failed", 4.0)
    assert second.state is not None and second.state.attempts == 2
    clock.now += 4.0
    assert f.step().result == "delivered"
    assert seen.ranges == [(0, 4)] * 3
    state = store.get_consumer("acme", "c")
    assert state is not None and (state.attempts, state.last_error, state.next_seq) == (0, None, 5)


def test_retry_after_is_honoured(store: EventStore) -> None:
    add_events(store, 1)
    clock = Clock()
    seen = Recorder(Outcome.failure("HTTP 429", retry_after=30.0))
    f = follower(store, seen, clock)
    assert f.step().wait == 30.0
    clock.now += 29.0
    waiting = f.step()
    assert waiting.result == "waiting" and waiting.wait == pytest.approx(1.0)
    clock.now += 1.0
    assert f.step().result == "delivered"


def test_failures_that_last_are_marked_failing_and_never_skipped(store: EventStore) -> None:
    add_events(store, 3)
    clock = Clock()
    seen = Recorder(*[Outcome.failure("connection refused")] * 20)
    f = follower(store, seen, clock, failing_after=60.0, backoff=Backoff(base=10.0, cap=10.0))
    states = []
    for _ in range(8):
        step = f.step()
        assert step.result == "failed"
        states.append(step.state)
        clock.now += 10.0
    assert [s.failing for s in states if s is not None] == [False] * 6 + [True] * 2
    assert {b.first_seq for b in seen.batches} == {0}
    failing = store.get_consumer("acme", "c")
    assert failing is not None and failing.failing and failing.next_seq == 0


def test_a_permanent_failure_is_failing_at_once_and_retried_at_the_cap(
    store: EventStore,
) -> None:
    add_events(store, 1)
    seen = Recorder(Outcome.failure("HTTP 400", retryable=False))
    step = follower(store, seen, Clock(), backoff=Backoff(cap=120.0)).step()
    assert step.result == "failed" and step.wait == 120.0
    assert step.state is not None and step.state.failing


def test_a_consumer_that_raises_is_a_failure_not_a_skip(store: EventStore) -> None:
    add_events(store, 2)

    def broken(batch: LogBatch) -> Outcome:
        raise RuntimeError("boom")

    store.add_consumer("acme", "c", 0, 0)
    step = Follower(store, "acme", "c", broken, owner="p1").step()
    assert step.result == "failed"
    assert step.state is not None and step.state.last_error == "RuntimeError: boom"
    assert step.state.next_seq == 0


def test_one_owner_at_a_time_and_a_dead_owner_s_batch_comes_again(store: EventStore) -> None:
    """p1 dies after its consumer took a batch but before the cursor moved: p2 waits
    for the lease to run out, then delivers that batch again (at least once)."""
    add_events(store, 6)
    clock = Clock()

    class Dies(Recorder):
        def __call__(self, batch: LogBatch) -> Outcome:
            super().__call__(batch)
            raise KeyboardInterrupt  # not an Exception: the process is going down

    dying, other = Dies(), Recorder()
    p1 = follower(store, dying, clock, batch_size=4, lease_seconds=30.0)
    p2 = follower(store, other, clock, owner="p2", batch_size=4, lease_seconds=30.0)
    with pytest.raises(KeyboardInterrupt):
        p1.step()
    assert p2.step().result == "leased_elsewhere"
    clock.now += 30.0
    assert [p2.step().result for _ in range(3)] == ["delivered", "delivered", "idle"]
    assert dying.ranges == [(0, 3)]
    assert other.ranges == [(0, 3), (4, 5)]
    assert p1.step().result == "leased_elsewhere"


def test_a_replay_moves_the_cursor_back(store: EventStore) -> None:
    add_events(store, 8)
    seen = Recorder()
    f = follower(store, seen, Clock(), batch_size=8)
    f.step()
    assert store.move_consumer("acme", "c", 5, 0)
    f.step()
    assert seen.ranges == [(0, 7), (5, 7)]


def test_a_removed_consumer_stops_its_follower(store: EventStore) -> None:
    seen = Recorder()
    f = follower(store, seen, Clock())
    store.remove_consumer("acme", "c")
    assert f.step().result == "gone"
    f.run()  # returns at once


def test_followers_in_threads_deliver_everything_once_in_order(
    store: EventStore, store_url: str
) -> None:
    """Three followers on their own connections share one consumer while events arrive:
    no two ever hold a batch at once, and the batches tile the log exactly."""
    store.add_consumer("acme", "c", 0, 0)
    busy = threading.Lock()
    seen: list[tuple[int, int]] = []
    overlaps: list[tuple[int, int]] = []
    total = 900

    def consumer(batch: LogBatch) -> Outcome:
        if not busy.acquire(blocking=False):
            overlaps.append((batch.first_seq, batch.last_seq))
            return Outcome.failure("two followers held the consumer at once")
        try:
            seen.append((batch.first_seq, batch.last_seq))
            return Outcome.success()
        finally:
            busy.release()

    stores = [open_store(store_url) for _ in range(3)]
    followers = [
        Follower(s, "acme", "c", consumer, owner=f"p{i}", batch_size=50, idle_seconds=0.01)
        for i, s in enumerate(stores)
    ]
    threads = [threading.Thread(target=f.run, kwargs={"max_wait": 0.05}) for f in followers]
    try:
        for thread in threads:
            thread.start()
        for _ in range(total // 100):
            add_events(store, 100, prefix="t")
        done = threading.Event()
        for _ in range(400):
            state = store.get_consumer("acme", "c")
            if state is not None and state.next_seq == total:
                done.set()
                break
            done.wait(0.05)
        assert done.is_set(), seen[-3:]
    finally:
        for f in followers:
            f.stop()
        for thread in threads:
            thread.join(10)
        for s in stores:
            s.close()
    assert not overlaps
    assert seen[0][0] == 0 and seen[-1][1] == total - 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(seen))
    state = store.get_consumer("acme", "c")
    assert state is not None and state.lease_owner is None
