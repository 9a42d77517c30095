"""Contract: ``query.matcher.matches`` selects exactly what each store's search returns.

The live tail, stream filters and detection rules test events one by one in memory;
the viewer's list and exports ask the database. A phrase must mean the same in both,
on both engines: every query below runs through the store and through the matcher
over the same generated history, and the two answers must be equal.
"""

from __future__ import annotations

import random

import pytest

from sealtrail.events import Actor, Event, Resource, Target
from sealtrail.query import EventQuery, Page, parse_phrase
from sealtrail.query.matcher import matches
from sealtrail.query.text import words
from sealtrail.store.base import EventStore

from .factory import HOUR, T0, add_tenant, append, make_event, sample_history

ACTIONS = [
    ("auth.login", "auth", "access"),
    ("auth.login_failed", "auth", "access"),
    ("member.invited", "members", "create"),
    ("member.role_changed", "members", "update"),
    ("members.invited", "members", "create"),
    ("app.version.restored", "apps", "update"),
    ("workspace.deleted", "organization", "delete"),
    ("audit_log.viewed", "audit_log", "access"),
]
PEOPLE = [
    Actor("user", "u_ada", "owner", "Ada Lovelace", "Ada@Example.com"),
    Actor("user", "u_zoe", "admin", "Zoë Ångström", "zoe.angstrom@example.org"),
    Actor("user", "u_bob", "member", "Bob O'Neil", "bob@corp.example.com"),
    Actor("system", "system"),
    Actor("api_key", "key_1", None, "CI deploy key"),
]
TARGETS = [
    None,
    Target("user", "u_bob", "Bob", "Bob@Example.com"),
    Target("user", "u_carol", "Carol", None),
    Target("team", "t_sales", "Sales team"),
]
RESOURCES = [
    None,
    Resource("app", "app_42", "Support bot"),
    Resource("app", "app_billing-v2", "Billing bot (v2)"),
    Resource("workspace", "ws_1", "Sales"),
]
IPS = [None, "10.1.2.3", "10.200.0.1", "192.168.0.9", "2001:db8::7", "::ffff:10.9.9.9", "fe80::1"]
DESCRIPTIONS = [
    None,
    "Signed in from the Café, via SSO",
    "Ada invited Bob to the team",
    "Workspace Sales deleted by retention",
    "Rolled back to version 3 (hot-fix)",
]

PHRASES = [
    "",
    "action:auth.login",
    "action:member.*",
    "action:app.*",
    "-action:auth.*",
    "category:audit_log",
    "-category:audit_log",
    "kind:delete",
    "kind:access kind:update",
    "actor:u_ada",
    "actor:ada@example.com",
    "actor:ADA@EXAMPLE.COM",
    "-actor:system",
    "target:bob@example.com",
    "target:u_carol",
    "-target:u_bob",
    "resource:app",
    "resource:app/app_42",
    "-resource:workspace",
    "account:acc_1",
    "-account:acc_1",
    "outcome:failure",
    "ip:10.0.0.0/8",
    "-ip:10.0.0.0/8",
    "ip:192.168.0.9",
    "ip:2001:db8::/32",
    "sales",
    "cafe",
    "Café",
    '"invited Bob"',
    '"bob corp"',
    "bob@corp.example.com",
    "billing-v2",
    "angstrom",
    "hot fix",
    "-sales",
    "action:auth.login outcome:failure -ip:10.0.0.0/8",
    "kind:create kind:update account:acc_2 -target:u_bob",
    "created:>2026-03-02 -category:audit_log",
    "created:<2026-03-02T12:00:00Z actor:u_zoe",
]


def _history() -> list[Event]:
    rng = random.Random(20261206)
    events = []
    for i in range(240):
        action, category, kind = rng.choice(ACTIONS)
        events.append(
            make_event(
                "acme",
                f"g{i}",
                action=action,
                category=category,
                kind=kind,
                actor=rng.choice(PEOPLE),
                target=rng.choice(TARGETS),
                resource=rng.choice(RESOURCES),
                ip=rng.choice(IPS),
                description=rng.choice(DESCRIPTIONS),
                account_id=rng.choice([None, "acc_1", "acc_2"]),
                outcome=rng.choice(["success", "success", "failure"]),
                occurred_at=T0 + 6 * HOUR + i * HOUR // 3,
            )
        )
    return events


@pytest.fixture
def history(store: EventStore) -> tuple[EventStore, list[Event]]:
    add_tenant(store, "acme")
    stored = sample_history(store, "acme")
    generated = _history()
    append(store, "acme", *generated)
    return store, stored + generated


def _searched(store: EventStore, query: EventQuery) -> set[str]:
    found: set[str] = set()
    for chunk in store.stream("acme", query):
        found.update(e.id for e in chunk)
    return found


@pytest.mark.parametrize("phrase", PHRASES)
def test_the_matcher_selects_what_the_store_returns(
    history: tuple[EventStore, list[Event]], phrase: str
) -> None:
    store, events = history
    query = parse_phrase(phrase)
    in_memory = {e.id for e in events if matches(query, e)}
    assert in_memory == _searched(store, query)


def test_every_phrase_selects_something_and_leaves_something(
    history: tuple[EventStore, list[Event]],
) -> None:
    """Guards the table above: a phrase matching all or nothing proves little."""
    _, events = history
    trivial = [p for p in PHRASES[1:] if len({matches(parse_phrase(p), e) for e in events}) < 2]
    assert trivial == []


def test_the_store_answers_the_same_page_by_page(history: tuple[EventStore, list[Event]]) -> None:
    store, events = history
    query = parse_phrase("-category:audit_log")
    page = store.search("acme", query, Page(limit=20))
    newest = sorted(
        (e for e in events if matches(query, e)), key=lambda e: (e.occurred_at, e.seq), reverse=True
    )
    assert [e.id for e in page.events] == [e.id for e in newest[:20]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bob@corp.example.com", ("bob", "corp", "example", "com")),
        ("Zoë Ångström", ("zoe", "angstrom")),
        ("Billing bot (v2)", ("billing", "bot", "v2")),
        ("hot-fix, 3", ("hot", "fix", "3")),
        ("  ", ()),
    ],
)
def test_words_split_where_the_full_text_index_splits(text: str, expected: tuple[str, ...]) -> None:
    assert words(text) == expected
