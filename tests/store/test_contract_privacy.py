"""Contract: erasure finds a subject's events, clears their fields once, and keeps the rest;
a tenant's mask patterns are kept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealtrail.events import Actor, Event, Target
from sealtrail.ledger.leaf import new_salts
from sealtrail.limits import ERASED
from sealtrail.privacy import Subject, plan
from sealtrail.query import Page, parse_phrase
from sealtrail.store.base import EventStore, FieldErasure

from .factory import HOUR, T0, add_tenant, append, make_event

BOB = Target("user", "u_bob", "Bob Bobson", "Bob@Example.com")


def salted(event: Event) -> Event:
    return replace(event, salts=new_salts(event.to_dict()))


@pytest.fixture
def history(store: EventStore) -> list[Event]:
    add_tenant(store)
    events = [
        make_event(
            "acme",
            "by-bob",
            actor=Actor("user", "u_bob", "member", "Bob Bobson", "bob@example.com"),
            ip="10.9.8.7",
            user_agent="BobBrowser/1.0",
            description="Bob Bobson signed in",
            context={"note": "nothing of anyone"},
            occurred_at=T0,
        ),
        make_event(
            "acme",
            "of-bob",
            target=BOB,
            description="Ada invited bob@example.com",
            context={"new_role": "admin", "who": {"email": "BOB@example.com"}},
            ip="10.0.0.1",
            occurred_at=T0 + HOUR,
        ),
        make_event("acme", "other", description="Ada changed a setting", occurred_at=T0 + HOUR),
        make_event(
            "acme",
            "search",
            action="audit_log.viewed",
            category="audit_log",
            kind="access",
            context={"phrase": "actor:bob@example.com", "results": 1},
            occurred_at=T0 + 2 * HOUR,
        ),
        make_event(
            "acme",
            "other-search",
            action="audit_log.viewed",
            category="audit_log",
            kind="access",
            context={"phrase": "actor:ada@example.com"},
            occurred_at=T0 + 2 * HOUR,
        ),
    ]
    salted_events = [salted(e) for e in events]
    append(store, "acme", *salted_events)
    return [store.get_event("acme", e.id) for e in salted_events]  # type: ignore[misc]


def erase(store: EventStore, subject: Subject) -> int:
    found = store.subject_events("acme", subject)
    return store.erase_fields("acme", [FieldErasure(e.seq, plan(e, subject)) for e in found])


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (Subject("email", "BOB@example.COM"), ["by-bob", "of-bob", "search"]),
        (Subject("id", "u_bob"), ["by-bob", "of-bob"]),
        (Subject("actor_id", "u_bob"), ["by-bob"]),
        (Subject("target_id", "u_bob"), ["of-bob"]),
        (Subject("email", "nobody@example.com"), []),
    ],
)
def test_a_subject_is_found_as_actor_target_or_in_a_search(
    store: EventStore, history: list[Event], subject: Subject, expected: list[str]
) -> None:
    assert [e.id for e in store.subject_events("acme", subject)] == expected
    assert store.count_subject_events("acme", subject) == len(expected)
    if expected:
        first = store.subject_events("acme", subject, limit=1)
        assert [e.id for e in first] == expected[:1]
        rest = store.subject_events("acme", subject, after_seq=first[0].seq)
        assert [e.id for e in rest] == expected[1:]


def test_erasure_clears_the_subjects_fields_and_nothing_else(
    store: EventStore, history: list[Event]
) -> None:
    before = {e.id: e for e in history}
    assert erase(store, Subject("email", "bob@example.com")) == 3
    by_bob = store.get_event("acme", "by-bob")
    of_bob = store.get_event("acme", "of-bob")
    search = store.get_event("acme", "search")
    assert by_bob is not None and of_bob is not None and search is not None
    assert (by_bob.actor.name, by_bob.actor.email) == (ERASED, ERASED)
    assert (by_bob.ip, by_bob.user_agent, by_bob.description) == (ERASED, ERASED, ERASED)
    assert by_bob.context == {"note": "nothing of anyone"}  # does not mention Bob
    assert set(by_bob.commitments) == {
        "actor.name",
        "actor.email",
        "ip",
        "user_agent",
        "description",
    }
    assert set(by_bob.salts) == {"context"}
    assert of_bob.target == Target("user", "u_bob", ERASED, ERASED)
    assert of_bob.actor == before["of-bob"].actor  # Ada, the actor, keeps hers
    assert (of_bob.description, of_bob.context, of_bob.ip) == (ERASED, None, "10.0.0.1")
    assert of_bob.to_dict()["context"] == ERASED
    assert set(of_bob.salts) == {"actor.name", "actor.email", "ip"}
    assert set(search.commitments) == {"context"}
    assert search.to_dict()["context"] == ERASED
    for event in (by_bob, of_bob, search):  # the commitment is what the leaf held
        old = before[event.id]
        assert event.commitments == plan(old, Subject("email", "bob@example.com"))
        assert (event.seq, event.action, event.actor.id, event.occurred_at) == (
            old.seq,
            old.action,
            old.actor.id,
            old.occurred_at,
        )
    assert store.get_event("acme", "other") == before["other"]
    assert store.get_event("acme", "other-search") == before["other-search"]


def test_erased_values_leave_search(store: EventStore, history: list[Event]) -> None:
    def found(phrase: str) -> list[str]:
        return [e.id for e in store.search("acme", parse_phrase(phrase), Page()).events]

    assert found('"Bobson"') == ["of-bob", "by-bob"]
    erase(store, Subject("email", "bob@example.com"))
    for phrase in ('"Bobson"', "bob@example.com", "actor:bob@example.com", "target:u_bob"):
        assert found(phrase) in ([], ["of-bob"]), phrase
    assert found("target:u_bob") == ["of-bob"]  # ids stay
    assert found('"changed a setting"') == ["other"]


def test_a_second_erasure_changes_nothing(store: EventStore, history: list[Event]) -> None:
    subject = Subject("id", "u_bob")
    assert erase(store, subject) == 2
    after = [store.get_event("acme", e.id) for e in history]
    assert store.subject_events("acme", subject) == []
    assert store.count_subject_events("acme", subject) == 0
    stale = [FieldErasure(e.seq, plan(e, subject)) for e in history[:2]]
    assert store.erase_fields("acme", stale) == 0
    assert [store.get_event("acme", e.id) for e in history] == after


def test_erasure_jobs_keep_progress_and_forget_the_subject(store: EventStore) -> None:
    from sealtrail.store.base import ErasureRecord

    add_tenant(store)
    job = ErasureRecord(
        "er1", "acme", "email", "bob@example.com", "GDPR", '{"id":"op"}', "running", 3, T0
    )
    store.add_erasure(job)
    assert store.get_erasure("acme", "er1") == job
    assert store.get_erasure("other", "er1") is None
    assert store.claim_erasure("acme", "er1", now=T0, until=T0 + 10)
    assert not store.claim_erasure("acme", "er1", now=T0 + 5, until=T0 + 20)  # someone holds it
    store.erasure_progress("acme", "er1", last_seq=7, events_erased=2, lease_until=T0 + 30)
    assert store.unfinished_erasures("acme") == [
        replace(job, last_seq=7, events_erased=2, lease_until=T0 + 30)
    ]
    assert store.claim_erasure("acme", "er1", now=T0 + 31, until=T0 + 40)  # the lease ran out
    store.finish_erasure("acme", "er1", at=T0 + 50)
    done = store.get_erasure("acme", "er1")
    assert done is not None
    assert (done.status, done.subject, done.finished_at) == ("done", None, T0 + 50)
    assert store.unfinished_erasures() == []
    assert not store.claim_erasure("acme", "er1", now=T0 + 100, until=T0 + 200)


def test_a_tenants_mask_patterns_are_kept(store: EventStore) -> None:
    from sealtrail.errors import NotFound
    from sealtrail.store.base import Tenant

    store.create_tenant(Tenant("acme", "Acme", T0, mask_keys=("token",)))
    assert store.get_tenant("acme") == Tenant("acme", "Acme", T0, mask_keys=("token",))
    store.set_mask_keys("acme", ["pin*", "x-api-key", "ünïcode"])
    assert store.get_tenant("acme").mask_keys == ("pin*", "x-api-key", "ünïcode")  # type: ignore[union-attr]
    assert [t.mask_keys for t in store.list_tenants()] == [("pin*", "x-api-key", "ünïcode")]
    store.set_mask_keys("acme", [])
    assert store.get_tenant("acme").mask_keys == ()  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        store.set_mask_keys("nobody", ["x"])
