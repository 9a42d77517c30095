"""Batches and the webhook bodies that carry them."""

from __future__ import annotations

import json

import pytest

from sealtrail.errors import InvalidInput
from sealtrail.events import Event
from sealtrail.ledger import open_checkpoint, origin_for_tenant
from sealtrail.streams import (
    Batch,
    Cef,
    ConsistencyProof,
    OcsfJson,
    SealtrailJson,
    json_body,
    ndjson_body,
    seed_page_body,
)
from tests.streams.conftest import SIGNER, TENANT, make_batch, make_event, signed_checkpoint


def _events() -> list[Event]:
    return [make_event("member.invited", 4), make_event("app.created", 6, context={"é": "ü"})]


def test_json_body_is_the_header_and_the_api_event_objects() -> None:
    events = _events()
    body = json.loads(json_body(make_batch(events, first=3, last=8), SealtrailJson()))
    assert body["type"] == "sealtrail.batch"
    assert (body["tenant_id"], body["first_seq"], body["last_seq"]) == (TENANT, 3, 8)
    assert (body["count"], body["format"]) == (2, "sealtrail")
    assert body["events"] == [e.to_dict() for e in events]
    checkpoint, _ = open_checkpoint(
        body["checkpoint"], origin=origin_for_tenant(TENANT), log_verifier=SIGNER.verifier
    )
    assert checkpoint.size == 9


def test_ndjson_body_has_the_header_first_then_one_event_a_line() -> None:
    events = _events()
    body = ndjson_body(make_batch(events), OcsfJson())
    assert body.endswith(b"\n")
    lines = [json.loads(line) for line in body.splitlines()]
    assert lines[0]["type"] == "sealtrail.batch" and lines[0]["format"] == "ocsf"
    assert [line["metadata"]["sequence"] for line in lines[1:]] == [4, 6]
    assert all("type" not in line for line in lines[1:])


def test_ndjson_refuses_a_text_format_and_json_carries_it_as_strings() -> None:
    batch = make_batch(_events())
    with pytest.raises(InvalidInput):
        ndjson_body(batch, Cef())
    events = json.loads(json_body(batch, Cef()))["events"]
    assert all(e.startswith("CEF:0|") for e in events)


def test_seed_page_body_reads_like_the_seed_endpoint() -> None:
    events = _events()
    body = json.loads(seed_page_body(make_batch(events, first=0, last=10)))
    assert body["events"] == [e.to_dict() for e in events]
    assert (body["total"], body["limit"], body["offset"]) == (2, 2, 0)
    assert (body["first_seq"], body["last_seq"]) == (0, 10)


def test_an_empty_batch_still_covers_its_range() -> None:
    batch = Batch.of(TENANT, 5, 9, [], signed_checkpoint(10))
    body = json.loads(json_body(batch, SealtrailJson()))
    assert (body["first_seq"], body["last_seq"], body["count"], body["events"]) == (5, 9, 0, [])


def test_the_consistency_proof_rides_along() -> None:
    proof = ConsistencyProof(4, 10, (b"\x01" * 32,))
    batch = Batch.of(TENANT, 5, 9, [], signed_checkpoint(10), proof)
    body = json.loads(json_body(batch, SealtrailJson()))
    assert body["consistency_proof"] == {
        "from_size": 4,
        "to_size": 10,
        "hashes": ["AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="],
    }


@pytest.mark.parametrize(
    ("first", "last", "seqs", "size", "tenant"),
    [
        (5, 4, [], 10, TENANT),  # range backwards
        (0, 5, [3, 2], 10, TENANT),  # events out of order
        (0, 5, [6], 10, TENANT),  # event outside the range
        (0, 5, [2, 2], 10, TENANT),  # the same seq twice
        (0, 9, [1], 9, TENANT),  # checkpoint does not cover last_seq
        (0, 5, [1], 10, "other"),  # checkpoint of another tenant
    ],
)
def test_batches_refuse_what_a_receiver_could_not_trust(
    first: int, last: int, seqs: list[int], size: int, tenant: str
) -> None:
    events = [make_event("app.created", s) for s in seqs]
    with pytest.raises(InvalidInput):
        Batch.of(TENANT, first, last, events, signed_checkpoint(size, tenant))


def test_a_batch_refuses_another_tenants_event_and_a_proof_to_elsewhere() -> None:
    with pytest.raises(InvalidInput):
        Batch.of(TENANT, 0, 3, [make_event(tenant_id="else")], signed_checkpoint(4))
    with pytest.raises(InvalidInput):
        Batch.of(TENANT, 0, 3, [], signed_checkpoint(4), ConsistencyProof(2, 5, ()))
