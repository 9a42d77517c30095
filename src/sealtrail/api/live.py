"""``GET /v1/events/stream``: the live tail, as Server-Sent Events.

Each new event the filters select is one SSE message: ``event: event``, ``id:`` its
seq, ``data:`` the event as ``GET /v1/events/{id}`` shows it (without the proof). A
client that reconnects sends the last id it saw as ``Last-Event-ID`` (browsers do it
themselves) and the tail resumes right after it: nothing is skipped, nothing sent
twice. When the tail reads past events the filters leave out, it sends an ``id:``
line alone, which moves the client's last id without an event, so a reconnect does
not read them again. The rules (scope, account, which seqs are safe to read) are
``AuditLog.tail``'s.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Final

import orjson
from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from sealtrail.api import schemas
from sealtrail.audit_log import AuditLog, Tail
from sealtrail.auth import Principal
from sealtrail.errors import InvalidQuery
from sealtrail.limits import MAX_OFFSET, TAIL_PING_SECONDS
from sealtrail.query import EventQuery, query_from_params
from sealtrail.server import deps
from sealtrail.server.requests import client_ip, query_lists
from sealtrail.server.tail import follow

router = APIRouter(prefix="/v1/events", tags=["events"])

NOT_FOR_THE_TAIL: Final = ("limit", "offset", "cursor", "order")
"""Search parameters a tail has no use for: it sends every new match, oldest first."""
_SEQ = re.compile(r"-?[0-9]{1,19}")


@router.get(
    "/stream",
    summary="Live tail: new matching events as Server-Sent Events (Last-Event-ID resumes)",
    response_class=EventSourceResponse,
    **schemas.operation(
        errors=(400, 422),
        auth="key_or_viewer",
        parameters=schemas.TAIL_PARAMETERS,
        responses={200: schemas.TAIL_RESPONSE},
    ),
)
async def stream_events(request: Request) -> EventSourceResponse:
    principal = deps.principal(request)
    params = query_lists(request)
    for name in NOT_FOR_THE_TAIL:
        if name in params:
            raise InvalidQuery(f"{name} does not apply to the live tail", name)
    query, _ = query_from_params(params, extra_allowed=("after_seq",))
    after = _resume_point(request.headers.get("last-event-id"), params.get("after_seq"))
    audit_log = deps.audit_log(request)
    first = await run_in_threadpool(audit_log.tail, principal, query, after)
    await run_in_threadpool(audit_log.record_tail, principal, query, ip=client_ip(request))
    return EventSourceResponse(
        _messages(request, audit_log, principal, query, first),
        ping=TAIL_PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _resume_point(header: str | None, values: list[str] | None) -> int | None:
    """The seq to resume after: ``Last-Event-ID`` (a reconnect), else ``after_seq``."""
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


async def _messages(
    request: Request, audit_log: AuditLog, principal: Principal, query: EventQuery, first: Tail
) -> AsyncIterator[ServerSentEvent]:
    told = first.last_seq
    async for tail in follow(request, audit_log, principal, query, first):
        for event in tail.events:
            data = orjson.dumps(event.to_dict()).decode()
            yield ServerSentEvent(data, event="event", id=str(event.seq))
        if tail.last_seq > told:
            if not tail.events or tail.events[-1].seq != tail.last_seq:
                yield ServerSentEvent(id=str(tail.last_seq))
            told = tail.last_seq
