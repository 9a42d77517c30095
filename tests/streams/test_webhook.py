"""Webhooks over real HTTPS to a local receiver (http.server + ssl, self-signed cert)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks import Webhook

from sealtrail.errors import ConfigurationError
from sealtrail.streams import (
    JSON_MEDIA_TYPE,
    NDJSON_MEDIA_TYPE,
    Ed25519Secret,
    HmacSecret,
    OcsfJson,
    SealtrailJson,
    WebhookSigner,
    WebhookTransport,
    json_body,
    ndjson_body,
    parse_retry_after,
)
from tests.streams.conftest import make_batch, make_event
from tests.streams.webhook_receiver import Receiver


def _transport(receiver: Receiver, signer: WebhookSigner, **kwargs: object) -> WebhookTransport:
    return WebhookTransport(
        receiver.url,
        signer,
        verify=receiver.cert.client_context(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_signed_json_batch_is_delivered_and_verifies(receiver: Receiver) -> None:
    secret = HmacSecret.generate()
    events = [make_event("member.invited", 0), make_event("app.created", 1, description="ü")]
    body = json_body(make_batch(events), SealtrailJson())
    with _transport(receiver, WebhookSigner.of(secret)) as transport:
        result = transport.send(body, msg_id="stream_1-0-1", content_type=JSON_MEDIA_TYPE)
    assert result.delivered and result.status == 204
    (got,) = receiver.received
    assert got.body == body
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == "stream_1-0-1"
    payload = Webhook(secret.serialize()).verify(got.body, got.headers)
    assert [e["seq"] for e in payload["events"]] == [0, 1]


def test_ndjson_with_ed25519_and_a_rotated_hmac_secret(receiver: Receiver) -> None:
    old, new, ed = HmacSecret.generate(), HmacSecret.generate(), Ed25519Secret.generate()
    signer = WebhookSigner.of(old, ed).rotate(new, now=0, overlap=2**40)
    body = ndjson_body(make_batch([make_event("auth.login", 3)]), OcsfJson())
    with _transport(receiver, signer) as transport:
        assert transport.send(body, msg_id="m_2", content_type=NDJSON_MEDIA_TYPE).delivered
    (got,) = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 3
    for secret in (old, new):
        Webhook(secret.serialize()).verify(got.body, got.headers, json_parse=False)
    v1a = next(s for s in got.headers["webhook-signature"].split(" ") if s.startswith("v1a,"))
    content = f"m_2.{got.headers['webhook-timestamp']}.".encode() + got.body
    public = base64.b64decode(ed.public_key().removeprefix("whpk_"))
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(v1a[4:]), content)
    assert json.loads(got.body.splitlines()[1])["class_uid"] == 3002


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after", "gone"),
    [
        (429, {"Retry-After": "7"}, True, 7.0, False),
        (503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, True, 0.0, False),
        (500, {}, True, None, False),
        (502, {"Retry-After": "soon"}, True, None, False),
        (408, {}, True, None, False),
        (410, {}, False, None, True),
        (400, {"Retry-After": "9"}, False, None, False),
        (401, {}, False, None, False),
        (302, {"Location": "https://elsewhere.example/"}, False, None, False),
    ],
)
def test_statuses_say_whether_to_retry(
    receiver: Receiver,
    status: int,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
    gone: bool,
) -> None:
    receiver.replies.append((status, headers))
    with _transport(receiver, WebhookSigner.of(HmacSecret.generate())) as transport:
        result = transport.send(b"{}", msg_id="m", content_type=JSON_MEDIA_TYPE)
    assert not result.delivered
    assert (result.status, result.retryable, result.retry_after, result.gone) == (
        status,
        retryable,
        retry_after,
        gone,
    )
    assert len(receiver.received) == 1  # the redirect was not followed


def test_a_slow_receiver_times_out_and_is_retried(receiver: Receiver) -> None:
    receiver.hold = threading.Event()
    timeout = httpx.Timeout(0.3, connect=5.0)
    with _transport(receiver, WebhookSigner.of(HmacSecret.generate()), timeout=timeout) as t:
        result = t.send(b"{}", msg_id="m", content_type=JSON_MEDIA_TYPE)
    receiver.hold.set()
    assert not result.delivered and result.retryable
    assert "timed out" in (result.error or "")


def test_an_untrusted_certificate_is_not_retried(receiver: Receiver) -> None:
    with WebhookTransport(receiver.url, WebhookSigner.of(HmacSecret.generate())) as transport:
        result = transport.send(b"{}", msg_id="m", content_type=JSON_MEDIA_TYPE)
    assert not result.delivered and not result.retryable
    assert receiver.received == []


def test_nothing_listening_is_retried(tmp_path: Path) -> None:
    from tests.streams.rsyslog import _free_port

    url = f"https://127.0.0.1:{_free_port()}/"
    with WebhookTransport(url, WebhookSigner.of(HmacSecret.generate())) as transport:
        result = transport.send(b"{}", msg_id="m", content_type=JSON_MEDIA_TYPE)
    assert not result.delivered and result.retryable


def test_plain_http_needs_consent() -> None:
    signer = WebhookSigner.of(HmacSecret.generate())
    with pytest.raises(ConfigurationError):
        WebhookTransport("http://127.0.0.1:9/", signer)
    WebhookTransport("http://127.0.0.1:9/", signer, allow_http=True).close()


def test_retry_after_forms() -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 0 ", now) == 0.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after("1.5", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after(None, now) is None
