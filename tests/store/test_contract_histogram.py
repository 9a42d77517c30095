"""Contract: a histogram's buckets count every filter's matches by kind, as search finds them."""

from __future__ import annotations

import pytest

from sealtrail.limits import KINDS
from sealtrail.query import EventQuery, Page, TimeRange, parse_phrase, query_from_params
from sealtrail.store.base import EventStore
from sealtrail.timeline import MINUTE, Grid

from .factory import HOUR, T0, add_tenant, append, make_event, sample_history


@pytest.fixture
def history(store: EventStore) -> EventStore:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    sample_history(store, "acme")
    sample_history(store, "globex")
    return store


def matches(store: EventStore, query: EventQuery, since: int, until: int) -> list[str]:
    from sealtrail.events import from_micros

    timed = EventQuery(query.terms, TimeRange(from_micros(since), from_micros(until)))
    return [e.id for e in store.search("acme", timed, Page(200)).events]


QUERIES = {
    "none": EventQuery(),
    "kind": query_from_params({"kind": ["update"]})[0],
    "kinds": parse_phrase("-kind:update"),
    "outcome": query_from_params({"outcome": ["failure"]})[0],
    "account": query_from_params({"account_id": ["acc_1"]})[0],
    "text": query_from_params({"q": ["retention"]})[0],
    "prefix": query_from_params({"action": ["member.*"]})[0],
    "ip": query_from_params({"ip": ["10.0.0.0/8"]})[0],
    "not_actions": parse_phrase("-action:auth.login -action:app.published"),
    "kind_not_action": parse_phrase("kind:access -action:auth.login"),
    "not_prefix": parse_phrase("-action:member.*"),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_each_bucket_holds_what_search_finds_in_it(history: EventStore, name: str) -> None:
    query = QUERIES[name]
    grid = Grid.over(T0 - 30 * MINUTE, T0 + 6 * HOUR, 8)  # hour buckets, the first clipped
    assert grid.width == HOUR and grid.size == 7
    counts = history.histogram("acme", query, grid)
    edges = grid.edges()
    assert len(counts) == len(edges) - 1
    for i, bucket in enumerate(counts):
        found = matches(history, query, edges[i], edges[i + 1])
        assert bucket.count == len(found), (i, found)
        for kind in KINDS:
            of_kind = EventQuery((*query.terms, *parse_phrase(f"kind:{kind}").terms))
            assert bucket.by_kind.get(kind, 0) == len(
                matches(history, of_kind, edges[i], edges[i + 1])
            ), (i, kind)
        failed = EventQuery((*query.terms, *parse_phrase("outcome:failure").terms))
        assert bucket.failures == len(matches(history, failed, edges[i], edges[i + 1]))


def test_a_bucket_edge_is_exact_to_the_microsecond(store: EventStore) -> None:
    add_tenant(store, "acme")
    append(
        store,
        "acme",
        make_event("acme", "before", occurred_at=T0 + HOUR - 1),
        make_event("acme", "on", occurred_at=T0 + HOUR),
        make_event("acme", "last", occurred_at=T0 + 2 * HOUR - 1),
        make_event("acme", "after", occurred_at=T0 + 2 * HOUR),
    )
    for query in (EventQuery(), query_from_params({"actor_id": ["u_admin"]})[0]):
        counts = store.histogram("acme", query, Grid.over(T0, T0 + 2 * HOUR, 2))
        assert [c.count for c in counts] == [1, 2]


def test_other_tenants_and_outside_the_grid_are_not_counted(history: EventStore) -> None:
    grid = Grid.over(T0 + HOUR, T0 + 3 * HOUR, 2)
    for query in QUERIES.values():
        counts = history.histogram("acme", query, grid)
        assert sum(c.count for c in counts) <= 2
    assert [c.count for c in history.histogram("acme", EventQuery(), grid)] == [1, 1]
    assert history.histogram("nobody", EventQuery(), grid)[0].count == 0
