"""Stream secrets are encrypted at rest: the database holds no HMAC secret or Ed25519
private key in the clear, only Fernet tokens under the operator's stream secrets key
(configured, or a key file made beside the signing key). Rows an older version stored in
the clear are encrypted by ``migrate``; ``streams rekey`` moves every row to a new key."""

from __future__ import annotations

import json
import logging
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from standardwebhooks import Webhook

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import ConfigurationError
from sealtrail.settings import Settings
from sealtrail.streams.config import SigningChoice, StreamSpec
from tests.stream_api.conftest import StreamApi
from tests.stream_api.test_stream_v1a import v1a_verifies
from tests.streams.webhook_receiver import Receiver


def _stored(database: str) -> dict[str, str]:
    path = database.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, secrets FROM streams").fetchall())


def _opened(stored: str, key: bytes) -> list[dict[str, object]]:
    assert stored.startswith("fernet:")
    return list(json.loads(Fernet(key).decrypt(stored.removeprefix("fernet:").encode())))


def test_the_database_holds_no_secret_in_the_clear(stream_api: StreamApi) -> None:
    v1 = stream_api.create()
    v1a = stream_api.create(name="ed", signing={"scheme": "v1a"})
    stored = _stored(stream_api.log.database_url)
    assert v1["secret"].removeprefix("whsec_") not in stored[v1["id"]]
    assert "whsec_" not in stored[v1["id"]] and "whsk_" not in stored[v1a["id"]]
    # No key was configured: one was made beside the signing key, for its owner only.
    key_file = Path(stream_api.log.settings.signing_key_file).with_name(
        "sealtrail-stream-secrets.key"
    )
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip().encode()
    assert _opened(stored[v1["id"]], key)[0]["secret"] == v1["secret"]
    private = str(_opened(stored[v1a["id"]], key)[0]["secret"])
    assert private.startswith("whsk_")
    # …and what the API shows after creation never holds either secret.
    for shown in (
        stream_api.call("GET", f"/v1/streams/{v1['id']}").text,
        stream_api.call("GET", "/v1/streams").text,
        stream_api.call("POST", f"/v1/streams/{v1a['id']}/rotate-secret").text,
        stream_api.call("GET", "/v1/events?limit=100").text,
    ):
        assert v1["secret"] not in shown and private not in shown and "whsk_" not in shown


def _log(tmp_path: Path, **settings: object) -> AuditLog:
    log = AuditLog.open(
        settings=Settings(
            database_url=f"sqlite:///{tmp_path / 'rest.db'}",
            signing_key_file=str(tmp_path / "signing.key"),
            stream_allow_private_destinations=True,
            detections=False,
            stream_delivery=False,
            **settings,  # type: ignore[arg-type]
        )
    )
    log.migrate()
    return log


def _spec(url: str, name: str = "siem") -> StreamSpec:
    return StreamSpec.from_body(
        {"name": name, "destination": {"type": "webhook", "url": url}, "format": "json"}
    )


def test_a_configured_key_is_used_and_no_key_file_is_made(
    tmp_path: Path, receiver: Receiver
) -> None:
    key = Fernet.generate_key()
    log = _log(tmp_path, stream_secrets_key=key.decode(), stream_ca_file=str(receiver.cert.cert))
    log.create_tenant("acme")
    created = log.create_stream(Principal.operator("acme"), _spec(receiver.url))
    stored = _stored(log.database_url)[created.view.id]
    assert _opened(stored, key)[0]["secret"] == created.secret
    assert not (tmp_path / "sealtrail-stream-secrets.key").exists()
    log.close()
    # Another key cannot open it, and says so.
    other = _log(tmp_path, stream_secrets_key=Fernet.generate_key().decode())
    with pytest.raises(ConfigurationError, match="do not decrypt"):
        other.get_stream(Principal.operator("acme"), created.view.id)
    other.close()


def test_migrate_encrypts_rows_stored_in_the_clear_and_they_still_sign(
    tmp_path: Path, receiver: Receiver
) -> None:
    key = Fernet.generate_key()
    log = _log(tmp_path, stream_secrets_key=key.decode(), stream_ca_file=str(receiver.cert.cert))
    log.create_tenant("acme")
    created = log.create_stream(Principal.operator("acme"), _spec(receiver.url))
    assert created.secret is not None
    # As an older Sealtrail stored it: the secret set as plain JSON.
    plain = json.dumps([{"secret": created.secret, "retires_at": None}])
    path = log.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE streams SET secrets = ?", (plain,))
    assert _stored(log.database_url)[created.view.id] == plain
    # Still read (a server mid-upgrade keeps delivering)…
    assert log.test_stream(Principal.operator("acme"), created.view.id).record.delivered
    log.migrate()
    stored = _stored(log.database_url)[created.view.id]
    assert stored.startswith("fernet:") and created.secret not in stored
    assert _opened(stored, key)[0]["secret"] == created.secret
    before = len(receiver.received)
    assert log.test_stream(Principal.operator("acme"), created.view.id).record.delivered
    request = receiver.received[before]
    Webhook(created.secret).verify(request.body, request.headers)
    log.close()


def test_rekey_moves_every_stream_to_the_new_key(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sealtrail.streams.sealing"):
        log = _log(tmp_path, stream_ca_file=str(receiver.cert.cert))
        log.create_tenant("acme")
        v1 = log.create_stream(Principal.operator("acme"), _spec(receiver.url))
    assert "made a new stream secrets key" in caplog.text  # the operator is told
    log.close()
    old = (tmp_path / "sealtrail-stream-secrets.key").read_text().strip()
    new = Fernet.generate_key()
    both = f"{new.decode()},{old}"
    log = _log(tmp_path, stream_secrets_key=both, stream_ca_file=str(receiver.cert.cert))
    v1a = log.create_stream(
        Principal.operator("acme"),
        _spec(receiver.url, "ed"),
        signing=SigningChoice("v1a"),
    )
    assert log.seal_stream_secrets() == 1  # the v1a stream is under the new key already
    assert log.seal_stream_secrets() == 0
    log.close()
    stored = _stored(f"sqlite:///{tmp_path / 'rest.db'}")
    for stream_id in (v1.view.id, v1a.view.id):
        _opened(stored[stream_id], new)  # opens with the new key alone
    # With only the new key, both streams still sign as before.
    log = _log(tmp_path, stream_secrets_key=new.decode(), stream_ca_file=str(receiver.cert.cert))
    assert v1.secret is not None
    before = len(receiver.received)
    assert log.test_stream(Principal.operator("acme"), v1.view.id).record.delivered
    Webhook(v1.secret).verify(receiver.received[before].body, receiver.received[before].headers)
    public_key = log.get_stream(Principal.operator("acme"), v1a.view.id).secrets.signing()
    assert public_key is not None
    before = len(receiver.received)
    assert log.test_stream(Principal.operator("acme"), v1a.view.id).record.delivered
    assert v1a_verifies(str(public_key["public_key"]), receiver.received[before])
    log.close()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "sealtrail-stream-secrets.key"
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o644)
    log = _log(tmp_path)
    log.create_tenant("acme")
    with pytest.raises(ConfigurationError, match="chmod 600"):
        log.create_stream(Principal.operator("acme"), _spec("https://siem.example.com/h"))
    log.close()
    with pytest.raises(ConfigurationError, match="Fernet key"):
        Settings.load({"stream_secrets_key": "not-a-key"}, environ={})
