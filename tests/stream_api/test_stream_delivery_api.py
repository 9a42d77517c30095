"""Streams created over the API deliver from the server: signed, checked, in order, once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.streams.docs_example import receiver_example

from .conftest import StreamApi, wait_for


def _receiver(api: StreamApi, secret: str) -> Any:
    vkey = api.call("GET", "/v1/checkpoint").json()["verifier_key"]
    example = receiver_example(WEBHOOK_SECRET=secret, VERIFIER_KEY=vkey)
    return example["Receiver"]("acme"), example["seq_of"]


def _accepted(api: StreamApi, secret: str, upto: int) -> list[Any]:
    """Every delivery so far through the documented receiver; the events, once each."""
    receiver, _ = _receiver(api, secret)
    fresh: list[Any] = []
    for request in list(api.receiver.received):
        fresh += receiver.webhook(request.body, request.headers)
    assert receiver.next_seq >= upto, (receiver.next_seq, upto)
    return fresh


def _delivered_upto(api: StreamApi, stream_id: str, size: int) -> bool:
    body = api.call("GET", f"/v1/streams/{stream_id}").json()
    return bool(body["delivery"]["next_seq"] >= size)


@pytest.mark.parametrize("fmt", ["json", "ndjson", "ocsf", "cef"])
def test_every_event_arrives_signed_checkpointed_and_in_order(
    stream_api: StreamApi, fmt: str
) -> None:
    created = stream_api.create(format=fmt)
    stream_api.ingest(1200)
    size = 1201  # the stream_created event, then 1200
    wait_for(lambda: _delivered_upto(stream_api, created["id"], size), "delivery")
    fresh = _accepted(stream_api, created["secret"], size)
    _, seq_of = _receiver(stream_api, created["secret"])
    assert [seq_of(e) for e in fresh] == list(range(size))
    first = fresh[0]
    if fmt in ("json", "ndjson"):
        assert first["action"] == "audit_log.stream_created"
        assert "secret" not in json.dumps(first)
    headers = stream_api.receiver.received[-1].headers
    expected_type = "application/x-ndjson" if fmt == "ndjson" else "application/json"
    assert headers["content-type"].startswith(expected_type)
    assert headers["webhook-id"].startswith(f"stream:{created['id']}-")


def test_a_filter_selects_events_and_batches_still_cover_every_seq(stream_api: StreamApi) -> None:
    created = stream_api.create(filter="action:auth.login -actor:u_0")
    stream_api.ingest(90)
    wait_for(lambda: _delivered_upto(stream_api, created["id"], 91), "delivery")
    fresh = _accepted(stream_api, created["secret"], 91)
    wanted = [i for i in range(90) if i % 3 == 0 and i % 7 != 0]
    assert [e["id"] for e in fresh] == [f"evt_{i}" for i in wanted]


def test_consecutive_batches_carry_a_consistency_proof(stream_api: StreamApi) -> None:
    created = stream_api.create()
    stream_api.ingest(10)
    wait_for(lambda: _delivered_upto(stream_api, created["id"], 11), "the first delivery")
    stream_api.ingest(10, start=10)
    wait_for(lambda: _delivered_upto(stream_api, created["id"], 21), "the second delivery")
    headers = [json.loads(r.body) for r in stream_api.receiver.received]
    later = [h for h in headers[1:] if "consistency_proof" in h]
    assert later, headers
    # The documented receiver verified each proof against the previous checkpoint.
    _accepted(stream_api, created["secret"], 21)


def test_a_failing_stream_is_shown_never_dropped_and_replay_resends(stream_api: StreamApi) -> None:
    stream_api.receiver.replies = [(400, {})] * 3
    created = stream_api.create()
    stream_api.ingest(5)

    def failing() -> dict[str, Any] | None:
        body: dict[str, Any] = stream_api.call("GET", f"/v1/streams/{created['id']}").json()
        return body if body["status"] == "failing" else None

    shown = wait_for(failing, "the stream to show as failing")
    assert shown["delivery"]["next_seq"] == 0 and shown["delivery"]["last_error"] == "HTTP 400"
    listed = stream_api.call("GET", "/v1/streams").json()["streams"]
    assert [s["status"] for s in listed] == ["failing"]
    log = stream_api.call("GET", f"/v1/streams/{created['id']}/deliveries").json()["deliveries"]
    assert log[0]["delivered"] is False and log[0]["status"] == 400 and log[0]["kind"] == "batch"
    assert log[0]["first_seq"] == 0 and log[0]["last_seq"] in (0, 5)  # before or after ingest
    stream_api.receiver.replies = []
    replayed = stream_api.call("POST", f"/v1/streams/{created['id']}/replay", {"from_seq": 0})
    assert replayed.status_code == 202
    wait_for(lambda: _delivered_upto(stream_api, created["id"], 7), "delivery after the fix")
    body = stream_api.call("GET", f"/v1/streams/{created['id']}").json()
    assert body["status"] == "active" and body["delivery"]["lag"] == 0


def test_a_paused_stream_keeps_its_place_and_catches_up(stream_api: StreamApi) -> None:
    created = stream_api.create()
    paused = stream_api.call("PATCH", f"/v1/streams/{created['id']}", {"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    stream_api.ingest(20)
    stream_api.call("POST", f"/v1/streams/{created['id']}/test")  # a test still goes out
    body = stream_api.call("GET", f"/v1/streams/{created['id']}").json()
    held = body["delivery"]["next_seq"]  # the creation event may have gone before the pause
    assert held in (0, 1) and body["delivery"]["lag"] == 22 - held
    resumed = stream_api.call("PATCH", f"/v1/streams/{created['id']}", {"status": "active"})
    assert resumed.json()["status"] == "active"
    wait_for(lambda: _delivered_upto(stream_api, created["id"], 23), "catching up")
    batches = [r for r in stream_api.receiver.received if b'"sealtrail.batch"' in r.body]
    _accepted_batches = _receiver(stream_api, created["secret"])[0]
    seen = []
    for request in batches:
        seen += _accepted_batches.webhook(request.body, request.headers)
    assert len(seen) == 23  # created, paused, 20 events, resumed


def test_a_test_message_is_signed_and_logged(stream_api: StreamApi) -> None:
    from standardwebhooks import Webhook

    created = stream_api.create()
    answer = stream_api.call("POST", f"/v1/streams/{created['id']}/test")
    assert answer.status_code == 200, answer.text
    delivery = answer.json()["delivery"]
    assert delivery["delivered"] is True and delivery["kind"] == "test"
    assert delivery["status"] == 204
    request = next(r for r in stream_api.receiver.received if b"sealtrail.test" in r.body)
    body = Webhook(created["secret"]).verify(request.body, request.headers)
    assert body["stream_id"] == created["id"] and body["type"] == "sealtrail.test"
    log = stream_api.call("GET", f"/v1/streams/{created['id']}/deliveries?limit=5").json()
    # The stream's own first batch (its creation event) may be logged before or after it.
    assert [d["kind"] for d in log["deliveries"]].count("test") == 1


def test_after_a_rotation_both_secrets_sign_until_the_window_ends(stream_api: StreamApi) -> None:
    from standardwebhooks import Webhook

    created = stream_api.create()
    rotated = stream_api.call(
        "POST", f"/v1/streams/{created['id']}/rotate-secret", {"overlap_seconds": 3600}
    )
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()["secret"]
    assert fresh != created["secret"] and fresh.startswith("whsec_")
    keys = rotated.json()["signing_keys"]
    assert [k["current"] for k in keys] == [True, False] and keys[1]["retires_at"]
    stream_api.call("POST", f"/v1/streams/{created['id']}/test")
    request = next(r for r in stream_api.receiver.received if b"sealtrail.test" in r.body)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (created["secret"], fresh):
        Webhook(secret).verify(request.body, request.headers)
    shown = stream_api.call("GET", f"/v1/streams/{created['id']}").json()
    assert "secret" not in shown
