"""Contract: action prefixes, free text and odd identifiers read the same on every engine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealtrail.events import Actor, Resource, Target
from sealtrail.query import EventQuery, Field, Page, ResourceRef, Term, query_from_params
from sealtrail.store.base import EventStore

from .conftest import STANDBY_ENGINES
from .factory import HOUR, T0, add_tenant, append, make_event

# Also against a real hot standby: searches and counts are read from it.
pytestmark = pytest.mark.parametrize("store", STANDBY_ENGINES, indirect=True)


def ids(store: EventStore, **values: str) -> list[str]:
    query: EventQuery = query_from_params({k: [v] for k, v in values.items()})[0]
    return [e.id for e in store.search("acme", query, Page(limit=200)).events]


@pytest.fixture
def words(store: EventStore) -> EventStore:
    add_tenant(store)
    append(
        store,
        "acme",
        make_event("acme", "p0", action="member.invited", occurred_at=T0),
        make_event("acme", "p1", action="members.invited", occurred_at=T0 + HOUR),
        make_event("acme", "p2", action="app.version.restored", occurred_at=T0 + 2 * HOUR),
        make_event("acme", "p3", action="app.versions.pruned", occurred_at=T0 + 3 * HOUR),
        make_event(
            "acme",
            "t0",
            action="auth.login",
            occurred_at=T0 + 4 * HOUR,
            actor=Actor("user", "u_zoe", None, "Zoë Ångström", "Zoe.Angstrom@Example.org"),
            description="Signed in from the Café, via SSO",
        ),
        make_event(
            "acme",
            "t1",
            action="app.published",
            occurred_at=T0 + 5 * HOUR,
            target=Target("user", "u_2", "Bob O'Neil", "bob@corp.example.com"),
            resource=Resource("app", "app_billing-v2", "Billing bot (v2)"),
        ),
    )
    return store


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("member.*", ["p0"]),
        ("members.*", ["p1"]),
        ("app.*", ["t1", "p3", "p2"]),
        ("app.version.*", ["p2"]),
        ("app.versions.*", ["p3"]),
        ("app.published.*", []),
    ],
)
def test_a_prefix_is_whole_segments(words: EventStore, prefix: str, expected: list[str]) -> None:
    assert ids(words, action=prefix) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.org", ["t0"]),  # part of an email
        ("zoe.angstrom", ["t0"]),
        ("ZOE", ["t0"]),  # case and accents fold
        ("cafe", ["t0"]),
        ("sso café", ["t0"]),  # bare words are each looked for
        ('"signed in"', ["t0"]),
        ('"in signed"', []),  # a quoted run keeps its order
        ('"café sso"', []),  # "Café, via SSO": not adjacent
        ('"café via sso"', ["t0"]),  # punctuation between words does not matter
        ("o'neil", ["t1"]),
        ("neil", ["t1"]),
        ("billing-v2", ["t1"]),
        ("app_billing", ["t1"]),
        ("bot v2", ["t1"]),
        ("corp.example.com", ["t1"]),
        ("nothing-like-this", []),
    ],
)
def test_free_text_splits_words_alike(words: EventStore, text: str, expected: list[str]) -> None:
    assert ids(words, q=text) == expected


def test_identifiers_keep_every_character_and_still_match(store: EventStore) -> None:
    add_tenant(store)
    odd = "a\x00b\nc\uffff0\t\uffff"
    event = make_event(
        "acme",
        "odd\x00id",
        actor=Actor("user", odd, None, "N\x00", "n@example.com"),
        target=Target("user", odd),
        resource=Resource("doc", odd, odd),
        account_id=odd,
        request_id=odd,
    )
    append(store, "acme", event, make_event("acme", "plain", actor=Actor("user", "a")))
    assert store.get_event("acme", "odd\x00id") == replace(event, seq=0)
    assert store.get_event("acme", "odd\x00i") is None
    for field in (
        Field.ACTOR,
        Field.ACTOR_ID,
        Field.TARGET,
        Field.TARGET_ID,
        Field.RESOURCE_ID,
        Field.ACCOUNT_ID,
    ):
        query = EventQuery(terms=(Term(field, (odd,)),))
        assert [e.id for e in store.search("acme", query, Page()).events] == ["odd\x00id"]
    by_ref = EventQuery(terms=(Term(Field.RESOURCE, (ResourceRef("doc", odd),)),))
    assert [e.id for e in store.search("acme", by_ref, Page()).events] == ["odd\x00id"]
    assert append(store, "acme", make_event("acme", "odd\x00id"))[0].created is False
