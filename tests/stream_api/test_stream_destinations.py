"""Stream destinations must be public addresses unless the operator allows more: refused
when a stream is created or changed (a 422 naming the field), and again at delivery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.follower import LogBatch
from sealtrail.server.app import create_app
from sealtrail.settings import Settings
from tests.keys import quiet_api_key
from tests.stream_api.conftest import MANAGE, StreamApi
from tests.streams.webhook_receiver import Receiver

HOOK = {"type": "webhook", "url": "https://siem.example.com/hook"}


def _settings(tmp_path: Path, receiver: Receiver, **extra: object) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        stream_ca_file=str(receiver.cert.cert),
        detections=False,
        followers="thread",  # the app's own followers: no `serve`, so no follow child
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def guarded(tmp_path: Path, receiver: Receiver) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API as shipped: private destinations refused."""
    settings = _settings(tmp_path, receiver)
    assert settings.stream_allow_private_destinations is False  # the default
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant("acme")
    headers = {"Authorization": f"Bearer {quiet_api_key(log.database_url, 'acme', MANAGE)}"}
    with TestClient(create_app(log, settings)) as client:
        yield client, headers
    log.close()


@pytest.mark.parametrize(
    ("destination", "field", "why"),
    [
        ({"type": "webhook", "url": "https://127.0.0.1:8443/x"}, "destination.url", "loopback"),
        ({"type": "webhook", "url": "https://localhost/x"}, "destination.url", "loopback"),
        (
            {"type": "webhook", "url": "https://169.254.169.254/latest/meta-data"},
            "destination.url",
            "link-local",
        ),
        ({"type": "webhook", "url": "https://[::1]/x"}, "destination.url", "loopback"),
        ({"type": "webhook", "url": "https://[fd00::5]/x"}, "destination.url", "private"),
        ({"type": "syslog", "host": "10.0.0.5", "port": 6514}, "destination.host", "private"),
        ({"type": "syslog", "host": "192.168.1.9", "port": 514}, "destination.host", "private"),
        ({"type": "syslog", "host": "224.0.0.9", "port": 514}, "destination.host", "multicast"),
        ({"type": "syslog", "host": "0.0.0.0", "port": 514}, "destination.host", "unspecified"),
    ],
)
def test_a_non_public_destination_is_refused_with_its_field(
    guarded: tuple[TestClient, dict[str, str]], destination: dict[str, object], field: str, why: str
) -> None:
    client, headers = guarded
    body = {"name": "siem", "destination": destination, "format": "json"}
    answer = client.post("/v1/streams", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "destination_refused" and why in error["message"]
    assert error["details"] == [{"field": field, "message": error["details"][0]["message"]}]
    assert why in error["details"][0]["message"]
    assert client.get("/v1/streams", headers=headers).json()["streams"] == []


def test_a_change_to_a_non_public_destination_is_refused(
    guarded: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = guarded
    body = {"name": "siem", "destination": HOOK, "format": "json"}
    created = client.post("/v1/streams", json=body, headers=headers)
    assert created.status_code == 201, created.text  # a name that does not resolve (yet)
    sid = created.json()["id"]
    metadata = {"destination": {"type": "webhook", "url": "https://169.254.169.254/"}}
    answer = client.patch(f"/v1/streams/{sid}", json=metadata, headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "destination_refused"
    assert client.get(f"/v1/streams/{sid}", headers=headers).json()["destination"] == HOOK
    renamed = client.patch(f"/v1/streams/{sid}", json={"name": "other"}, headers=headers)
    assert renamed.status_code == 200, renamed.text


def test_a_destination_is_checked_again_at_delivery(tmp_path: Path, receiver: Receiver) -> None:
    """A stream stored while private destinations were allowed (or a name that resolved
    elsewhere then) is refused when it delivers: nothing reaches the address."""
    allowing = AuditLog.open(
        settings=_settings(tmp_path, receiver, stream_allow_private_destinations=True)
    )
    allowing.migrate()
    allowing.create_tenant("acme")
    spec_body = {"name": "siem", "destination": {"type": "webhook", "url": receiver.url}}
    from sealtrail.streams.config import StreamSpec

    spec = StreamSpec.from_body({**spec_body, "format": "json"})
    created = allowing.create_stream(Principal.operator("acme"), spec)
    assert allowing.test_stream(Principal.operator("acme"), created.view.id).record.delivered
    allowing.close()
    reached = len(receiver.received)
    guarded = AuditLog.open(settings=_settings(tmp_path, receiver))
    attempt = guarded.test_stream(Principal.operator("acme"), created.view.id).record
    assert not attempt.delivered and attempt.error is not None and "loopback" in attempt.error
    assert len(receiver.received) == reached
    # The background follower's consumer is refused the same way.
    (plan,) = guarded.stream_plans()
    consumer = plan.build()
    try:
        outcome = consumer(LogBatch("acme", plan.name, 0, 0, ()))
    finally:
        consumer.close()  # type: ignore[attr-defined]
    assert not outcome.ok and not outcome.retryable
    assert outcome.error is not None and "loopback" in outcome.error
    assert len(receiver.received) == reached
    guarded.close()
    # An allowlisted network lets it through again.
    listed = AuditLog.open(
        settings=_settings(tmp_path, receiver, stream_allowed_networks="127.0.0.0/8, ::1/128")
    )
    assert listed.test_stream(Principal.operator("acme"), created.view.id).record.delivered
    listed.close()


def test_the_test_fixture_allows_local_receivers(stream_api: StreamApi) -> None:
    assert stream_api.log.settings.stream_allow_private_destinations is True
    assert stream_api.create()["destination"]["url"].startswith("https://localhost:")


def test_bad_allowed_networks_fail_loudly() -> None:
    from sealtrail.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="stream_allowed_networks"):
        Settings.load({"stream_allowed_networks": "10.0.0.0/8,nonsense"}, environ={})
