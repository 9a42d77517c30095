"""Contract: streams, their bounded delivery log, and filtering a range by seq (both engines)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealtrail.errors import Conflict, NotFound
from sealtrail.query import parse_phrase
from sealtrail.store.base import DeliveryRecord, EventStore, StreamRecord

from .factory import T0, add_tenant, append, make_event


def _stream(ident: str = "str_1", name: str = "siem", tenant: str = "acme") -> StreamRecord:
    return StreamRecord(
        tenant_id=tenant,
        id=ident,
        name=name,
        destination='{"type":"webhook","url":"https://siem.example/ü"}',
        format="ocsf",
        filter='action:member.* "quoted"',
        status="active",
        secrets='[{"secret": "whsec_x", "retires_at": null}]',
        created_at=T0,
        updated_at=T0,
    )


def test_a_stream_is_kept_listed_changed_and_removed(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    first = _stream()
    store.add_stream(first)
    store.add_stream(_stream("str_2", "other", "globex"))
    store.add_stream(replace(_stream("str_3", "second"), created_at=T0 + 1))
    assert store.get_stream("acme", "str_1") == first
    assert store.get_stream("globex", "str_1") is None
    assert [s.id for s in store.list_streams("acme")] == ["str_1", "str_3"]
    assert [(s.tenant_id, s.id) for s in store.list_streams()] == [
        ("acme", "str_1"),
        ("acme", "str_3"),
        ("globex", "str_2"),
    ]
    with pytest.raises(Conflict):
        store.add_stream(_stream("str_4", "siem"))
    with pytest.raises(NotFound):
        store.add_stream(_stream("str_5", "x", "nobody"))
    changed = replace(first, name="renamed", status="paused", filter=None, updated_at=T0 + 5)
    assert store.update_stream(changed) is True
    assert store.get_stream("acme", "str_1") == changed
    with pytest.raises(Conflict):
        store.update_stream(replace(changed, name="second"))
    assert store.update_stream(replace(changed, id="str_9")) is False
    assert store.remove_stream("acme", "str_1") is True
    assert store.remove_stream("acme", "str_1") is False
    assert [s.id for s in store.list_streams("acme")] == ["str_3"]


def _attempt(n: int, stream: str = "str_1") -> DeliveryRecord:
    return DeliveryRecord(
        tenant_id="acme",
        stream_id=stream,
        id=f"018f0000-0000-7000-8000-{n:012d}",
        at=T0 + n,
        kind="batch",
        first_seq=n * 10,
        last_seq=n * 10 + 9,
        events=10,
        attempt=1,
        delivered=n % 2 == 0,
        status=204 if n % 2 == 0 else 503,
        duration_us=1500,
        error=None if n % 2 == 0 else "HTTP 503",
    )


def test_the_delivery_log_keeps_the_newest_attempts(store: EventStore) -> None:
    add_tenant(store)
    store.add_stream(_stream())
    store.add_stream(_stream("str_2", "two"))
    for n in range(12):
        store.add_delivery(_attempt(n), keep=5)
    store.add_delivery(_attempt(99, "str_2"), keep=5)
    kept = store.deliveries("acme", "str_1", 100)
    assert [d.id for d in kept] == [_attempt(n).id for n in (11, 10, 9, 8, 7)]
    assert kept[0] == _attempt(11)
    assert [d.id for d in store.deliveries("acme", "str_1", 2)] == [
        _attempt(11).id,
        _attempt(10).id,
    ]
    assert len(store.deliveries("acme", "str_2", 100)) == 1
    store.remove_stream("acme", "str_1")
    assert store.deliveries("acme", "str_1", 100) == []


def test_matching_seqs_reads_a_filter_as_search_does_within_a_range(store: EventStore) -> None:
    add_tenant(store)
    add_tenant(store, "globex")
    events = [
        make_event(
            "acme",
            f"e{i}",
            action="auth.login" if i % 2 else "member.invited",
            description=f"hello world {i}",
        )
        for i in range(20)
    ]
    append(store, "acme", *events)
    append(store, "globex", make_event("globex", "g0", action="auth.login"))
    logins = parse_phrase("action:auth.login")
    assert store.matching_seqs("acme", logins, 5, 12) == [5, 7, 9, 11]
    assert store.matching_seqs("acme", logins, 0, 0) == []
    assert store.matching_seqs("globex", logins, 0, 100) == [0]
    assert store.matching_seqs("acme", parse_phrase('"world 13"'), 0, 19) == [13]
    text = parse_phrase('"hello world" -action:member.*')
    assert store.matching_seqs("acme", text, 12, 14) == [13]


def test_secrets_are_replaced_only_if_unchanged_meanwhile(store: EventStore) -> None:
    """Re-encrypting a stream's secrets must not undo a rotation made since they were read."""
    add_tenant(store, "acme")
    stream = _stream()
    store.add_stream(stream)
    assert store.replace_stream_secrets("acme", "str_1", stream.secrets, "fernet:new") is True
    kept = store.get_stream("acme", "str_1")
    assert kept == replace(stream, secrets="fernet:new")  # nothing else changes
    assert store.replace_stream_secrets("acme", "str_1", stream.secrets, "fernet:x") is False
    assert store.replace_stream_secrets("globex", "str_1", "fernet:new", "fernet:x") is False
    assert store.get_stream("acme", "str_1") == kept
