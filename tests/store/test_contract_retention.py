"""The store contract for retention: policies, legal holds, recorded prunes, the prune path."""

from __future__ import annotations

import pytest

from sealtrail.errors import NotFound
from sealtrail.query import EventQuery, Page, parse_phrase
from sealtrail.retention import PRUNED_ACTION, Hold, Prune, RetentionPolicy, Row, Rule
from sealtrail.store.base import EventStore, StoredCheckpoint

from .factory import HOUR, T0, add_tenant, append, fake_leaf, make_event

SIZE = 12


def _log(store: EventStore, size: int = SIZE) -> None:
    add_tenant(store)
    events = [
        make_event("acme", f"e{i}", occurred_at=T0 + i * HOUR, account_id=f"acc_{i % 2}")
        for i in range(size)
    ]
    append(store, "acme", *events)


def _announce(store: EventStore, first: int, below: int) -> Prune:
    """What AuditLog.prune does before a row goes: announce, sign, record."""
    receipt = append(store, "acme", make_event("acme", f"pruned{below}", action=PRUNED_ACTION))[0]
    store.add_checkpoint(StoredCheckpoint("acme", receipt.seq + 1, b"r" * 32, "note", T0))
    prune = Prune("acme", first, below, receipt.seq, T0)
    store.add_prune(prune)
    return prune


def test_a_policy_is_kept_forever_by_default_and_replaced_whole(store: EventStore) -> None:
    add_tenant(store)
    assert store.get_retention("acme") == RetentionPolicy()
    policy = RetentionPolicy(365, (Rule("auth.", 30), Rule("member.invited", 90)))
    store.set_retention("acme", policy)
    assert store.get_retention("acme") == policy
    store.set_retention("acme", RetentionPolicy(None, (Rule("auth.", 7),)))
    assert store.get_retention("acme") == RetentionPolicy(None, (Rule("auth.", 7),))
    with pytest.raises(NotFound):
        store.set_retention("nobody", policy)


def test_holds_are_released_once_never_removed(store: EventStore) -> None:
    add_tenant(store)
    held = Hold("hold_1", "acme", "case 7 ‘ünïcode’", '{"type":"system"}', T0, "acc_1", T0, T0 + 1)
    store.add_hold(held)
    store.add_hold(Hold("hold_2", "acme", "case 8", "{}", T0 + 1))
    assert store.holds("acme") == [held, Hold("hold_2", "acme", "case 8", "{}", T0 + 1)]
    assert store.release_hold("acme", "hold_1", T0 + 5, "op")
    assert not store.release_hold("acme", "hold_1", T0 + 6, "op")
    assert not store.release_hold("other", "hold_2", T0 + 6, "op")
    assert [h.id for h in store.holds("acme", active_only=True)] == ["hold_2"]
    released = store.holds("acme")[0]
    assert (released.released_at, released.released_by) == (T0 + 5, "op")


def test_retention_rows_are_read_in_seq_order(store: EventStore) -> None:
    _log(store)
    rows = store.retention_rows("acme", 3, 4)
    assert rows == [Row(i, "member.invited", T0 + i * HOUR, f"acc_{i % 2}") for i in range(3, 7)]
    assert store.retention_rows("acme", SIZE, 10) == []


def test_a_prune_must_be_announced_contiguous_and_signed(store: EventStore) -> None:
    _log(store)
    with pytest.raises(Exception, match="announced"):  # no announcement, no checkpoint
        store.add_prune(Prune("acme", 0, 4, 3, T0))
    prune = _announce(store, 0, 4)
    assert store.prunes("acme") == [prune]
    with pytest.raises(Exception, match="announced"):  # does not start where the last ended
        store.add_prune(Prune("acme", 2, 6, SIZE, T0))
    with pytest.raises(Exception, match="announced"):  # beyond the newest checkpoint
        store.add_prune(Prune("acme", 4, 40, SIZE, T0))


def test_pruning_deletes_the_lowest_rows_in_batches_and_keeps_their_leaves(
    store: EventStore,
) -> None:
    _log(store)
    assert store.prune_events("acme", 100) == 0  # nothing recorded: nothing goes
    leaves = [fake_leaf(e) for e in store.get_events_by_seq("acme", list(range(SIZE)))]
    nodes_before = store.tree_nodes("acme", [(1, 0), (2, 0), (3, 0)])
    _announce(store, 0, 7)
    assert store.keep_leaves("acme", 0, 2) == 2
    assert store.keep_leaves("acme", 0, 2) == 0  # idempotent
    assert store.prune_events("acme", 3) == 3
    assert [e.seq for e in store.get_events_by_seq("acme", list(range(SIZE + 1)))] == list(
        range(3, SIZE + 1)
    )
    assert store.prune_events("acme", 3) == 3
    assert store.prune_events("acme", 3) == 1
    assert store.prune_events("acme", 3) == 0
    assert store.get_event("acme", "e6") is None and store.get_event("acme", "e7") is not None
    # Every pruned leaf and every inner node still answers, so every proof still computes.
    assert store.tree_nodes("acme", [(0, i) for i in range(SIZE)]) == leaves
    assert store.leaf_hashes("acme", 0, SIZE) == leaves
    assert store.tree_nodes("acme", [(1, 0), (2, 0), (3, 0)]) == nodes_before
    # Search, counts and the free-text index forget the pruned rows.
    assert store.count("acme", EventQuery()) == SIZE + 1 - 7
    assert [e.seq for e in store.search("acme", parse_phrase("e3"), Page()).events] == []
    store.prune_progress("acme", 7, 7, T0 + 9)
    assert store.prunes("acme")[0].finished_at == T0 + 9


def test_pruned_rows_leave_the_full_text_index(store: EventStore) -> None:
    add_tenant(store)
    append(
        store,
        "acme",
        make_event("acme", "a", description="zanzibar quokka"),
        make_event("acme", "b", description="quokka only"),
    )
    _announce(store, 0, 1)
    assert store.prune_events("acme", 10) == 1
    assert store.search("acme", parse_phrase('"zanzibar"'), Page()).events == []
    assert [e.id for e in store.search("acme", parse_phrase('"quokka"'), Page()).events] == ["b"]
