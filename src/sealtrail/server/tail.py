"""Following the live tail over one open HTTP response (the API's SSE and the viewer's Live).

``follow`` looks at the log (``AuditLog.tail``) until the client goes away: at once while
it is behind, every ``TAIL_POLL_SECONDS`` once it has caught up. It checks the
credential again every ``REAUTHENTICATE_SECONDS`` and ends when it no longer holds, so
a revoked key or a signed-out viewer stops receiving events.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Final

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sealtrail.audit_log import AuditLog, Tail
from sealtrail.auth import Principal
from sealtrail.errors import AuthenticationFailed
from sealtrail.limits import TAIL_POLL_SECONDS
from sealtrail.query import EventQuery
from sealtrail.server import deps

REAUTHENTICATE_SECONDS: Final = 30.0
"""A revoked key or an ended viewer session stops an open tail within this time."""


async def follow(
    request: Request, audit_log: AuditLog, principal: Principal, query: EventQuery, first: Tail
) -> AsyncIterator[Tail]:
    """``first``, then every later look of the tail, until the credential lapses."""
    tail = first
    checked = time.monotonic()
    while True:
        yield tail
        if tail.caught_up:
            await anyio.sleep(TAIL_POLL_SECONDS)
        if time.monotonic() - checked > REAUTHENTICATE_SECONDS:
            try:
                principal = await run_in_threadpool(deps.principal, request)
            except AuthenticationFailed:
                return
            checked = time.monotonic()
        tail = await run_in_threadpool(audit_log.tail, principal, query, tail.last_seq)
