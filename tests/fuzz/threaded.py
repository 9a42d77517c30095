"""Sealtrail's app served by uvicorn in a thread, on a loopback port: a live server that
starts in seconds, for the tests beside the fuzz run (which uses ``sealtrail serve``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from sealtrail.audit_log import AuditLog
from sealtrail.server.app import create_app
from sealtrail.settings import Settings
from tests.client.live_server import free_port


def settings_for(database_url: str, workdir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        signing_key_file=str(workdir / "signing.key"),
        detections=False,
        stream_delivery=False,
    )


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` on a free loopback port until the block ends; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, name="sealtrail-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def sealtrail_app(database_url: str, workdir: Path) -> Iterator[tuple[AuditLog, FastAPI]]:
    """A migrated log with tenant ``acme`` and the app over it."""
    settings = settings_for(database_url, workdir)
    log = AuditLog.open(settings=settings)
    try:
        log.migrate()
        log.create_tenant("acme")
        yield log, create_app(log, settings)
    finally:
        log.close()
