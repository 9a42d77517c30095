"""The copy-paste receiver in docs/streams.md accepts real deliveries in every format and
refuses forged, gapped and rewritten ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from standardwebhooks import WebhookVerificationError

from sealtrail.errors import NoteError, ProofError
from sealtrail.ledger import consistency_proof
from sealtrail.streams import (
    JSON_MEDIA_TYPE,
    NDJSON_MEDIA_TYPE,
    Batch,
    Cef,
    ConsistencyProof,
    Ed25519Secret,
    EventEncoder,
    HmacSecret,
    OcsfJson,
    SealtrailJson,
    WebhookSigner,
    json_body,
    ndjson_body,
    seed_page_body,
)
from tests.streams.conftest import SIGNER, TENANT, leaf_hashes, make_event, signed_checkpoint
from tests.streams.docs_example import receiver_example

SECRET = HmacSecret.generate()


def _receiver(**settings: Any) -> Any:
    ns = receiver_example(VERIFIER_KEY=SIGNER.vkey, WEBHOOK_SECRET=SECRET.serialize(), **settings)
    return ns["Receiver"](TENANT)


def _batch(first: int, last: int, seqs: list[int], *, proof_from: int | None = None) -> Batch:
    size = last + 1
    proof = None
    if proof_from is not None:
        proof = ConsistencyProof(
            proof_from, size, tuple(consistency_proof(proof_from, size, leaf_hashes(size)))
        )
    events = [make_event("app.created", s) for s in seqs]
    return Batch.of(TENANT, first, last, events, signed_checkpoint(size), proof)


def _deliver(
    body: bytes, content_type: str, signer: WebhookSigner | None = None
) -> tuple[bytes, dict[str, str]]:
    signer = signer or WebhookSigner.of(SECRET)
    headers = signer.headers("msg_1", int(time.time()), body)
    return body, {"content-type": content_type, **headers}


BODIES: dict[str, Callable[[Batch, EventEncoder], tuple[bytes, str]]] = {
    "json": lambda b, e: (json_body(b, e), JSON_MEDIA_TYPE),
    "ndjson": lambda b, e: (ndjson_body(b, e), NDJSON_MEDIA_TYPE),
}


# CEF is text: its webhooks use the JSON body (NDJSON refuses text formats).
COMBINATIONS: list[tuple[EventEncoder, str]] = [
    (SealtrailJson(), "json"),
    (SealtrailJson(), "ndjson"),
    (OcsfJson(), "json"),
    (OcsfJson(), "ndjson"),
    (Cef(), "json"),
]


@pytest.mark.parametrize(
    ("encoder", "body_kind"), COMBINATIONS, ids=[f"{e.name}-{b}" for e, b in COMBINATIONS]
)
def test_a_stream_of_batches_is_accepted_once_each(encoder: EventEncoder, body_kind: str) -> None:
    receiver = _receiver()
    seen = []
    for first, last, seqs, proof_from in [
        (0, 2, [0, 2], None),
        (3, 3, [], 3),
        (4, 7, [4, 5, 7], 4),
    ]:
        body, ctype = BODIES[body_kind](_batch(first, last, seqs, proof_from=proof_from), encoder)
        seen += receiver.webhook(*_deliver(body, ctype))
    seq_of = receiver.webhook.__globals__["seq_of"]
    assert [seq_of(e) for e in seen] == [0, 2, 4, 5, 7]
    assert receiver.next_seq == 8
    # A redelivery (after a lost acknowledgement) yields nothing new.
    body, ctype = BODIES[body_kind](_batch(4, 7, [4, 5, 7]), encoder)
    assert receiver.webhook(*_deliver(body, ctype)) == []


def test_the_seed_page_and_v1a() -> None:
    key = Ed25519Secret.generate()
    receiver = _receiver(WEBHOOK_PUBLIC_KEY=key.public_key())
    body, headers = _deliver(
        seed_page_body(_batch(0, 1, [0, 1])), JSON_MEDIA_TYPE, WebhookSigner.of(key)
    )
    assert [e["seq"] for e in receiver.webhook(body, headers)] == [0, 1]
    forged = WebhookSigner.of(Ed25519Secret.generate())
    body, headers = _deliver(seed_page_body(_batch(2, 2, [2])), JSON_MEDIA_TYPE, forged)
    with pytest.raises(ValueError, match="v1a"):
        receiver.webhook(body, headers)


def test_forgeries_gaps_and_rewrites_are_refused() -> None:
    receiver = _receiver()
    receiver.webhook(*_deliver(json_body(_batch(0, 3, [1]), SealtrailJson()), JSON_MEDIA_TYPE))
    tampered_body, headers = _deliver(
        json_body(_batch(4, 5, [4]), SealtrailJson()), JSON_MEDIA_TYPE
    )
    with pytest.raises(WebhookVerificationError):
        receiver.webhook(tampered_body.replace(b'"seq":4', b'"seq":5'), headers)
    gap = json_body(_batch(6, 6, [6]), SealtrailJson())
    with pytest.raises(ValueError, match="gap"):
        receiver.webhook(*_deliver(gap, JSON_MEDIA_TYPE))
    # A checkpoint not signed by the log's key.
    other = receiver_example(
        VERIFIER_KEY=SIGNER.vkey.replace(SIGNER.vkey.rsplit("+", 1)[1], "A" * 44),
        WEBHOOK_SECRET=SECRET.serialize(),
    )["Receiver"](TENANT)
    with pytest.raises(NoteError):
        other.webhook(*_deliver(json_body(_batch(0, 0, [0]), SealtrailJson()), JSON_MEDIA_TYPE))
    # A consistency proof that does not join the trees.
    bad = _batch(4, 9, [4], proof_from=4)
    assert bad.consistency is not None
    broken = Batch.of(
        TENANT,
        4,
        9,
        bad.events,
        bad.checkpoint,
        ConsistencyProof(4, 10, tuple(b"\x00" * 32 for _ in bad.consistency.hashes)),
    )
    with pytest.raises(ProofError):
        receiver.webhook(*_deliver(json_body(broken, SealtrailJson()), JSON_MEDIA_TYPE))


def test_the_syslog_reader_groups_events_by_batch_message() -> None:
    from sealtrail.streams import SyslogFormat, batch_messages

    receiver = _receiver()
    records = []
    for batch in (_batch(0, 1, [0, 1]), _batch(2, 4, [3])):
        for message in batch_messages(batch, Cef(), SyslogFormat()):
            head, msg = message.split(b"] ", 1)
            records.append({"msgid": head.split(b" ")[5].decode(), "msg": msg.decode()})
    fresh = receiver.syslog(records)
    seq_of = receiver.syslog.__globals__["seq_of"]
    assert [seq_of(e) for e in fresh] == [0, 1, 3]
    assert all(e.startswith("CEF:0|") for e in fresh)
    assert receiver.next_seq == 5
