"""Contract: the timeline's pre-aggregate (``event_counts``) answers as the events do.

On random histories (several seeds, batches of random size so one append
holds many events of one (hour, kind, outcome)), every engine's histogram over
random grids and kind/outcome filters is compared three ways: with the
events counted here in Python, and with the same query plus a term that
excludes nothing (``-account_id:…``), which the aggregate may not serve, so
the store counts it through the events' indexes. Then the lowest events are
pruned in batches and the comparison runs again over what is left; erasure
changes no count; and a database whose events were stored before revision
0011 gets them counted by the migration. After each step, the three tables of
counts — ``event_counts`` per hour, ``event_day_counts`` per day (0012,
kept by triggers on the first) and ``actor_day_counts`` per actor and day
(0014) — hold exactly the events' GROUP BY, no row of zero left behind; exact
and capped counts of a time range, with and without one or two actor ids,
answer as the events counted here do.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from sealtrail.events import Actor, Event, from_micros, to_micros
from sealtrail.ledger.leaf import new_salts
from sealtrail.limits import KINDS, OUTCOMES
from sealtrail.privacy import Subject, plan
from sealtrail.query import EventQuery, Field, Term, TimeRange, parse_phrase
from sealtrail.store.base import EventStore, FieldErasure
from sealtrail.store.sql import SQLStore, whole_hours
from sealtrail.timeline import DAY, HOUR, MINUTE, Counts, Grid

from .factory import T0, add_tenant, announce_prune, append, make_event

ACTIONS = ("member.invited", "auth.login", "audit_log.viewed", "app.published")
# A NUL and the PostgreSQL store's escape character: the counts key the id as stored.
ACTORS = ("u_ada", "u_bob", "u_\x00nul", "u_\\slash", "system")
SPAN = 12 * DAY
START = T0 - 2 * DAY
NOTHING_LEFT_OUT = Term(Field.ACCOUNT_ID, ("no-such-account",), negate=True)
QUERIES = {
    "none": EventQuery(),
    "kind": parse_phrase("kind:update"),
    "kinds": EventQuery((Term(Field.KIND, ("create", "delete")),)),
    "not_kind": parse_phrase("-kind:access"),
    "failures": parse_phrase("outcome:failure"),
    "kind_and_outcome": parse_phrase("kind:create outcome:success"),
    "hidden_reads": parse_phrase("-action:audit_log.viewed"),
    "kind_hidden_reads": EventQuery(
        (
            Term(Field.KIND, ("access",)),
            Term(Field.ACTION, ("audit_log.viewed", "auth.login"), negate=True),
        )
    ),
}


def random_history(store: EventStore, tenant_id: str, rng: random.Random, size: int) -> None:
    events = []
    for i in range(size):
        at = START + rng.randrange(SPAN)
        if rng.random() < 0.1:  # on the hour, or a microsecond either side
            at = at // HOUR * HOUR + rng.choice((-1, 0, 1))
        events.append(
            make_event(
                tenant_id,
                f"{tenant_id}-{i}",
                occurred_at=at,
                kind=rng.choice(KINDS),
                outcome=rng.choice(OUTCOMES),
                action=rng.choice(ACTIONS),
                account_id=rng.choice((None, "acc_1", "acc_2")),
                actor=Actor("user", rng.choice(ACTORS), "member"),
            )
        )
    while events:
        size = rng.randint(1, 120)
        append(store, tenant_id, *events[:size])
        events = events[size:]


def random_grid(rng: random.Random) -> Grid:
    since = START - DAY + rng.randrange(SPAN + DAY)
    if rng.random() < 0.3:
        since = since // HOUR * HOUR  # on the hour: no clipped first hour
    length = rng.choice((30 * MINUTE, 3 * HOUR, DAY + 7, 5 * DAY, SPAN + 2 * DAY))
    until = since + rng.randrange(1, length + 1)
    return Grid.over(since, until, rng.randint(1, 120))


def expected(
    events: Sequence[tuple[int, str, str, str, str]], query: EventQuery, grid: Grid
) -> list[Counts]:
    """The buckets counted here from (occurred_at, kind, outcome, action, …) tuples."""
    edges = grid.edges()
    buckets: list[dict[str, int]] = [{} for _ in range(len(edges) - 1)]
    failures = [0] * len(buckets)
    for at, kind, outcome, action, *_ in events:
        if not grid.since <= at < grid.until or not _matches(query, kind, outcome, action):
            continue
        index = next(i for i in range(len(buckets)) if edges[i] <= at < edges[i + 1])
        buckets[index][kind] = buckets[index].get(kind, 0) + 1
        failures[index] += outcome == "failure"
    return [Counts(b, f) for b, f in zip(buckets, failures, strict=True)]  # type: ignore[arg-type]


def _matches(query: EventQuery, kind: str, outcome: str, action: str) -> bool:
    values = {Field.KIND: kind, Field.OUTCOME: outcome, Field.ACTION: action}
    return all((values[t.field] in t.values) != t.negate for t in query.terms)


def stored(store: EventStore, tenant_id: str) -> list[tuple[int, str, str, str, str]]:
    return [
        (e.occurred_at, e.kind, e.outcome, e.action, e.actor.id)
        for chunk in store.stream(tenant_id, EventQuery())
        for e in chunk
    ]


def same(a: Sequence[Counts], b: Sequence[Counts]) -> bool:
    def plain(counts: Sequence[Counts]) -> list[tuple[dict[str, int], int]]:
        return [({k: n for k, n in c.by_kind.items() if n}, c.failures) for c in counts]

    return plain(a) == plain(b)


def counted_as_grouped(store: EventStore) -> None:
    """``event_counts`` and ``event_day_counts`` hold the events grouped by (tenant, UTC
    hour or day, kind, outcome), every tenant's, and no other row."""
    assert isinstance(store, SQLStore)

    def rows(sql: str, tenant_id: str) -> list[Any]:
        return store._read(lambda c: store._execute(c, sql, (tenant_id,)).fetchall())

    for tenant_id in ("acme", "globex"):  # one tenant a statement, as Citus routes them
        events = rows(
            "SELECT occurred_at, kind, outcome FROM events WHERE tenant_id = ?", tenant_id
        )
        for table, column, width in (
            ("event_counts", "hour", HOUR),
            ("event_day_counts", "day", DAY),
        ):
            want = Counter((at - at % width, k, o) for at, k, o in events)
            found = rows(
                f"SELECT {column}, kind, outcome, events FROM {table} WHERE tenant_id = ?",
                tenant_id,
            )
            assert {(at, k, o): int(n) for at, k, o, n in found} == want, (tenant_id, table)
            assert len(found) == len(want), (tenant_id, table)  # no key twice
        by_actor = rows("SELECT actor_id, occurred_at FROM events WHERE tenant_id = ?", tenant_id)
        want_actors = Counter((a, at - at % DAY) for a, at in by_actor)
        found = rows(
            "SELECT actor_id, day, events FROM actor_day_counts WHERE tenant_id = ?", tenant_id
        )
        assert {(a, day): int(n) for a, day, n in found} == want_actors, tenant_id
        assert len(found) == len(want_actors), tenant_id


