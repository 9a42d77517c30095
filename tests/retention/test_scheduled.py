"""The server prunes on its own every ``prune_interval`` seconds (its lifespan's chore)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.retention import RetentionPolicy
from sealtrail.server.app import create_app
from sealtrail.settings import Settings

from .conftest import event, write


def _until(condition: Callable[[], object], deadline: float = 60.0) -> None:
    """Wait for ``condition()`` to hold (the machine may be slow); fail after ``deadline``."""
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "the condition never held"
        time.sleep(0.05)


def test_the_server_prunes_on_its_schedule(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'scheduled.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        prune_interval=1,
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant("acme")
    write(log, [event(100), event(90), event(1)])
    log.set_retention(Principal.operator("acme"), RetentionPolicy(30))
    app = create_app(log, settings)
    with TestClient(app):
        _until(lambda: log.prunes("acme") and log.prunes("acme")[-1].finished_at is not None)
        chore = app.state.scheduled_pruning
        assert log.prunes("acme")[0].below == 2
    assert chore.runs >= 1
    assert log.verify_database(log.verifier_key).ok
    log.close()


def test_no_chore_when_the_interval_is_zero(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'never.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        prune_interval=0,
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    app = create_app(log, settings)
    with TestClient(app):
        assert app.state.scheduled_pruning.runs == 0
        assert not any(t.name == "sealtrail-pruning" for t in threading.enumerate())
    log.close()
