"""Contract: log consumers' durable cursors and leases, on both engines."""

from __future__ import annotations

import threading

import pytest

from sealtrail.errors import NotFound
from sealtrail.store.base import ConsumerState, EventStore

from .factory import T0, add_tenant

SECOND = 1_000_000


def test_a_consumer_is_created_once_and_kept(store: EventStore) -> None:
    add_tenant(store)
    made = store.add_consumer("acme", "stream:a", 5, T0)
    assert made == ConsumerState("acme", "stream:a", next_seq=5, updated_at=T0)
    assert store.add_consumer("acme", "stream:a", 0, T0 + 1) == made  # not reset
    assert store.get_consumer("acme", "stream:a") == made
    assert store.get_consumer("other", "stream:a") is None
    with pytest.raises(NotFound):
        store.add_consumer("nope", "stream:a", 0, T0)


def test_consumers_are_listed_per_tenant_and_removed(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    store.add_consumer("globex", "b", 0, T0)
    store.add_consumer("acme", "b", 0, T0)
    store.add_consumer("acme", "a", 0, T0)
    assert [(c.tenant_id, c.name) for c in store.list_consumers()] == [
        ("acme", "a"),
        ("acme", "b"),
        ("globex", "b"),
    ]
    assert [c.name for c in store.list_consumers("acme")] == ["a", "b"]
    assert store.remove_consumer("acme", "a") is True
    assert store.remove_consumer("acme", "a") is False
    assert [c.name for c in store.list_consumers("acme")] == ["b"]


def test_one_owner_holds_the_lease_until_it_expires_or_is_released(store: EventStore) -> None:
    add_tenant(store)
    store.add_consumer("acme", "c", 0, T0)
    held = store.take_lease("acme", "c", "p1", T0, T0 + 30 * SECOND)
    assert held is not None and held.lease_owner == "p1" and held.lease_until == T0 + 30 * SECOND
    assert store.take_lease("acme", "c", "p2", T0 + SECOND, T0 + 31 * SECOND) is None
    renewed = store.take_lease("acme", "c", "p1", T0 + SECOND, T0 + 40 * SECOND)
    assert renewed is not None and renewed.lease_until == T0 + 40 * SECOND
    # Expired: another process takes over.
    taken = store.take_lease("acme", "c", "p2", T0 + 40 * SECOND, T0 + 70 * SECOND)
    assert taken is not None and taken.lease_owner == "p2"
    store.release_lease("acme", "c", "p1")  # not p1's any more: no effect
    assert store.take_lease("acme", "c", "p1", T0 + 41 * SECOND, T0 + 71 * SECOND) is None
    store.release_lease("acme", "c", "p2")
    freed = store.take_lease("acme", "c", "p1", T0 + 41 * SECOND, T0 + 71 * SECOND)
    assert freed is not None and freed.lease_owner == "p1"
    assert store.take_lease("acme", "missing", "p1", T0, T0 + SECOND) is None


def test_concurrent_takers_get_the_lease_exactly_once(store: EventStore) -> None:
    add_tenant(store)
    store.add_consumer("acme", "c", 0, T0)
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def take(owner: str) -> None:
        barrier.wait()
        if store.take_lease("acme", "c", owner, T0, T0 + SECOND) is not None:
            winners.append(owner)

    threads = [threading.Thread(target=take, args=(f"p{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_only_the_holder_advances_and_only_from_where_it_read(store: EventStore) -> None:
    add_tenant(store)
    store.add_consumer("acme", "c", 0, T0)
    store.take_lease("acme", "c", "p1", T0, T0 + SECOND)
    assert store.advance_consumer("acme", "c", "p2", 0, 10, T0) is False
    assert store.advance_consumer("acme", "c", "p1", 3, 10, T0) is False
    assert store.advance_consumer("acme", "c", "p1", 0, 10, T0 + 5) is True
    state = store.get_consumer("acme", "c")
    assert state is not None and state.next_seq == 10 and state.updated_at == T0 + 5


def test_failures_are_counted_then_marked_failing_and_cleared_by_progress(
    store: EventStore,
) -> None:
    add_tenant(store)
    store.add_consumer("acme", "c", 0, T0)
    store.take_lease("acme", "c", "p1", T0, T0 + 600 * SECOND)
    minute = 60 * SECOND

    def fail(at: int) -> ConsumerState:
        assert store.consumer_failed(
            "acme", "c", "p1", error="HTTP 500", retry_at=at + SECOND, failing_after=minute, at=at
        )
        found = store.get_consumer("acme", "c")
        assert found is not None
        return found

    first = fail(T0)
    assert (first.attempts, first.failing_since, first.failing) == (1, T0, False)
    assert first.retry_at == T0 + SECOND and first.last_error == "HTTP 500"
    assert fail(T0 + 30 * SECOND).failing is False
    late = fail(T0 + minute)
    assert (late.attempts, late.failing_since, late.failing) == (3, T0, True)
    assert not store.consumer_failed(
        "acme", "c", "p2", error="x", retry_at=0, failing_after=0, at=T0
    )
    assert store.advance_consumer("acme", "c", "p1", 0, 4, T0 + 2 * minute)
    cleared = store.get_consumer("acme", "c")
    assert cleared is not None
    assert (cleared.attempts, cleared.failing_since, cleared.failing) == (0, None, False)
    assert (cleared.retry_at, cleared.last_error, cleared.next_seq) == (0, None, 4)


def test_a_replay_moves_the_cursor_under_a_holder_who_then_cannot_advance(
    store: EventStore,
) -> None:
    add_tenant(store)
    store.add_consumer("acme", "c", 50, T0)
    store.take_lease("acme", "c", "p1", T0, T0 + SECOND)
    store.consumer_failed(
        "acme", "c", "p1", error="refused", retry_at=T0 + SECOND, failing_after=0, at=T0
    )
    assert store.move_consumer("acme", "c", 7, T0 + 1) is True
    assert store.advance_consumer("acme", "c", "p1", 50, 60, T0 + 2) is False
    moved = store.get_consumer("acme", "c")
    assert moved is not None
    assert (moved.next_seq, moved.failing, moved.attempts, moved.lease_owner) == (7, False, 0, "p1")
    assert store.move_consumer("acme", "missing", 0, T0) is False


def test_errors_keep_any_text(store: EventStore) -> None:
    add_tenant(store)
    store.add_consumer("acme", "c", 0, T0)
    store.take_lease("acme", "c", "p1", T0, T0 + SECOND)
    text = "ConnectError: \x00 naïve ✓ 'quoted'"
    store.consumer_failed("acme", "c", "p1", error=text, retry_at=0, failing_after=0, at=T0)
    found = store.get_consumer("acme", "c")
    assert found is not None and found.last_error == text