def compare(store: EventStore, rng: random.Random, rounds: int) -> int:
    """Random grids and queries, each answered three ways; how many the aggregate served."""
    events = stored(store, "acme")
    served = 0
    for _ in range(rounds):
        grid = random_grid(rng)
        name = rng.choice(sorted(QUERIES))
        query = QUERIES[name]
        answer = store.histogram("acme", query, grid)
        by_index = store.histogram("acme", EventQuery((*query.terms, NOTHING_LEFT_OUT)), grid)
        want = expected(events, query, grid)
        assert same(answer, want), (name, grid)
        assert same(by_index, want), (name, grid)
        served += whole_hours(grid) is not None
    return served


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_aggregate_answers_as_the_events_do_before_and_after_a_prune(
    store: EventStore, seed: int
) -> None:
    rng = random.Random(seed)
    add_tenant(store, "acme")
    add_tenant(store, "globex")  # another tenant's counts in the same hours
    random_history(store, "globex", rng, 200)
    random_history(store, "acme", rng, 700)
    counted_as_grouped(store)
    assert compare(store, rng, 60) >= 20  # many grids were whole hours: served by the aggregate

    below = rng.randrange(200, 500)
    announce_prune(store, "acme", 0, below)
    while store.prune_events("acme", rng.randint(1, 150)):
        pass
    assert store.count("acme", EventQuery(), cap=None) == 700 + 1 - below
    counted_as_grouped(store)
    assert compare(store, rng, 40) >= 10  # the pruned events left the counts too


