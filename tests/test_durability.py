"""An event acknowledged with 201 survives ``kill -9`` of the server."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.query import EventQuery
from sealtrail.settings import Settings

from .client.live_server import LiveServer, wait_until


def test_every_acknowledged_event_survives_sigkill(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    key = server.create_key("acme")
    server.start()
    acknowledged: list[str] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            n = 0
            while not stop.is_set():
                ids = [f"d{n}-{i}" for i in range(50)]
                batch = [
                    {"id": ident, "action": "auth.login", "actor": {"type": "user", "id": "u"}}
                    for ident in ids
                ]
                n += 1
                try:
                    response = client.post(
                        "/v1/events",
                        json={"events": batch},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    acknowledged.extend(ids)

    senders = [threading.Thread(target=send) for _ in range(3)]
    for sender in senders:
        sender.start()
    wait_until(lambda: len(acknowledged) >= 1500, 120, "1500 acknowledged events")
    server.kill()  # SIGKILL while requests are in flight
    stop.set()
    for sender in senders:
        sender.join()

    settings = Settings(
        database_url=server.database, signing_key_file=str(tmp_path / "signing.key")
    )
    log = AuditLog.open(settings=settings)
    try:
        stored = {
            e.id
            for chunk in log.stream(Principal.operator("acme"), EventQuery(order="asc"))
            for e in chunk
        }
        missing = [ident for ident in acknowledged if ident not in stored]
        assert not missing, f"{len(missing)} acknowledged events were lost, e.g. {missing[:3]}"
        report = log.verify_database(log.verifier_key)
        assert report.ok, report.problems
    finally:
        log.close()
