"""A consumer that names the event shapes it needs (``follower.Selective``) is handed only
those events, decoded; the cursor still passes every seq, and a missing seq is still
caught. Followers sharing ``RecentEvents`` decode each event once, and an event erased
since is decoded again. Counted, not timed: which seqs the follower asked the store to
decode."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace

import pytest

from sealtrail.errors import InconsistentTree
from sealtrail.events import Event
from sealtrail.follower import (
    EventShape,
    Follower,
    LogBatch,
    Outcome,
    RecentEvents,
    Selective,
    ShapeFilter,
)
from sealtrail.limits import ERASED
from sealtrail.privacy import Subject, plan
from sealtrail.store.base import EventStore, FieldErasure

from ..store.factory import append, make_event


class FailuresOnly:
    """Keeps failed events only; records the batches and how often it was asked."""

    def __init__(self) -> None:
        self.batches: list[LogBatch] = []
        self.asked = 0

    def shape_filter(self) -> ShapeFilter:
        self.asked += 1
        return lambda shape: shape.outcome == "failure"

    def __call__(self, batch: LogBatch) -> Outcome:
        self.batches.append(batch)
        return Outcome.success()


def count_decodes(store: EventStore) -> list[list[int]]:
    """Every call of ``get_events_by_seq`` from now on, by the seqs it was asked for."""
    calls: list[list[int]] = []
    decode = store.get_events_by_seq

    def counted(tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        calls.append(list(seqs))
        return decode(tenant_id, seqs)

    store.get_events_by_seq = counted  # type: ignore[method-assign]
    return calls


def follower(store: EventStore, consumer: FailuresOnly, batch_size: int = 4) -> Follower:
    store.add_consumer("acme", "c", 0, 0)
    return Follower(store, "acme", "c", consumer, owner="p1", batch_size=batch_size)


def test_only_the_kept_events_are_decoded_and_the_cursor_passes_them_all(
    store: EventStore,
) -> None:
    events = [
        make_event("acme", f"e{i}", outcome="failure" if i % 3 == 0 else "success")
        for i in range(10)
    ]
    append(store, "acme", *events)
    consumer = FailuresOnly()
    assert isinstance(consumer, Selective)
    decodes = count_decodes(store)
    f = follower(store, consumer)
    assert [f.step().result for _ in range(4)] == ["delivered"] * 3 + ["idle"]
    assert [(b.first_seq, b.last_seq) for b in consumer.batches] == [(0, 3), (4, 7), (8, 9)]
    assert [[e.seq for e in b.events] for b in consumer.batches] == [[0, 3], [6], [9]]
    assert all(
        e.outcome == "failure" and e.id == f"e{e.seq}" for b in consumer.batches for e in b.events
    )
    assert decodes == [[0, 3], [6], [9]]  # never one of the seven others
    assert consumer.asked == 4  # once per read, the idle one included
    state = store.get_consumer("acme", "c")
    assert state is not None and state.next_seq == 10


def test_a_range_with_nothing_to_keep_decodes_nothing_and_still_moves_the_cursor(
    store: EventStore,
) -> None:
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(6)))
    consumer = FailuresOnly()
    decodes = count_decodes(store)
    f = follower(store, consumer)
    assert [f.step().result for _ in range(2)] == ["delivered"] * 2
    assert [(b.first_seq, b.last_seq, b.events) for b in consumer.batches] == [
        (0, 3, ()),
        (4, 5, ()),
    ]
    assert decodes == []
    state = store.get_consumer("acme", "c")
    assert state is not None and state.next_seq == 6


def test_a_consumer_without_a_filter_this_batch_gets_every_event(store: EventStore) -> None:
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(3)))
    consumer = FailuresOnly()
    consumer.shape_filter = lambda: None  # type: ignore[assignment,method-assign,return-value]
    f = follower(store, consumer)
    assert f.step().result == "delivered"
    assert [e.seq for e in consumer.batches[0].events] == [0, 1, 2]


def test_a_missing_shape_is_an_inconsistent_tree_not_a_skip(store: EventStore) -> None:
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(5)))
    shapes = store.event_shapes

    def without_seq_2(tenant_id: str, start: int, stop: int) -> list[EventShape]:
        return [s for s in shapes(tenant_id, start, stop) if s.seq != 2]

    store.event_shapes = without_seq_2  # type: ignore[method-assign]
    f = follower(store, FailuresOnly())
    with pytest.raises(InconsistentTree):
        f.step()
    state = store.get_consumer("acme", "c")
    assert state is not None and state.next_seq == 0


def test_a_kept_event_that_cannot_be_read_is_an_inconsistent_tree(store: EventStore) -> None:
    append(store, "acme", make_event("acme", "e0", outcome="failure"))
    decode = store.get_events_by_seq

    def losing_one(tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        return decode(tenant_id, seqs)[1:]

    store.get_events_by_seq = losing_one  # type: ignore[method-assign]
    f = follower(store, FailuresOnly())
    with pytest.raises(InconsistentTree):
        f.step()


def test_event_shapes_reads_the_columns_of_a_range_in_seq_order(store: EventStore) -> None:
    append(
        store,
        "acme",
        make_event("acme", "a", action="auth.login", category="auth", kind="access"),
        make_event("acme", "b", outcome="failure"),
        make_event("acme", "c"),
    )
    assert store.event_shapes("acme", 1, 9) == [
        EventShape(1, "member.invited", "members", "create", "failure"),
        EventShape(2, "member.invited", "members", "create", "success"),
    ]
    assert store.event_shapes("acme", 0, 1) == [
        EventShape(0, "auth.login", "auth", "access", "success")
    ]
    assert store.event_shapes("acme", 3, 9) == []
    assert store.event_shapes("other", 0, 9) == []


class Everything:
    def __init__(self) -> None:
        self.batches: list[LogBatch] = []

    def __call__(self, batch: LogBatch) -> Outcome:
        self.batches.append(batch)
        return Outcome.success()


def sharing(store: EventStore, recent: RecentEvents, *names: str) -> list[Follower]:
    for name in names:
        store.add_consumer("acme", name, 0, 0)
    return [
        Follower(store, "acme", name, Everything(), owner="p1", batch_size=4, recent=recent)
        for name in names
    ]


def test_followers_sharing_recent_events_decode_each_event_once(store: EventStore) -> None:
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(6)))
    decodes = count_decodes(store)
    first, second = sharing(store, RecentEvents(), "a", "b")
    for _ in range(2):
        assert first.step().result == "delivered"
        assert second.step().result == "delivered"
    assert decodes == [[0, 1, 2, 3], [4, 5]]  # the second follower decoded nothing
    seen = [[e for b in f.consumer.batches for e in b.events] for f in (first, second)]  # type: ignore[attr-defined]
    assert [e.seq for e in seen[1]] == list(range(6))
    assert seen[0] == seen[1]


def test_an_event_erased_since_it_was_decoded_is_decoded_again(store: EventStore) -> None:
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(3)))
    first, second = sharing(store, RecentEvents(), "a", "b")
    assert first.step().result == "delivered"
    [stored] = store.get_events_by_seq("acme", [1])
    ada = Subject("email", "ada@example.com")
    assert store.erase_fields("acme", [FieldErasure(1, plan(stored, ada))]) == 1
    decodes = count_decodes(store)
    assert second.step().result == "delivered"
    assert decodes == [[1]]
    [batch] = second.consumer.batches  # type: ignore[attr-defined]
    assert [e.actor.email for e in batch.events] == ["ada@example.com", ERASED, "ada@example.com"]
    assert set(batch.events[1].commitments) == {"actor.name", "actor.email"}


def test_recent_events_forget_the_oldest_beyond_their_capacity() -> None:
    recent = RecentEvents(capacity=2)
    events = [replace(make_event("acme", f"e{i}"), seq=i) for i in range(3)]
    recent.put("acme", events)
    assert len(recent) == 2
    shapes = [EventShape(i, "member.invited", "members", "create", "success") for i in range(3)]
    assert recent.take("acme", shapes) == {1: events[1], 2: events[2]}
    assert recent.take("other", shapes) == {}


def test_followers_woken_together_decode_a_range_once(store: EventStore) -> None:
    """Two followers step at the same moment (one append wakes both): while one decodes,
    the other waits for it and takes its events."""
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(4)))
    calls: list[list[int]] = []
    decode = store.get_events_by_seq
    both_reading = threading.Barrier(2)

    def slow(tenant_id: str, seqs: Sequence[int]) -> list[Event]:
        calls.append(list(seqs))
        time.sleep(0.2)  # a slow decode: the other follower arrives meanwhile
        return decode(tenant_id, seqs)

    store.get_events_by_seq = slow  # type: ignore[method-assign]
    shapes = store.event_shapes

    def together(tenant_id: str, start: int, stop: int) -> list[EventShape]:
        found = shapes(tenant_id, start, stop)
        both_reading.wait(10)  # both have read the range's shapes before either decodes
        return found

    store.event_shapes = together  # type: ignore[method-assign]
    followers = sharing(store, RecentEvents(), "a", "b")
    threads = [threading.Thread(target=f.step) for f in followers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert calls == [[0, 1, 2, 3]]
    for f in followers:
        [batch] = f.consumer.batches  # type: ignore[attr-defined]
        assert [e.seq for e in batch.events] == [0, 1, 2, 3]


class PaceWaits(threading.Event):
    """A follower's stop flag that records where the cursor was at each wait of ``pace``
    and then stops the run loop."""

    def __init__(self, store: EventStore) -> None:
        super().__init__()
        self.store = store
        self.cursors: list[int] = []

    def wait(self, timeout: float | None = None) -> bool:
        state = self.store.get_consumer("acme", "c")
        self.cursors.append(-1 if state is None else state.next_seq)
        self.set()
        return True


def test_a_selective_follower_is_paced_only_once_caught_up(store: EventStore) -> None:
    """Full ranges that kept few events are not a caught-up follower: it pauses (``pace``)
    only after the range that reached the log's end."""
    append(store, "acme", *(make_event("acme", f"e{i}") for i in range(10)))
    consumer = FailuresOnly()  # keeps none of these
    f = follower(store, consumer)
    f.pace = 30.0
    f._stopping = waits = PaceWaits(store)
    f.run(max_wait=0.01)
    assert [(b.first_seq, b.last_seq) for b in consumer.batches] == [(0, 3), (4, 7), (8, 9)]
    assert waits.cursors == [10]