def salted(event: Event) -> Event:
    return replace(event, salts=new_salts(event.to_dict()))


def test_erasure_changes_no_count(store: EventStore) -> None:
    add_tenant(store, "acme")
    bob = Actor("user", "u_bob", "member", "Bob", "bob@example.com")
    append(
        store,
        "acme",
        *(
            salted(make_event("acme", f"e{i}", actor=bob, occurred_at=T0 + i * 7 * MINUTE))
            for i in range(30)
        ),
    )
    grid = Grid.over(T0 - HOUR, T0 + 5 * HOUR, 6)
    before = store.histogram("acme", EventQuery(), grid)
    found = store.subject_events("acme", Subject("id", "u_bob"))
    assert (
        store.erase_fields(
            "acme", [FieldErasure(e.seq, plan(e, Subject("id", "u_bob"))) for e in found]
        )
        == 30
    )
    assert store.histogram("acme", EventQuery(), grid) == before
    counted_as_grouped(store)
    assert sum(c.count for c in before) == 30


def test_a_batch_of_one_hour_adds_one_count(store: EventStore) -> None:
    add_tenant(store, "acme")
    events = [make_event("acme", f"e{i}", occurred_at=T0 + i) for i in range(50)]
    append(store, "acme", *events)
    append(store, "acme", *[replace(e, id=f"again-{e.id}") for e in events[:10]])
    # A repeated id is not appended again, and is not counted again either.
    append(store, "acme", *events[:5])
    grid = Grid.over(T0 - DAY, T0 + DAY, 2)
    assert whole_hours(grid) is not None
    assert [c.by_kind.get("create", 0) for c in store.histogram("acme", EventQuery(), grid)] == [
        0,
        60,
    ]


# -- exact counts of a time range, summed from the counts ------------------------------------
def random_ranges(rng: random.Random, rounds: int) -> list[TimeRange]:
    """Open, empty and random ranges: off the hour (clipped first and last hours), on
    the hour, under an hour, a day and a bit, the whole span and more."""
    ranges = [TimeRange(), TimeRange(until=from_micros(START)), TimeRange(since=from_micros(T0))]
    ranges.append(TimeRange(from_micros(T0), from_micros(T0)))  # empty: since == until
    for _ in range(rounds):
        since = START - DAY + rng.randrange(SPAN + DAY)
        if rng.random() < 0.3:
            since = since // HOUR * HOUR
        length = rng.choice((30 * MINUTE, 3 * HOUR, DAY + 7, 5 * DAY, SPAN + 2 * DAY))
        until = since + rng.randrange(1, length + 1)
        ranges.append(
            rng.choice(
                (
                    TimeRange(from_micros(since), from_micros(until)),
                    TimeRange(since=from_micros(since)),
                    TimeRange(until=from_micros(until)),
                )
            )
        )
    return ranges


