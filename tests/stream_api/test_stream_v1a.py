"""Ed25519 (``v1a``) webhook streams through the API: Sealtrail makes (or takes) the key
pair, shows only the public key, signs deliveries with it, and rotates it with an overlap
window. Signatures are checked as the Standard Webhooks spec describes ``v1a``, with
``cryptography`` directly: Ed25519 over ``webhook-id.webhook-timestamp.body``, the public
key ``whpk_`` + base64 (the ``standardwebhooks`` package verifies ``v1`` only)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from standardwebhooks import Webhook

from tests.stream_api.conftest import StreamApi, wait_for
from tests.streams.docs_example import receiver_example
from tests.streams.webhook_receiver import Received


def v1a_verifies(public_key: str, request: Received) -> bool:
    """Whether any ``v1a`` signature of the request verifies with ``public_key`` (spec)."""
    assert public_key.startswith("whpk_")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[len("whpk_") :]))
    headers = request.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request.body
    for item in headers["webhook-signature"].split(" "):
        version, _, signature = item.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed)
        except InvalidSignature:
            continue
        return True
    return False


def _test_request(stream_api: StreamApi, stream_id: str) -> Received:
    before = len(stream_api.receiver.received)
    answer = stream_api.call("POST", f"/v1/streams/{stream_id}/test")
    assert answer.status_code == 200 and answer.json()["delivery"]["delivered"], answer.text
    return next(r for r in stream_api.receiver.received[before:] if b'"sealtrail.test"' in r.body)


def test_a_v1a_stream_shows_its_public_key_and_signs_every_delivery(
    stream_api: StreamApi,
) -> None:
    created = stream_api.create(signing={"scheme": "v1a"})
    assert "secret" not in created  # the private key never leaves the server
    public_key = created["signing"]["public_key"]
    assert created["signing"] == {"scheme": "v1a", "public_key": public_key}
    assert public_key.startswith("whpk_") and len(base64.b64decode(public_key[5:])) == 32
    assert created["signing_keys"] == [
        {"current": True, "retires_at": None, "scheme": "v1a", "public_key": public_key}
    ]
    shown = stream_api.call("GET", f"/v1/streams/{created['id']}").json()
    assert shown["signing"] == created["signing"] and "secret" not in shown
    listed = stream_api.call("GET", "/v1/streams").json()["streams"]
    assert listed[0]["signing"]["public_key"] == public_key

    stream_api.ingest(5)
    batches = wait_for(
        lambda: [r for r in stream_api.receiver.received if b"evt_4" in r.body],
        "the batch with the last event",
    )
    for request in stream_api.receiver.received:
        assert request.headers["webhook-signature"].startswith("v1a,")
        assert v1a_verifies(public_key, request)
    forged = Received(dict(batches[0].headers), batches[0].body + b" ")
    assert not v1a_verifies(public_key, forged)
    assert v1a_verifies(public_key, _test_request(stream_api, created["id"]))


def test_a_v1a_rotation_keeps_the_old_key_signing_through_the_overlap(
    stream_api: StreamApi,
) -> None:
    created = stream_api.create(signing={"scheme": "v1a"})
    old = created["signing"]["public_key"]
    rotated = stream_api.call(
        "POST", f"/v1/streams/{created['id']}/rotate-secret", {"overlap_seconds": 3600}
    )
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    new = body["signing"]["public_key"]
    assert new != old and body["signing"]["scheme"] == "v1a" and "secret" not in body
    assert [(k["current"], k["public_key"]) for k in body["signing_keys"]] == [
        (True, new),
        (False, old),
    ]
    request = _test_request(stream_api, created["id"])
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1a,") for s in signatures)
    assert v1a_verifies(old, request) and v1a_verifies(new, request)

    # With no overlap the old key stops at once.
    again = stream_api.call(
        "POST", f"/v1/streams/{created['id']}/rotate-secret", {"overlap_seconds": 0}
    ).json()
    newest = again["signing"]["public_key"]
    request = _test_request(stream_api, created["id"])
    assert v1a_verifies(newest, request) and not v1a_verifies(new, request)


def test_a_stream_moves_from_v1_to_v1a_with_both_signing_meanwhile(
    stream_api: StreamApi,
) -> None:
    created = stream_api.create()
    assert created["signing"] == {"scheme": "v1"} and created["secret"].startswith("whsec_")
    rotated = stream_api.call(
        "POST",
        f"/v1/streams/{created['id']}/rotate-secret",
        {"overlap_seconds": 600, "signing": {"scheme": "v1a"}},
    ).json()
    assert "secret" not in rotated and rotated["signing"]["scheme"] == "v1a"
    assert [k["scheme"] for k in rotated["signing_keys"]] == ["v1a", "v1"]
    request = _test_request(stream_api, created["id"])
    Webhook(created["secret"]).verify(request.body, request.headers)  # v1 still verifies
    assert v1a_verifies(rotated["signing"]["public_key"], request)


def test_an_owner_may_bring_its_own_key(stream_api: StreamApi) -> None:
    private = Ed25519PrivateKey.generate()
    whsk = "whsk_" + base64.b64encode(private.private_bytes_raw()).decode()
    whpk = "whpk_" + base64.b64encode(private.public_key().public_bytes_raw()).decode()
    created = stream_api.create(signing={"scheme": "v1a", "secret": whsk})
    assert created["signing"]["public_key"] == whpk and "secret" not in created
    assert v1a_verifies(whpk, _test_request(stream_api, created["id"]))
    hmac = "whsec_" + base64.b64encode(b"k" * 32).decode()
    own = stream_api.create(name="own-v1", signing={"scheme": "v1", "secret": hmac})
    assert "secret" not in own  # the owner has it already
    Webhook(hmac).verify(*_signed(_test_request(stream_api, own["id"])))


def _signed(request: Received) -> tuple[bytes, dict[str, str]]:
    return request.body, request.headers


def test_bad_signing_choices_are_refused(stream_api: StreamApi) -> None:
    syslog = {"type": "syslog", "host": "siem.example.com", "port": 6514, "tls": True}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"signing": {"scheme": "v2"}}, "signing.scheme"),
        ({"signing": {"scheme": "v1a", "secret": "whsec_" + "A" * 44}}, "whsk_"),
        ({"signing": {"scheme": "v1", "secret": "whsec_AAAA"}}, "signing.secret"),
        ({"signing": "v1a"}, "signing must be"),
        ({"signing": {"scheme": "v1a", "key": "x"}}, "signing.key"),
        ({"signing": {"scheme": "v1a"}, "destination": syslog}, "webhook streams"),
    ]
    for extra, message in cases:
        body = {"name": "x", "destination": {"type": "webhook", "url": stream_api.receiver.url}}
        answer = stream_api.call("POST", "/v1/streams", {**body, "format": "json", **extra})
        assert answer.status_code == 422, (extra, answer.text)
        assert message in answer.json()["error"]["message"], answer.text
    sid = stream_api.create()["id"]
    patched = stream_api.call("PATCH", f"/v1/streams/{sid}", {"signing": {"scheme": "v1a"}})
    assert patched.status_code == 422 and "rotate-secret" in patched.json()["error"]["message"]


def test_the_documented_receiver_verifies_a_v1a_stream_with_its_public_key(
    stream_api: StreamApi,
) -> None:
    created = stream_api.create(signing={"scheme": "v1a"})
    stream_api.ingest(30)
    wait_for(
        lambda: (
            stream_api.call("GET", f"/v1/streams/{created['id']}").json()["delivery"]["next_seq"]
            >= 31
        ),
        "delivery",
    )
    vkey = stream_api.call("GET", "/v1/checkpoint").json()["verifier_key"]
    example = receiver_example(
        VERIFIER_KEY=vkey,
        WEBHOOK_SECRET=None,
        WEBHOOK_PUBLIC_KEY=created["signing"]["public_key"],
    )
    receiver = example["Receiver"]("acme")
    fresh = []
    for request in [r for r in stream_api.receiver.received if b"sealtrail.batch" in r.body]:
        fresh += receiver.webhook(request.body, request.headers)
    assert [e["seq"] for e in fresh] == list(range(31))
    request = stream_api.receiver.received[-1]
    other = receiver_example(
        VERIFIER_KEY=vkey,
        WEBHOOK_SECRET=None,
        WEBHOOK_PUBLIC_KEY=stream_api.create(name="other", signing={"scheme": "v1a"})["signing"][
            "public_key"
        ],
    )["Receiver"]("acme")
    with pytest.raises(ValueError, match="no valid v1a signature"):
        other.webhook(request.body, request.headers)
