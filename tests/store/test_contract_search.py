"""Contract: every filter, negation, free text, order, pages and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

import pytest

from sealtrail.events import Actor, Event, from_micros, to_micros
from sealtrail.query import (
    EventQuery,
    Field,
    Page,
    Term,
    TimeRange,
    parse_phrase,
    query_from_params,
)
from sealtrail.store.base import EventStore

from .conftest import STANDBY_ENGINES
from .factory import HOUR, T0, add_tenant, append, make_event, sample_history

# Also against a real hot standby: searches and counts are read from it.
pytestmark = pytest.mark.parametrize("store", STANDBY_ENGINES, indirect=True)


def ids(store: EventStore, query: EventQuery, tenant: str = "acme") -> list[str]:
    return [e.id for e in store.search(tenant, query, Page(limit=200)).events]


def params(**values: str | list[str]) -> EventQuery:
    raw = {k: v if isinstance(v, list) else [v] for k, v in values.items()}
    return query_from_params(raw)[0]


@pytest.fixture
def history(store: EventStore) -> EventStore:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    sample_history(store, "acme")
    sample_history(store, "globex")
    return store


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["e5", "e4", "e3", "e2", "e1", "e0"]),
        ({"action": "auth.login"}, ["e5", "e0"]),
        ({"action": ["auth.login", "app.published"]}, ["e5", "e3", "e0"]),
        ({"action": "member.*"}, ["e2", "e1"]),
        ({"category": "apps"}, ["e3"]),
        ({"kind": "delete"}, ["e4"]),
        ({"actor_id": "u_carol"}, ["e5"]),
        ({"actor_email": "ADA@example.com"}, ["e3", "e2", "e1", "e0"]),
        ({"target_id": "u_bob"}, ["e2", "e1"]),
        ({"resource_type": "workspace"}, ["e4"]),
        ({"resource_id": "app_42"}, ["e3"]),
        ({"account_id": "acc_1"}, ["e3", "e1"]),
        ({"outcome": "failure"}, ["e0"]),
        ({"ip": "10.0.0.0/8"}, ["e0"]),
        ({"ip": "192.168.0.9"}, ["e5"]),
        ({"ip": "2001:db8::/32"}, ["e3"]),
        ({"q": "Sales"}, ["e4"]),
        ({"q": "bob@example.com"}, ["e2", "e1"]),
        ({"q": "support bot"}, ["e3"]),
        ({"q": "nothing-like-this"}, []),
        ({"since": "2026-03-01T02:00:00Z"}, ["e5", "e4", "e3", "e2"]),
        ({"until": "2026-03-01T02:00:00Z"}, ["e1", "e0"]),
        ({"until": "2026-03-01"}, ["e5", "e4", "e3", "e2", "e1", "e0"]),
        ({"order": "asc", "action": "auth.login"}, ["e0", "e5"]),
        ({"phrase": "-action:auth.login -actor:system"}, ["e3", "e2", "e1"]),
        ({"phrase": "target:bob@example.com account:acc_2"}, ["e2"]),
        ({"phrase": "resource:app/app_42"}, ["e3"]),
        ({"phrase": "resource:workspace"}, ["e4"]),
        ({"phrase": "-ip:10.0.0.0/8 kind:access"}, ["e5"]),
        ({"phrase": '"invited Bob"'}, ["e1"]),
    ],
)
def test_filters(
    history: EventStore, filters: dict[str, str | list[str]], expected: list[str]
) -> None:
    assert ids(history, params(**filters)) == expected


def test_nothing_crosses_tenants(history: EventStore) -> None:
    append(history, "globex", make_event("globex", "only-globex", description="secret globex plan"))
    assert ids(history, parse_phrase("secret")) == []
    assert ids(history, parse_phrase("secret"), tenant="globex") == ["only-globex"]
    assert history.get_event("acme", "only-globex") is None


def test_account_scope_term_limits_results(history: EventStore) -> None:
    scoped = EventQuery(terms=(Term(Field.ACCOUNT_ID, ("acc_1", "acc_2")),))
    assert ids(history, scoped) == ["e3", "e2", "e1"]


def test_cursor_pages_cover_everything_once(history: EventStore) -> None:
    from sealtrail.query import Cursor, Order

    add_tenant(history, "big")
    append(
        history,
        "big",
        *(make_event("big", f"b{i}", occurred_at=T0 + (i // 3) * HOUR) for i in range(25)),
    )
    orders: tuple[Order, ...] = ("desc", "asc")
    for order in orders:
        query = EventQuery(order=order)
        seen: list[int] = []
        cursor = None
        while True:
            result = history.search("big", query, Page(limit=4, cursor=cursor))
            seen += [e.seq for e in result.events]
            if not result.has_more:
                break
            last = result.events[-1]
            cursor = Cursor(last.occurred_at, last.seq, order)
        expected = sorted(range(25), key=lambda s: (s // 3, s), reverse=order == "desc")
        assert seen == expected


def test_offset_and_total(history: EventStore) -> None:
    result = history.search("acme", EventQuery(), Page(limit=2, offset=2))
    assert [e.id for e in result.events] == ["e3", "e2"]
    assert result.total == 6 and result.has_more
    assert history.count("acme", params(action="auth.login")) == 2
    assert history.count("acme", EventQuery(), cap=3) is None


def test_empty_time_range_matches_nothing(history: EventStore) -> None:
    moment = datetime(2026, 3, 1, 3, tzinfo=UTC)
    assert ids(history, EventQuery(time=TimeRange(moment, moment))) == []


def test_stream_yields_every_match_in_order(history: EventStore) -> None:
    chunks = list(history.stream("acme", params(order="asc"), chunk_size=4))
    assert [len(c) for c in chunks] == [4, 2]
    assert [e.id for c in chunks for e in c] == ["e0", "e1", "e2", "e3", "e4", "e5"]


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def test_pages_across_months_are_whole_and_in_order(store: EventStore) -> None:
    """Pages through the last months, where PostgreSQL reads the recent month
    partitions (or an actor's newest days) first and the rest after
    (``_page_windows``): every page equals the
    ordered matches, across each month start, with several events at one moment
    on either side of it, for pages of any size, with filters, bounds and cursors."""
    from sealtrail.query import Cursor

    add_tenant(store, "months")
    now = datetime.now(UTC)
    edges = [_month_start(now - timedelta(days=days)) for days in (0, 30, 61, 92)]
    moments = [now - timedelta(days=d, hours=5) for d in range(0, 120, 3)]
    for edge in edges:
        moments += [edge - timedelta(microseconds=1), edge, edge, edge + timedelta(microseconds=1)]
    kinds = ("create", "update", "delete")
    events = [
        make_event(
            "months",
            f"m{i}",
            occurred_at=to_micros(at),
            received_at=to_micros(at),
            kind=kinds[i % 3],
            outcome="failure" if i % 7 == 0 else "success",
            actor=Actor("user", f"u_{i % 4}", "member", None, None),
            ip=f"10.1.2.{i}" if i % 2 else f"192.168.0.{i}",
        )
        for i, at in enumerate(sorted(moments))
    ]
    append(store, "months", *events)
    by_id = {e.id: (e.occurred_at, i) for i, e in enumerate(events)}  # seq follows i

    queries = [
        EventQuery(),
        params(kind="update"),
        params(kind="delete", outcome="failure"),
        params(actor_id="u_1"),  # from the actor's newest days that hold a page, then the rest
        EventQuery((Term(Field.ACTOR_ID, ("u_1", "u_2")),)),
        EventQuery((Term(Field.ACTOR_ID, ("u_3",)),), TimeRange(None, edges[1])),
        params(ip="10.1.2.0/24"),  # sorted as index entries, the page's rows read last
        EventQuery((Term(Field.KIND, ("create",), negate=True),)),
        EventQuery(time=TimeRange(None, edges[1])),
        EventQuery(time=TimeRange(edges[2], edges[0] + timedelta(days=2))),
        EventQuery(time=TimeRange(edges[1] - timedelta(days=1), None)),
    ]
    for query in queries:
        expected = sorted(
            (e.id for e in events if _matches(e, query)),
            key=lambda ident: by_id[ident],
            reverse=True,
        )
        assert expected, query
        for limit in (1, 5, 7, 50):
            first = store.search("months", query, Page(limit))
            assert [e.id for e in first.events] == expected[:limit], (query, limit)
            assert first.has_more == (len(expected) > limit)
            seen: list[str] = []
            cursor = None
            while True:
                result = store.search("months", query, Page(limit, cursor=cursor), with_total=False)
                seen += [e.id for e in result.events]
                if not result.has_more:
                    break
                last = result.events[-1]
                cursor = Cursor(last.occurred_at, last.seq, "desc")
            assert seen == expected, (query, limit)


def _matches(event: Event, query: EventQuery) -> bool:
    since, until = query.time.since, query.time.until
    if (since is not None and event.occurred_at < to_micros(since)) or (
        until is not None and event.occurred_at >= to_micros(until)
    ):
        return False
    for term in query.terms:
        if term.field is Field.IP:
            networks = [v for v in term.values if isinstance(v, IPv4Network | IPv6Network)]
            found = any(ip_address(event.ip or "0.0.0.0") in net for net in networks)
        else:
            value = {
                Field.KIND: event.kind,
                Field.OUTCOME: event.outcome,
                Field.ACTOR_ID: event.actor.id,
            }[term.field]
            found = value in term.values
        if found == term.negate:
            return False
    return True


def test_an_id_or_email_count_is_exact_up_to_its_cap(store: EventStore) -> None:
    """``actor:<address>`` matches the actor id or (case-insensitively) the email: an
    event matching both is counted once, and a cap is passed by the union even where
    neither column alone passes it."""
    add_tenant(store, "either")
    address = "ann@example.com"
    actors = (
        [Actor("user", address, "member", None, None)] * 3  # the id only
        + [Actor("user", f"u{i}", "member", None, "Ann@Example.com") for i in range(4)]
        + [Actor("user", address, "member", None, address)] * 2  # both
        + [Actor("user", "other", "member", None, "other@example.com")] * 5
    )
    events = [
        make_event(
            "either",
            f"x{i}",
            actor=actor,
            kind="delete" if i in (1, 4) else "update",
            occurred_at=T0 + i * HOUR,
            received_at=T0 + i * HOUR,
        )
        for i, actor in enumerate(actors)
    ]
    append(store, "either", *events)
    query = parse_phrase(f"actor:{address}")
    assert store.count("either", query, cap=None) == 9
    for cap, expected in ((100, 9), (9, 9), (8, None), (5, None), (2, None)):
        assert store.count("either", query, cap=cap) == expected, cap
    not_deleted = query.and_(parse_phrase("-kind:delete"))
    assert store.count("either", not_deleted, cap=None) == 7
    assert store.count("either", not_deleted, cap=7) == 7
    assert store.count("either", not_deleted, cap=6) is None
    later = query.and_(EventQuery(time=TimeRange(from_micros(T0 + 5 * HOUR), None)))
    assert store.count("either", later, cap=10) == 4
    result = store.search("either", query, Page(limit=3))
    assert result.total == 9 and [e.id for e in result.events] == ["x8", "x7", "x6"]
