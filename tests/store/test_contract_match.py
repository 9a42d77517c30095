"""Contract: ``query.match`` reads a phrase in memory exactly as each store's search does.

Detections evaluate rules one event at a time with the matcher; a rule must select
the events a search with the same phrase shows. Every phrase below is run both ways,
on both engines, over the same events.
"""

from __future__ import annotations

import pytest
from sealtrail.query.match import matches

from sealtrail.events import Actor, Event, Resource, Target
from sealtrail.query import Page, parse_phrase
from sealtrail.store.base import EventStore

from .factory import HOUR, T0, add_tenant, append, make_event, sample_history

PHRASES = [
    "",
    "action:auth.login",
    "action:member.*",
    "action:member.* action:app.*",
    "-action:auth.login -actor:system",
    "category:auth kind:access outcome:failure",
    "category:members category:apps",
    "kind:delete",
    "-kind:access",
    "actor:u_carol",
    "actor:ADA@example.com",
    "actor:ada@example.com -outcome:failure",
    "actor_id:u_admin",
    "actor_email:Zoe.Angstrom@example.org",
    "target:bob@example.com",
    "target:u_bob account:acc_2",
    "-target:u_bob",
    "target_id:u_2",
    "resource:app/app_42",
    "resource:app",
    "resource:workspace",
    "resource_type:app",
    "resource_id:app_billing-v2",
    "account:acc_1",
    "-account:acc_1",
    "ip:10.0.0.0/8",
    "ip:192.168.0.9",
    "ip:2001:db8::/32",
    "ip:::ffff:10.1.2.3",
    "-ip:10.0.0.0/8 kind:access",
    "ip:0.0.0.0/0",
    "Sales",
    "bob@example.com",
    '"support bot"',
    '"invited Bob"',
    '"Bob invited"',
    "cafe",
    "Zoë",
    "angstrom",
    "ångström",
    "billing v2",
    '"Billing bot (v2)"',
    "O'Neil",
    "neil",
    "-Sales",
    '-"support bot" kind:update',
    "nothing-like-this",
    "created:>=2026-03-01T02:00:00Z",
    "created:<2026-03-01T02:00:00Z kind:access",
    "created:2026-03-01",
]


def _extra(tenant_id: str) -> list[Event]:
    return [
        make_event(
            tenant_id,
            "t0",
            action="auth.login",
            category="auth",
            kind="access",
            occurred_at=T0 + 6 * HOUR,
            actor=Actor("user", "u_zoe", None, "Zoë Ångström", "Zoe.Angstrom@Example.org"),
            description="Signed in from the Café, via SSO",
            ip="::ffff:10.1.2.3",
        ),
        make_event(
            tenant_id,
            "t1",
            action="app.published",
            category="apps",
            kind="update",
            occurred_at=T0 + 7 * HOUR,
            target=Target("user", "u_2", "Bob O'Neil", "bob@corp.example.com"),
            resource=Resource("app", "app_billing-v2", "Billing bot (v2)"),
            account_id="acc_1",
        ),
    ]


@pytest.fixture
def events(store: EventStore) -> list[Event]:
    add_tenant(store, "acme")
    stored = sample_history(store, "acme")
    extra = _extra("acme")
    append(store, "acme", *extra)
    return [*stored, *extra]


def test_the_matcher_selects_what_the_search_finds(store: EventStore, events: list[Event]) -> None:
    differ = {}
    selected = []
    for phrase in PHRASES:
        query = parse_phrase(phrase)
        found = {e.id for e in store.search("acme", query, Page(limit=200)).events}
        matched = {e.id for e in events if matches(query, e)}
        selected.append(len(matched))
        if matched != found:
            differ[phrase] = (sorted(matched), sorted(found))
    assert not differ
    # The cases are worth something: most select some events but not all.
    assert sum(0 < n < len(events) for n in selected) >= len(PHRASES) * 2 // 3
