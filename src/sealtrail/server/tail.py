"""Following the live tail over one open HTTP response (the API's SSE and the viewer's Live).

``follow`` looks at the log (``AuditLog.tail``) until the client goes away: at once while
it is behind, every ``TAIL_POLL_SECONDS`` once it has caught up. It checks the
credential again every ``REAUTHENTICATE_SECONDS`` and ends when it no longer holds, so
a revoked key or a signed-out viewer stops receiving events.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Final

import anyio
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sealtrail.audit_log import AuditLog, Tail
from sealtrail.auth import Principal
from sealtrail.errors import AuthenticationFailed, InvalidQuery
from sealtrail.events import Event
from sealtrail.limits import MAX_OFFSET, TAIL_POLL_SECONDS
from sealtrail.query import EventQuery
from sealtrail.server import deps

REAUTHENTICATE_SECONDS: Final = 30.0
"""A revoked key or an ended viewer session stops an open tail within this time."""
_SEQ = re.compile(r"-?[0-9]{1,19}")


def resume_point(header: str | None, values: list[str] | None) -> int | None:
    """The seq to resume after: ``Last-Event-ID`` (a reconnect), else ``after_seq``;
    None (from now on) without either. ``InvalidQuery`` names the bad one."""
    if header is not None and header.strip():
        seq = _seq(header)
        if seq is None:
            raise InvalidQuery("Last-Event-ID must be a seq this stream sent", "Last-Event-ID")
        return seq
    if values is None:
        return None
    seq = _seq(values[0]) if len(values) == 1 else None
    if seq is None:
        raise InvalidQuery("after_seq must be a seq, -1 or more", "after_seq")
    return seq


def _seq(text: str) -> int | None:
    """A seq from -1 to the largest a log can hold (a 64-bit integer), else None."""
    if not _SEQ.fullmatch(text.strip()):
        return None
    seq = int(text)
    return seq if -1 <= seq <= MAX_OFFSET else None


async def messages(
    request: Request,
    audit_log: AuditLog,
    principal: Principal,
    query: EventQuery,
    first: Tail,
    *,
    event: str,
    render: Callable[[Event], str],
) -> AsyncIterator[ServerSentEvent]:
    """The tail as SSE messages: each event ``render``ed (``id:`` its seq), and a bare
    ``id:`` line when a look read past events the filters left out, so a reconnect
    (``Last-Event-ID``) does not read them again."""
    told = first.last_seq
    async for tail in follow(request, audit_log, principal, query, first):
        for found in tail.events:
            yield ServerSentEvent(render(found), event=event, id=str(found.seq))
        if tail.last_seq > told:
            if not tail.events or tail.events[-1].seq != tail.last_seq:
                yield ServerSentEvent(id=str(tail.last_seq))
            told = tail.last_seq


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
