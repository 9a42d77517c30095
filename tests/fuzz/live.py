"""A real ``sealtrail serve`` for the fuzz run: loopback, its own database, one key of every scope.

The fuzzer talks HTTP to this process like any client would (not through TestClient),
so what it checks is what the server sends on the wire: headers, content types,
405s from the router and errors from every middleware.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sealtrail.audit_log import AuditLog
from sealtrail.auth import SCOPES
from sealtrail.limits import MAX_RATE
from sealtrail.settings import Settings
from tests.client.live_server import LiveServer

TENANT = "fuzz"


@dataclass(frozen=True)
class FuzzTarget:
    """A running server: its base URL and a key of its tenant holding every scope."""

    url: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@contextmanager
def serve(workdir: Path, database_url: str) -> Iterator[FuzzTarget]:
    """``sealtrail serve`` on ``database_url``, the rate limits out of the fuzzer's way (the
    limiter still runs and sends its headers), no stream delivery; generated destinations
    are pointed at loopback (``fuzzing.before_call``), which the operator allows here as
    an internal network."""
    ceiling = str(MAX_RATE)
    server = LiveServer(
        workdir,
        stream_delivery="false",
        rate_limit_key_writes=ceiling,
        rate_limit_tenant_writes=ceiling,
        rate_limit_key_reads=ceiling,
        rate_limit_tenant_reads=ceiling,
        stream_allowed_networks="127.0.0.1/32",
    )
    server.database = database_url
    # The tenant and its key in this process (three CLI starts would take longer).
    setup = AuditLog.open(
        settings=Settings(database_url=database_url, signing_key_file=str(workdir / "signing.key"))
    )
    try:
        setup.migrate()
        setup.create_tenant(TENANT)
        key = setup.create_api_key(TENANT, SCOPES, name="fuzz").plain
    finally:
        setup.close()
    server.start()
    try:
        yield FuzzTarget(server.url, key)
    finally:
        server.kill()
