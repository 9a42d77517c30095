"""Contract: appends are gap-free, idempotent on id, atomic, and grow the tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from sealtrail.errors import InconsistentTree
from sealtrail.events import Event
from sealtrail.ledger import merkle, tree
from sealtrail.query import EventQuery
from sealtrail.store.base import EventStore, SealedBatch, TreeHead

from .factory import add_tenant, append, fake_leaf, make_event, seal


def test_seq_is_gap_free_per_tenant_from_zero(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    first = append(store, "acme", make_event("acme", "a"), make_event("acme", "b"))
    other = append(store, "globex", make_event("globex", "a"))
    second = append(store, "acme", make_event("acme", "c"))
    assert [r.seq for r in first + second] == [0, 1, 2]
    assert [(r.seq, r.created) for r in other] == [(0, True)]


def test_resend_returns_original_seq_and_stores_nothing(store: EventStore) -> None:
    add_tenant(store)
    append(store, "acme", make_event("acme", "a"), make_event("acme", "b"))
    again = append(
        store, "acme", make_event("acme", "b", action="app.deleted"), make_event("acme", "c")
    )
    assert [(r.id, r.seq, r.created) for r in again] == [("b", 1, False), ("c", 2, True)]
    stored = store.get_event("acme", "b")
    assert stored is not None and stored.action == "member.invited"
    assert store.tree_head("acme").size == 3


def test_repeated_id_within_a_batch_is_stored_once(store: EventStore) -> None:
    add_tenant(store)
    receipts = append(store, "acme", make_event("acme", "x"), make_event("acme", "x"))
    assert [(r.seq, r.created) for r in receipts] == [(0, True), (0, False)]


def test_same_id_in_two_tenants_is_two_events(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    append(store, "acme", make_event("acme", "same"))
    assert append(store, "globex", make_event("globex", "same"))[0].created


def test_a_failing_seal_stores_nothing(store: EventStore) -> None:
    add_tenant(store)
    append(store, "acme", make_event("acme", "a"))

    def broken(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
        raise RuntimeError("hash failure")

    with pytest.raises(RuntimeError):
        store.append("acme", [make_event("acme", "b")], broken)
    assert store.get_event("acme", "b") is None
    assert store.tree_head("acme").size == 1
    assert append(store, "acme", make_event("acme", "b"))[0].seq == 1


def test_tree_state_matches_a_full_recomputation(store: EventStore) -> None:
    add_tenant(store)
    for batch in range(7):
        append(store, "acme", *(make_event("acme", f"e{batch}-{i}") for i in range(batch + 1)))
    head = store.tree_head("acme")
    assert head.size == 28
    leaves = store.leaf_hashes("acme", 0, head.size)
    stored = store.get_events_by_seq("acme", list(range(head.size)))
    assert leaves == [fake_leaf(e) for e in stored]
    assert tree.root_from_frontier(head.frontier, head.size) == merkle.root_from_leaf_hashes(leaves)

    class Reader:
        def nodes(self, keys: Sequence[tuple[int, int]]) -> Sequence[bytes]:
            return store.tree_nodes("acme", keys)

    for index in (0, 5, 27):
        proof = tree.inclusion_proof_from_nodes(Reader(), index, head.size)
        assert proof == merkle.inclusion_proof(index, head.size, leaves)


def test_events_round_trip_every_field(store: EventStore) -> None:
    from sealtrail.events import Actor, Resource, Target

    add_tenant(store)
    naughty = "‮<script>alert(1)</script>\u0000'\"\\ 𝕏 \r\n=cmd|' /C calc'!A0"
    event = make_event(
        "acme",
        "rt",
        actor=Actor("user", "u1", "admin", naughty, "a@example.com"),
        target=Target("user", "u2", "T", "t@example.com"),
        resource=Resource("app", "app_1", naughty),
        account_id="acc",
        description=naughty,
        context={"nested": {"list": [1, 2.5, None, True, naughty]}, "big": 2**53},
        ip="::ffff:10.0.0.1",
        user_agent=naughty,
        request_id="req-1",
    )
    append(store, "acme", event)
    got = store.get_event("acme", "rt")
    assert got is not None
    assert got.to_dict(include_salts=True) == {**event.to_dict(include_salts=True), "seq": 0}


@pytest.mark.parametrize("flaw", ["gap", "short", "size", "tenant"])
def test_a_sealer_that_would_break_the_log_is_refused(store: EventStore, flaw: str) -> None:
    add_tenant(store)
    append(store, "acme", make_event("acme", "first"))

    def broken(head: TreeHead, fresh: Sequence[Event]) -> SealedBatch:
        good = seal(head, fresh)
        events = list(good.events)
        if flaw == "gap":
            events[0] = replace(events[0], seq=events[0].seq + 1)
        elif flaw == "short":
            events = events[:-1]
        elif flaw == "tenant":
            events[0] = replace(events[0], tenant_id="globex")
        else:
            return replace(good, head=TreeHead())
        return replace(good, events=events, leaf_hashes=good.leaf_hashes[: len(events)])

    with pytest.raises(InconsistentTree):
        store.append("acme", [make_event("acme", "x"), make_event("acme", "y")], broken)
    assert store.tree_head("acme").size == 1
    assert store.count("acme", EventQuery()) == 1
