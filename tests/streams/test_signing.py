"""Standard Webhooks signatures, checked by the independent ``standardwebhooks`` package
(v1) and by Ed25519 verification written from the spec (v1a)."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks import Webhook, WebhookVerificationError

from sealtrail.errors import ConfigurationError, InvalidInput
from sealtrail.streams import Ed25519Secret, HmacSecret, WebhookSigner, parse_secret, verify_ed25519

BODY = '{"type":"sealtrail.batch","events":[{"note":"héllo ☃"}]}'.encode()


def _v1a_ok(public_key: str, header: str, msg_id: str, ts: int, body: bytes) -> bool:
    """Spec: v1a,<base64 ed25519 signature of msg_id.timestamp.body> (whpk_ = raw key)."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    content = msg_id.encode() + b"." + str(ts).encode() + b"." + body
    for item in header.split():
        version, signature = item.split(",", 1)
        if version == "v1a":
            try:
                key.verify(base64.b64decode(signature), content)
                return True
            except Exception:
                pass
    return False


def test_v1_verifies_with_the_standardwebhooks_package() -> None:
    secret = HmacSecret.generate()
    now = int(time.time())
    headers = WebhookSigner.of(secret).headers("msg_1", now, BODY)
    assert Webhook(secret.serialize()).verify(BODY, headers) == {
        "type": "sealtrail.batch",
        "events": [{"note": "héllo ☃"}],
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret.serialize()).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(HmacSecret.generate().serialize()).verify(BODY, headers)


def test_v1a_verifies_with_the_public_key_only() -> None:
    key = Ed25519Secret.generate()
    now = int(time.time())
    headers = WebhookSigner.of(key).headers("msg_2", now, BODY)
    assert headers["webhook-signature"].startswith("v1a,")
    assert _v1a_ok(key.public_key(), headers["webhook-signature"], "msg_2", now, BODY)
    assert not _v1a_ok(key.public_key(), headers["webhook-signature"], "msg_2", now + 1, BODY)
    assert verify_ed25519(
        key.public_key(), headers["webhook-signature"], f"msg_2.{now}.".encode() + BODY
    )
    other = Ed25519Secret.generate().public_key()
    assert not _v1a_ok(other, headers["webhook-signature"], "msg_2", now, BODY)


def test_rotation_signs_with_both_keys_until_the_overlap_ends() -> None:
    old, new = HmacSecret.generate(), HmacSecret.generate()
    t0 = int(time.time())
    signer = WebhookSigner.of(old).rotate(new, now=t0, overlap=3600)
    during = signer.headers("msg_3", t0 + 10, BODY)
    assert len(during["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret.serialize()).verify(BODY, {**during, "webhook-timestamp": str(t0 + 10)})
    after = signer.signature("msg_3", t0 + 3600, BODY)
    assert len(after.split(" ")) == 1
    # A later rotation drops keys whose window already closed.
    assert len(signer.rotate(HmacSecret.generate(), now=t0 + 4000, overlap=60).keys) == 2


def test_mixed_schemes_in_one_header() -> None:
    hmac_secret, ed = HmacSecret.generate(), Ed25519Secret.generate()
    now = int(time.time())
    headers = (
        WebhookSigner.of(ed).rotate(hmac_secret, now=now, overlap=60).headers("msg_4", now, BODY)
    )
    Webhook(hmac_secret.serialize()).verify(BODY, headers)
    assert _v1a_ok(ed.public_key(), headers["webhook-signature"], "msg_4", now, BODY)


def test_secrets_serialise_and_parse_back() -> None:
    hmac_secret, ed = HmacSecret.generate(), Ed25519Secret.generate()
    assert parse_secret(hmac_secret.serialize()) == hmac_secret
    assert parse_secret(ed.serialize()).public_key() == ed.public_key()  # type: ignore[union-attr]
    for bad in ("nope", "whsec_!!", "whsec_" + base64.b64encode(b"short").decode(), "whsk_AAAA"):
        with pytest.raises(ConfigurationError):
            parse_secret(bad)


@pytest.mark.parametrize("msg_id", ["", "a.b", "a b", "x" * 129, "é"])
def test_webhook_ids_cannot_smuggle_separators(msg_id: str) -> None:
    with pytest.raises(InvalidInput):
        WebhookSigner.of(HmacSecret.generate()).headers(msg_id, 1, BODY)
