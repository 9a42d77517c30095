"""Leaf bytes (SPEC §3): exact form, commitments, erasure, and JCS equivalence."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from sealtrail.errors import ProofError
from sealtrail.events import Actor, Event, Resource, Target
from sealtrail.ledger import leaf as leaf_module
from sealtrail.ledger.leaf import (
    PERSONAL_FIELDS,
    LeafTemplate,
    canonical_json,
    commitment,
    decode_salts,
    encode_salts,
    leaf_bytes,
    leaf_hash,
    leaf_object,
    new_salts,
)

SALTS = {path: bytes([i]) * 16 for i, path in enumerate(PERSONAL_FIELDS)}
EVENT: dict[str, Any] = {
    "id": "evt_1",
    "seq": 7,
    "tenant_id": "acme",
    "action": "member.role_changed",
    "category": "members",
    "kind": "update",
    "occurred_at": "2026-03-01T12:00:00.000000Z",
    "received_at": "2026-03-01T12:00:00.250000Z",
    "outcome": "success",
    "account_id": "acc_1",
    "request_id": "req_9",
    "actor": {"type": "user", "id": "u_1", "role": "admin", "name": "Ann", "email": "a@x.io"},
    "target": {"type": "user", "id": "u_2", "name": "Bob", "email": "b@x.io"},
    "resource": {"type": "workspace", "id": "ws_1", "name": "Main"},
    "description": "Ann made Bob an admin",
    "context": {"new": {"role": "admin"}, "previous": {"role": "member"}},
    "ip": "203.0.113.9",
    "user_agent": "curl/8.5",
}


def _c(path: str, data: bytes) -> str:
    """The commitment, computed here straight from SPEC §3."""
    digest = hashlib.sha256(SALTS[path] + data).digest()
    return '{"$commit":"' + base64.b64encode(digest).decode() + '"}'


CONTEXT_JCS = b'{"new":{"role":"admin"},"previous":{"role":"member"}}'


def test_exact_leaf_bytes() -> None:
    want = (
        '{"account_id":"acc_1","action":"member.role_changed",'
        f'"actor":{{"email":{_c("actor.email", b"a@x.io")},"id":"u_1",'
        f'"name":{_c("actor.name", b"Ann")},"role":"admin","type":"user"}},'
        f'"context":{_c("context", CONTEXT_JCS)},'
        f'"description":{_c("description", b"Ann made Bob an admin")},'
        f'"id":"evt_1","ip":{_c("ip", b"203.0.113.9")},'
        '"occurred_at":"2026-03-01T12:00:00.000000Z","outcome":"success",'
        '"received_at":"2026-03-01T12:00:00.250000Z","request_id":"req_9",'
        '"resource":{"id":"ws_1","name":"Main","type":"workspace"},"seq":7,'
        f'"target":{{"email":{_c("target.email", b"b@x.io")},"id":"u_2",'
        f'"name":{_c("target.name", b"Bob")},"type":"user"}},'
        f'"tenant_id":"acme","user_agent":{_c("user_agent", b"curl/8.5")},"v":1}}'
    ).encode()
    assert leaf_bytes(EVENT, SALTS) == want
    assert leaf_hash(EVENT, SALTS) == hashlib.sha256(b"\x00" + want).digest()


def test_minimal_event_omits_absent_fields() -> None:
    event = {k: EVENT[k] for k in ("id", "seq", "tenant_id", "action", "outcome")}
    event |= {"occurred_at": EVENT["occurred_at"], "received_at": EVENT["received_at"]}
    event |= {"actor": {"type": "system", "id": "system"}, "target": None, "ip": None}
    assert leaf_bytes(event, {}) == (
        b'{"action":"member.role_changed","actor":{"id":"system","type":"system"},'
        b'"id":"evt_1","occurred_at":"2026-03-01T12:00:00.000000Z","outcome":"success",'
        b'"received_at":"2026-03-01T12:00:00.250000Z","seq":7,"tenant_id":"acme","v":1}'
    )
    assert new_salts(event) == {}


def test_erasure_keeps_the_leaf() -> None:
    original = leaf_hash(EVENT, SALTS)
    erased_paths = ["actor.name", "actor.email", "description", "context", "ip"]
    commitments = {
        path: commitment(SALTS[path], EVENT[path] if "." not in path else EVENT["actor"][path[6:]])
        for path in erased_paths
    }
    erased = dict(EVENT, description="[erased]", context=None, ip=None)
    erased["actor"] = dict(EVENT["actor"], name="[erased]", email="[erased]")
    salts = {path: salt for path, salt in SALTS.items() if path not in erased_paths}
    assert leaf_hash(erased, salts, commitments) == original
    with pytest.raises(ProofError, match=r"no salt for the personal field actor\.email"):
        leaf_hash(erased, salts)


def test_salts() -> None:
    salts = new_salts(EVENT)
    assert set(salts) == set(PERSONAL_FIELDS)
    assert all(len(s) == 16 for s in salts.values())
    assert new_salts(EVENT) != salts
    assert decode_salts(encode_salts(salts)) == salts
    with pytest.raises(ProofError, match="not a personal field"):
        decode_salts({"actor.id": "AAAAAAAAAAAAAAAAAAAAAA=="})
    with pytest.raises(ProofError, match="not 16"):
        decode_salts({"ip": "AAAA"})
    with pytest.raises(ProofError, match="16 bytes, not 5"):
        commitment(b"short", "x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"occurred_at": "2026-03-01T12:00:00Z"}, "occurred_at must be written"),
        ({"received_at": "2026-03-01T12:00:00.000000+00:00"}, "received_at must be written"),
        ({"seq": True}, "seq"),
        ({"seq": -1}, "seq"),
        ({"seq": 2**53}, "seq"),
        ({"id": 5}, "id as a string"),
        ({"account_id": 5}, "account_id as a string"),
        ({"actor": None}, "actor"),
        ({"description": "\ud800"}, "UTF-8"),
        ({"context": {"n": 2**60}}, "RFC 8785"),
        ({"request_id": "\udfff"}, "no leaf form"),
    ],
)
def test_bad_events_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        leaf_bytes(EVENT | change, SALTS)


def test_leaf_of_an_event_as_the_api_returns_it() -> None:
    from sealtrail.events import Actor, Event, Target

    event = Event(
        tenant_id="acme",
        seq=3,
        id="e3",
        action="member.invited",
        category="members",
        kind="create",
        occurred_at=1_772_366_400_000_000,
        received_at=1_772_366_400_123_456,
        outcome="success",
        actor=Actor("user", "u_1", name="Ann"),
        target=Target("user", "u_9", email="z@x.io"),
    )
    body = event.to_dict()
    salts = new_salts(body)
    assert set(salts) == {"actor.name", "target.email"}
    obj = leaf_object(body, salts)
    assert obj["occurred_at"] == "2026-03-01T12:00:00.000000Z"
    assert leaf_bytes(body, salts) == rfc8785.dumps(obj)


# -- orjson's output equals rfc8785's for everything we feed it ---------------------

text = st.text()
optional_text = st.none() | text
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
party = st.fixed_dictionaries(
    {"type": text, "id": text},
    optional={"role": optional_text, "name": optional_text, "email": optional_text},
)
events = st.fixed_dictionaries(
    {
        "id": text,
        "seq": st.integers(0, 2**53 - 1),
        "tenant_id": text,
        "action": text,
        "occurred_at": st.just("1999-12-31T23:59:59.999999Z"),
        "received_at": st.just("2000-01-01T00:00:00.000000Z"),
        "outcome": text,
        "actor": party,
    },
    optional={
        "account_id": optional_text,
        "request_id": optional_text,
        "target": st.none() | party,
        "resource": st.none()
        | st.fixed_dictionaries({"type": text, "id": text}, optional={"name": optional_text}),
        "description": optional_text,
        "context": st.none() | st.dictionaries(text, json_values, max_size=5),
        "ip": optional_text,
        "user_agent": optional_text,
    },
)


def _no_surrogates(value: Any) -> bool:
    try:
        rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(events)
def test_leaf_bytes_are_jcs(event: dict[str, Any]) -> None:
    salts = new_salts(event)
    if not _no_surrogates(event):
        with pytest.raises(ProofError):
            leaf_bytes(event, salts)
        return
    assert leaf_bytes(event, salts) == rfc8785.dumps(leaf_object(event, salts))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(text, json_values, max_size=6))
def test_context_canonical_form_is_jcs(context: dict[str, Any]) -> None:
    if _no_surrogates(context):
        assert canonical_json(context) == rfc8785.dumps(context)


def test_a_leaf_template_gives_the_leaf_of_every_seq() -> None:
    from sealtrail.ledger.leaf import LeafTemplate, leaf_hash

    event = {
        "tenant_id": "t",
        "id": "e",
        "action": "a.b",
        "occurred_at": "2026-03-01T00:00:00.000000Z",
        "received_at": "2026-03-01T00:00:00.000000Z",
        "outcome": "success",
        "actor": {"type": "user", "id": '"seq":9007199254740991', "name": "n"},
        "request_id": ',"seq":9007199254740991,',
        "description": "d",
    }
    salts = {"actor.name": b"\x01" * 16, "description": b"\x02" * 16}
    template = LeafTemplate(event, salts)
    for seq in (0, 1, 9, 10, 12345, 2**53 - 2):
        assert template.leaf_hash(seq) == leaf_hash({**event, "seq": seq}, salts)


# -- the template append builds from an Event's own fields --------------------------------

# the leaf's own hazards beside any text: its seq marker, escapes, non-ASCII
_TEXT = text | st.sampled_from(['"seq":9007199254740991', '\u2028\\"/', "caf\u00e9 \U0001f600", ""])
_OPTIONAL = st.none() | _TEXT


@st.composite
def _events(draw: st.DrawFn) -> Event:
    actor = Actor(draw(_TEXT), draw(_TEXT), draw(_OPTIONAL), draw(_OPTIONAL), draw(_OPTIONAL))
    target = draw(st.none() | st.builds(Target, _TEXT, _TEXT, _OPTIONAL, _OPTIONAL))
    resource = draw(st.none() | st.builds(Resource, _TEXT, _TEXT, _OPTIONAL))
    context = draw(st.none() | st.dictionaries(_TEXT, json_values, max_size=4))
    event = Event(
        tenant_id=draw(_TEXT),
        seq=-1,
        id=draw(_TEXT),
        action=draw(_TEXT),
        category=draw(_TEXT),
        kind=draw(_TEXT),
        occurred_at=draw(st.integers(0, 253_402_300_799_999_999)),
        received_at=draw(st.integers(0, 253_402_300_799_999_999)),
        outcome=draw(st.sampled_from(["success", "failure"])),
        actor=actor,
        target=target,
        resource=resource,
        account_id=draw(_OPTIONAL),
        description=draw(_OPTIONAL),
        context=context,
        ip=draw(_OPTIONAL),
        user_agent=draw(_OPTIONAL),
        request_id=draw(_OPTIONAL),
    )
    present = [p for p in PERSONAL_FIELDS if leaf_module._value(event.to_dict(), p) is not None]
    salts = {path: draw(st.binary(min_size=16, max_size=16)) for path in present}
    erased = draw(st.lists(st.sampled_from(present), unique=True, max_size=2)) if present else []
    commitments = {path: commitment(salts[path], "x") for path in erased}
    return replace(event, salts=salts, commitments=commitments)


@settings(max_examples=400, deadline=None)
@given(_events(), st.integers(0, 2**53 - 2))
def test_the_template_of_an_event_is_the_template_of_its_api_object(event: Event, seq: int) -> None:
    """What append hashes (``LeafTemplate.of_event``) is the leaf of the event as the API
    and every bundle show it, erased fields included."""
    reference = leaf_hash(event.with_seq(seq).to_dict(), event.salts)
    assert LeafTemplate.of_event(event).leaf_hash(seq) == reference
    assert LeafTemplate(event.to_dict(), event.salts).leaf_hash(seq) == reference