def compare_counts(store: EventStore, tenant_id: str, rng: random.Random, rounds: int) -> int:
    """Each range's exact and capped count against the events counted here and through
    the events' indexes (a term that leaves nothing out keeps the counts from serving);
    how many ranges held a whole hour (what the counts serve)."""
    events = stored(store, tenant_id)
    served = 0
    for span in random_ranges(rng, rounds):
        since = to_micros(span.since) if span.since is not None else None
        until = to_micros(span.until) if span.until is not None else None
        want = sum(
            (since is None or since <= at) and (until is None or at < until) for at, *_ in events
        )
        query = EventQuery(time=span)
        assert store.count(tenant_id, query, cap=None) == want, span
        assert store.count(tenant_id, EventQuery((NOTHING_LEFT_OUT,), span), cap=None) == want
        cap = rng.choice((0, 1, want - 1, want, want + 1, 10_000))
        if cap >= 0:
            assert store.count(tenant_id, query, cap) == (want if want <= cap else None), span
        low, high = since if since is not None else -(2**62), until if until is not None else 2**62
        served += -(-low // HOUR) * HOUR < high // HOUR * HOUR
        # One actor, or two, in the same range: whole days summed from actor_day_counts.
        actors = tuple(rng.sample(ACTORS, rng.choice((1, 1, 2))))
        want = sum(
            (since is None or since <= at) and (until is None or at < until) and actor in actors
            for at, *_, actor in events
        )
        query = EventQuery((Term(Field.ACTOR_ID, actors),), span)
        assert store.count(tenant_id, query, cap=None) == want, (span, actors)
        by_index = EventQuery((Term(Field.ACTOR_ID, actors), NOTHING_LEFT_OUT), span)
        assert store.count(tenant_id, by_index, cap=None) == want, (span, actors)
        cap = rng.choice((0, want - 1, want, 10_000))
        if cap >= 0:
            assert store.count(tenant_id, query, cap) == (want if want <= cap else None), span
    return served


@pytest.mark.parametrize("seed", [4, 5])
def test_counts_of_a_time_range_are_exact_before_and_after_a_prune(
    store: EventStore, seed: int
) -> None:
    rng = random.Random(seed)
    for tenant_id in ("acme", "globex", "empty"):
        add_tenant(store, tenant_id)
    random_history(store, "globex", rng, 200)  # another tenant's counts in the same hours
    random_history(store, "acme", rng, 600)
    assert compare_counts(store, "acme", rng, 60) >= 30
    assert compare_counts(store, "empty", rng, 10) >= 5
    assert store.count("empty", EventQuery(), cap=None) == 0

    announce_prune(store, "acme", 0, rng.randrange(100, 400))
    while store.prune_events("acme", rng.randint(1, 150)):
        pass
    assert compare_counts(store, "acme", rng, 40) >= 20

    # Every event but the prune's own announcement pruned: the tenant counts one.
    size = store.count("globex", EventQuery(), cap=None)
    assert size == 200
    announce_prune(store, "globex", 0, size)
    while store.prune_events("globex", 150):
        pass
    assert store.count("globex", EventQuery(), cap=None) == 1
    assert compare_counts(store, "globex", rng, 20) >= 10


def test_erasure_changes_no_count_of_a_time_range(store: EventStore) -> None:
    add_tenant(store, "acme")
    bob = Actor("user", "u_bob", "member", "Bob", "bob@example.com")
    append(
        store,
        "acme",
        *(
            salted(make_event("acme", f"e{i}", actor=bob, occurred_at=T0 + i * 7 * MINUTE))
            for i in range(30)
        ),
    )
    found = store.subject_events("acme", Subject("id", "u_bob"))
    store.erase_fields(
        "acme", [FieldErasure(e.seq, plan(e, Subject("id", "u_bob"))) for e in found]
    )
    assert store.count("acme", EventQuery(), cap=None) == 30
    assert compare_counts(store, "acme", random.Random(6), 20) >= 10
