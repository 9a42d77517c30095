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

from typing import Final

import orjson
from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from sealtrail.api import schemas
from sealtrail.errors import InvalidQuery
from sealtrail.events import Event
from sealtrail.limits import TAIL_PING_SECONDS
from sealtrail.query import query_from_params
from sealtrail.server import deps
from sealtrail.server.requests import client_ip, query_lists
from sealtrail.server.tail import messages, resume_point

router = APIRouter(prefix="/v1/events", tags=["events"])

NOT_FOR_THE_TAIL: Final = ("limit", "offset", "cursor", "order")
"""Search parameters a tail has no use for: it sends every new match, oldest first."""


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
    after = resume_point(request.headers.get("last-event-id"), params.get("after_seq"))
    audit_log = deps.audit_log(request)
    first = await run_in_threadpool(audit_log.tail, principal, query, after)
    await run_in_threadpool(audit_log.record_tail, principal, query, ip=client_ip(request))
    return EventSourceResponse(
        messages(request, audit_log, principal, query, first, event="event", render=_event_json),
        ping=TAIL_PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event_json(event: Event) -> str:
    return orjson.dumps(event.to_dict()).decode()
